/**
 * Margin series of one policy for one market over history, pure and causal: the maintenance margin in force
 * at each decision instant uses forecasts made at that instant and realised excursions whose windows had
 * closed by then. The risk part is scaled by filtered historical simulation (Eurex Prisma style): the scale
 * is chosen so that, over the trailing out-of-sample history, the policy's margin would have been exceeded
 * with probability 1 − c — for the governed (anticipatory) policy by bisection through the governor itself,
 * so its buffer, floor, steps and delays are priced into the coverage. A breach at origin u is
 * `mae[u] + liqCost[u] > margin[u]`: the move over H plus the cost of closing exceed the margin.
 */
import { AppError } from '../core/errors.ts';
import type { PolicyConfig } from './config.ts';
import { runGovernor, type BindingCounts, type MarginChange } from './governor.ts';

/** The policies the backtest compares (issue 4 item 5). */
export const POLICY_NAMES = ['static', 'ewma', 'garch', 'har', 'ml', 'ml-anticipatory'] as const;
/** A policy name. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The forecaster a policy reads (static reads none). */
export const POLICY_MODEL: Readonly<Record<PolicyName, string | undefined>> = {
  static: undefined, ewma: 'ewma', garch: 'garch', har: 'har', ml: 'ml', 'ml-anticipatory': 'ml',
};

/** Parses a comma-separated policy list. */
export function parsePolicies(list: string): PolicyName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.find((n) => !(POLICY_NAMES as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0) {
    throw new AppError('config', `Unknown policy "${bad ?? ''}": choose from ${POLICY_NAMES.join(', ')}.`, { context: { policies: list } });
  }
  return [...new Set(names)] as PolicyName[];
}

/** Per-origin inputs of one market, aligned (index u = origin bar u; the decision is at its close). */
export interface MarketSeries {
  readonly symbol: string;
  /** Origin bar open times; decision at originMs + barMs. */
  readonly originMs: Float64Array;
  readonly barMs: number;
  readonly horizonBars: number;
  /** Realised maximum adverse excursion over H, worse side (NaN where the window is incomplete). */
  readonly mae: Float64Array;
  /** Oracle latency buffer and liquidation cost of the reference position, fractions (market state at u). */
  readonly oracle: Float64Array;
  readonly liqCost: Float64Array;
  /** Long-lookback σ over H (the floor's volatility). */
  readonly sigmaLongH: Float64Array;
  /** Trailing realised σ over H (the fallback forecast while out-of-sample history is short). */
  readonly sigmaPastH: Float64Array;
  /** σ realised over the last H bars, scaled to H (the move already under way). */
  readonly sigmaRecentH: Float64Array;
}

/** A policy's margins over one market's history. */
export interface PolicySeries {
  readonly policy: PolicyName;
  readonly symbol: string;
  readonly originMs: Float64Array;
  /** Maintenance margin in force at each decision instant. */
  readonly margin: Float64Array;
  /** Scale applied at each instant (NaN for static). */
  readonly scale: Float64Array;
  /** Changes of the margin in force (every step for ungoverned policies). */
  readonly changes: readonly MarginChange[];
  readonly bindings?: BindingCounts;
  /** Governed policy: what it wanted at each step (target with APC buffer and floor) before steps and delays. */
  readonly desired?: Float64Array;
  /**
   * Initial margin at each instant. The anticipatory policy sets it from what it wants now (max of the margin in
   * force and the desired one) — it binds only new risk, so it needs no notice; the others from the margin in force.
   */
  readonly initialMargin: Float64Array;
  /** Steps clipped by the hard bounds of the maintenance margin. */
  readonly boundsClipped: number;
}

/** The `p`-quantile as an order statistic: the smallest x with at least ⌈p·n⌉ values ≤ x (so in-sample exceedances ≤ (1 − p)·n). */
export function orderQuantile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(p * values.length) - 1))]!;
}

/** First index whose label window closed by `t`: origin u is usable iff originMs[u] + (h + 1)·barMs ≤ t. */
function closedBefore(m: MarketSeries, t: number, from: number): number {
  const reach = (m.horizonBars + 1) * m.barMs;
  let hi = from;
  while (hi < m.originMs.length && m.originMs[hi]! + reach <= t) hi++;
  return hi;
}

/** Static policy: the lowest constant margin covering mae + liqCost at c over the training origins. */
export function staticMargin(m: MarketSeries, trainEndMs: number, c: number): number {
  const vals: number[] = [];
  const reach = (m.horizonBars + 1) * m.barMs;
  for (let u = 0; u < m.originMs.length && m.originMs[u]! + reach <= trainEndMs; u++) {
    const x = m.mae[u]! + m.liqCost[u]!;
    if (Number.isFinite(x)) vals.push(x);
  }
  if (vals.length === 0) throw new AppError('dataQuality', `${m.symbol}: no closed excursion before the test period to size the static margin; load more history.`);
  return orderQuantile(vals, c);
}

/** Options of {@link policySeries}. */
export interface PolicySeriesInput {
  readonly policy: PolicyName;
  readonly market: MarketSeries;
  /** Forecast σ over H at each origin (NaN before the model's first forecast). */
  readonly sigmaH?: Float64Array;
  /** Spike probability at each origin (anticipatory policy). */
  readonly spikeProb?: Float64Array;
  readonly cfg: PolicyConfig;
  /** End of the static policy's training window (its test start). */
  readonly trainEndMs: number;
}

/** Target risk part before scaling: σ̂ (× spike uplift for the anticipatory policy). */
function baseTarget(inp: PolicySeriesInput, u: number): number {
  const s = inp.sigmaH?.[u] ?? Number.NaN;
  const sigma = Number.isFinite(s) && s > 0 ? s : inp.market.sigmaPastH[u]!;
  if (inp.policy !== 'ml-anticipatory') return sigma;
  const p = inp.spikeProb?.[u] ?? Number.NaN;
  const anticipated = sigma * (1 + inp.cfg.governor.spikeUplift * (Number.isFinite(p) ? p : 0));
  // Reaction guard: a move already under way is priced in even when the model did not see it coming.
  const recent = inp.cfg.governor.recentMoveWeight * inp.market.sigmaRecentH[u]!;
  return Number.isFinite(recent) && recent > anticipated ? recent : anticipated;
}

/** Governed margins over origins [from, to) with scale s; returns in-force margins and the governor output. */
function governed(inp: PolicySeriesInput, s: Float64Array | number, from: number, to: number, initial?: number) {
  const m = inp.market;
  const n = to - from;
  const decisionMs = new Float64Array(n);
  const target = new Float64Array(n);
  const floor = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = from + i;
    const k = typeof s === 'number' ? s : s[u]!;
    const add = m.oracle[u]! + m.liqCost[u]!;
    decisionMs[i] = m.originMs[u]! + m.barMs;
    target[i] = k * baseTarget(inp, u) + add;
    floor[i] = inp.cfg.governor.floorFraction * k * m.sigmaLongH[u]! + add;
  }
  return runGovernor({ decisionMs, target, floor, cfg: inp.cfg.governor, ...(initial !== undefined ? { initial } : {}) });
}

/** Breach rate of margins `margin[i]` (origin from + i) over origins whose labels closed, or NaN if too few. */
function breachRate(m: MarketSeries, margin: Float64Array, from: number, upto: number, minObs: number): number {
  let x = 0;
  let n = 0;
  for (let u = from; u < upto; u++) {
    const l = m.mae[u]! + m.liqCost[u]!;
    const g = margin[u - from]!;
    if (!Number.isFinite(l) || !Number.isFinite(g)) continue;
    n++;
    if (l > g) x++;
  }
  return n >= minObs ? x / n : Number.NaN;
}

/** The scale at decision instant t: from the trailing window of closed out-of-sample labels. */
function scaleAt(inp: PolicySeriesInput, t: number): number {
  const m = inp.market;
  const { cfg } = inp;
  const lookFrom = t - cfg.scale.lookbackDays * 86_400_000;
  let from = 0;
  while (from < m.originMs.length && m.originMs[from]! < lookFrom) from++;
  const upto = closedBefore(m, t, from);
  const useForecast = (u: number): boolean => Number.isFinite(inp.sigmaH?.[u] ?? Number.NaN);
  let forecastObs = 0;
  for (let u = from; u < upto; u++) if (useForecast(u) && Number.isFinite(m.mae[u]!)) forecastObs++;
  if (inp.policy !== 'ml-anticipatory') {
    const ratios: number[] = [];
    const enough = forecastObs >= cfg.scale.minObservations;
    for (let u = from; u < upto; u++) {
      // Until the model has enough out-of-sample history, the trailing realised σ stands in (warm-up).
      if (enough && !useForecast(u)) continue;
      const r = (m.mae[u]! - m.oracle[u]!) / baseTarget(enough ? inp : { ...inp, sigmaH: undefined }, u);
      if (Number.isFinite(r)) ratios.push(r);
    }
    return ratios.length > 0 ? orderQuantile(ratios, cfg.confidence) : Number.NaN;
  }
  if (upto - from < cfg.scale.minObservations) return Number.NaN;
  // Bisection on s: the governed margin's breach rate over the window falls as s rises.
  const goal = 1 - cfg.confidence;
  let lo = 0;
  let hi = 1;
  const rate = (s: number): number => breachRate(m, governed(inp, s, from, upto).inForce, from, upto, cfg.scale.minObservations);
  for (let k = 0; k < 20 && rate(hi) > goal; k++) hi *= 2;
  for (let k = 0; k < 24; k++) {
    const mid = (lo + hi) / 2;
    if (rate(mid) > goal) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Initial margin: (1 + initialBufferRatio) × max(margin, desired), at most 1. */
function initialFrom(margin: Float64Array, desired: Float64Array | undefined, cfg: PolicyConfig): Float64Array {
  return margin.map((x, u) => {
    const d = desired?.[u] ?? Number.NaN;
    const base = Number.isFinite(d) && d > x ? Math.min(d, cfg.bounds.maxMaintenance) : x;
    return Math.min(1, base * (1 + cfg.initialBufferRatio));
  });
}

/**
 * The margin in force of one policy at every origin of `market`: static (constant from the training window),
 * the ungoverned risk-based policies (scale × σ̂ + oracle buffer + liquidation cost, changed at every step),
 * and ml-anticipatory (ML σ̂ × spike uplift through the governor). Hard bounds clip the result.
 */
export function policySeries(inp: PolicySeriesInput): PolicySeries {
  const m = inp.market;
  const n = m.originMs.length;
  const { minMaintenance, maxMaintenance } = inp.cfg.bounds;
  const margin = new Float64Array(n);
  const scale = new Float64Array(n).fill(Number.NaN);
  let boundsClipped = 0;
  const clip = (x: number): number => {
    const y = Math.min(maxMaintenance, Math.max(minMaintenance, x));
    if (y !== x) boundsClipped++;
    return y;
  };
  if (inp.policy === 'static') {
    const mm = clip(staticMargin(m, inp.trainEndMs, inp.cfg.confidence));
    margin.fill(mm);
    return { policy: inp.policy, symbol: m.symbol, originMs: m.originMs, margin, initialMargin: initialFrom(margin, undefined, inp.cfg), scale, changes: [{ announcedMs: m.originMs[0]! + m.barMs, effectiveMs: m.originMs[0]! + m.barMs, from: Number.NaN, to: mm }], boundsClipped };
  }
  // Scale recalibrated every cfg.scale.everyMs, piecewise constant in between.
  let nextAt = Number.NEGATIVE_INFINITY;
  let s = Number.NaN;
  for (let u = 0; u < n; u++) {
    const t = m.originMs[u]! + m.barMs;
    if (t >= nextAt) {
      const fresh = scaleAt(inp, t);
      if (Number.isFinite(fresh)) s = fresh;
      nextAt = t + inp.cfg.scale.everyMs;
    }
    scale[u] = s;
  }
  if (inp.policy !== 'ml-anticipatory') {
    const changes: MarginChange[] = [];
    let prev = Number.NaN;
    for (let u = 0; u < n; u++) {
      const t = m.originMs[u]! + m.barMs;
      const x = scale[u]! * baseTarget(inp, u) + m.oracle[u]! + m.liqCost[u]!;
      margin[u] = Number.isFinite(x) ? clip(x) : prev;
      if (margin[u] !== prev && Number.isFinite(margin[u]!)) changes.push({ announcedMs: t, effectiveMs: t, from: prev, to: margin[u]! });
      prev = margin[u]!;
    }
    return { policy: inp.policy, symbol: m.symbol, originMs: m.originMs, margin, initialMargin: initialFrom(margin, undefined, inp.cfg), scale, changes, boundsClipped };
  }
  const g = governed(inp, scale, 0, n);
  for (let u = 0; u < n; u++) margin[u] = Number.isFinite(g.inForce[u]!) ? clip(g.inForce[u]!) : Number.NaN;
  const changes = g.changes.map((c) => ({ ...c, to: Math.min(maxMaintenance, Math.max(minMaintenance, c.to)) }));
  return { policy: inp.policy, symbol: m.symbol, originMs: m.originMs, margin, initialMargin: initialFrom(margin, g.desired, inp.cfg), scale, changes, bindings: g.bindings, desired: g.desired, boundsClipped };
}
