/**
 * Builds the report model of a run from what the pipeline produced: the recommendation (with history), the live
 * values before the run, the parameter store's outcome and the backtest. Pure: no clock, no I/O, deterministic.
 */
import type { BacktestReport, BacktestRow } from '../calibration/backtest.ts';
import type { BreakerReason } from '../calibration/circuit-breakers.ts';
import type { MarketHistory, MarketRecommendation, RecommendReport } from '../calibration/recommend.ts';
import { iso } from '../core/time.ts';
import type { CircuitBreakerValue, LeverageTier, ParamValue, UpdateType } from '../params/record.ts';
import type { PipelineResult } from '../params/store.ts';
import { delta, pct, PARAMETER_NAMES, pval, value } from './format.ts';
import {
  MAX_POINTS_PER_SERIES, REPORT_MODEL_VERSION, type BacktestSection, type ChartSeries, type MarketSection, type Outcome,
  type ParameterRow, type PolicyRow, type Publication, type ReportModel,
} from './model.ts';
import { tradeoffSentences } from './tradeoffs.ts';

/** What a pipeline run hands the report stage. Times are epoch ms, UTC. */
export interface ReportInput {
  readonly run: {
    readonly id: string; readonly pipeline: string | null; readonly status: string; readonly startedAtMs: number; readonly endedAtMs: number | null;
    readonly configHash: string | null; readonly gitSha: string | null; readonly seed: number | null; readonly dataWatermarkMs: number | null;
  };
  /** From `recommend({ includeHistory: true })`; without history the charts of a market are empty. */
  readonly recommend: RecommendReport;
  /** Live published values per market before this run (the "current" column). */
  readonly previous: Readonly<Record<string, Partial<Record<UpdateType, ParamValue>>>>;
  /** The proposeApprovePublish result, if the run published. */
  readonly published?: PipelineResult;
  /** The policy comparison, if the pipeline ran one. */
  readonly backtest?: BacktestReport;
}

const SCALARS = [
  ['maintenanceMarginRatio', 'fraction'], ['initialMarginRatio', 'fraction'], ['liquidationPenalty', 'fraction'],
  ['oracleLatencyBufferBps', 'bps'], ['closeFactor', 'fraction'], ['maxLeverage', 'x'],
] as const;

/** A finite number, or null (NaN and ±∞ are not JSON). */
export function fin(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Builds the versioned, JSON-serialisable report model of one run. Pure and deterministic. */
export function buildReportModel(input: ReportInput): ReportModel {
  const rec = input.recommend;
  const outcomeOf = outcomes(input.published);
  const markets = rec.recommendations.map((r) => marketSection(r, input.previous[r.market] ?? {}, rec.confidence, input.published ? outcomeOf : undefined));
  const backtest = input.backtest ? backtestSection(input.backtest) : null;
  const publication = input.published ? publicationOf(input.published) : null;
  const tradeoffs = tradeoffSentences(rec.policy, backtest, markets, rec.confidence);
  const model: ReportModel = {
    version: REPORT_MODEL_VERSION,
    run: {
      id: input.run.id, pipeline: input.run.pipeline, status: input.run.status, startedAt: iso(input.run.startedAtMs),
      endedAt: input.run.endedAtMs === null ? null : iso(input.run.endedAtMs), configHash: input.run.configHash, gitSha: input.run.gitSha,
      seed: input.run.seed, dataWatermark: input.run.dataWatermarkMs === null ? null : iso(input.run.dataWatermarkMs),
    },
    policy: {
      name: rec.policy, model: rec.recommendations[0]?.forecast.model ?? null, confidence: rec.confidence, horizon: rec.horizon,
      interval: rec.interval, venue: rec.venue,
    },
    summary: [],
    markets,
    publication,
    backtest,
    tradeoffs,
    series: rec.recommendations.filter((r) => r.history).map((r) => chartSeries(r.market, r.history!)),
  };
  return { ...model, summary: summary(model) };
}

type OutcomeOf = (market: string, type: UpdateType) => Outcome;

/** Looks up what became of each (market, type) proposal of the run. */
function outcomes(p: PipelineResult | undefined): OutcomeOf {
  const none: Outcome = { status: 'not proposed', updateId: null, detail: null };
  if (!p) return () => none;
  return (market, type) => {
    const rec = p.proposed.find((r) => r.market === market && r.updateType === type);
    if (!rec) return none;
    const pub = p.published.find((r) => r.updateId === rec.updateId);
    if (pub) return { status: 'published', updateId: rec.updateId, detail: pub.version === null ? null : `version ${pub.version}` };
    const ref = p.refused.find((r) => r.updateId === rec.updateId);
    if (ref) return { status: 'refused', updateId: rec.updateId, detail: `${ref.rule}: ${ref.message}` };
    const w = p.waiting.find((r) => r.updateId === rec.updateId);
    if (w) return { status: 'held', updateId: rec.updateId, detail: w.reason };
    return { status: 'not published', updateId: rec.updateId, detail: rec.rejection ? `${rec.rejection.rule}: ${rec.rejection.message}` : `state ${rec.state}` };
  };
}

function publicationOf(p: PipelineResult): Publication {
  const where = (id: number): { market: string | null; updateType: string | null } => {
    const r = p.proposed.find((x) => x.updateId === id);
    return { market: r?.market ?? null, updateType: r?.updateType ?? null };
  };
  return {
    proposed: p.proposed.length,
    published: p.published.map((r) => ({ updateId: r.updateId, market: r.market, updateType: r.updateType, version: r.version })),
    held: p.waiting.map((w) => ({ updateId: w.updateId, ...where(w.updateId), reason: w.reason })),
    refused: p.refused.map((x) => ({ updateId: x.updateId, ...where(x.updateId), rule: x.rule, message: x.message })),
  };
}

function marketSection(r: MarketRecommendation, prev: Partial<Record<UpdateType, ParamValue>>, confidence: number, outcomeOf: OutcomeOf | undefined): MarketSection {
  const out = outcomeOf ?? ((): Outcome => ({ status: 'not proposed', updateId: null, detail: null }));
  const parameters: ParameterRow[] = SCALARS.map(([type, unit]) => {
    const why = r.rationale.find((x) => x.parameter === type);
    const before = typeof prev[type] === 'number' ? fin(prev[type] as number) : null;
    const after = fin(r.params[type]);
    const d = before !== null && after !== null ? after - before : null;
    return {
      parameter: type, unit, previous: before, recommended: after, delta: d, relative: d !== null && before !== 0 ? d / before! : null,
      reason: why?.text ?? '', drivers: Object.fromEntries(Object.entries(why?.drivers ?? {}).map(([k, v]) => [k, fin(v)])),
      clippedBy: [...(why?.clippedBy ?? [])], outcome: out(r.market, type),
    };
  });
  const prevTiers = Array.isArray(prev.leverageTiers) ? (prev.leverageTiers as LeverageTier[]).map((t) => ({ ...t })) : null;
  const tiers = r.params.leverageTiers.map((t) => ({ ...t }));
  const prevBreaker = prev.circuitBreaker && typeof prev.circuitBreaker === 'object' && !Array.isArray(prev.circuitBreaker) ? (prev.circuitBreaker as CircuitBreakerValue).state : null;
  const cb = r.circuitBreaker;
  return {
    market: r.market, asOf: r.asOf, policy: r.policy,
    forecast: { model: r.forecast.model, sigmaH: fin(r.forecast.sigmaH), spikeProb: fin(r.forecast.spikeProb), horizon: r.forecast.horizon },
    parameters,
    leverageTiers: { previous: prevTiers, recommended: tiers, changed: prevTiers === null || JSON.stringify(prevTiers) !== JSON.stringify(tiers), outcome: out(r.market, 'leverageTiers') },
    circuitBreaker: {
      previous: prevBreaker, state: cb.state, reasons: cb.reasons.map(reason),
      blocked: Object.entries(cb.blocked).filter(([, v]) => v).map(([k]) => k), outcome: out(r.market, 'circuitBreaker'),
    },
    governor: {
      inForce: fin(r.currentMaintenanceMarginRatio),
      change: r.change ? { from: fin(r.change.from), to: fin(r.change.to), announcedAt: r.change.announcedAt, effectiveAt: r.change.effectiveAt } : null,
    },
    coverage: { observations: r.validation.observations, breaches: r.validation.breaches, breachRate: fin(r.validation.breachRate), expectedRate: 1 - confidence, kupiecP: fin(r.validation.kupiecP) },
  };
}

/** Each breaker driver's name and how its values (and thresholds) read, in their units. */
const DRIVERS: Readonly<Record<string, readonly [string, (v: number) => string]>> = {
  spikeProb: ['spike probability', (v) => pct(v, 1)],
  sigmaMoveRatio: ['day-over-day move of forecast σ', (v) => `×${v.toFixed(2)}`],
  divergenceBps: ['cross-venue divergence', (v) => `${v.toFixed(1)} bps`],
  dataAgeMs: ['data age', (v) => `${(v / 3_600_000).toFixed(1)} h`],
  liquidityCollapse: ['volume collapse (trailing median ÷ this hour)', (v) => `×${v.toFixed(2)}`],
  fundingRate8hAbs: ['|funding| per 8 h', (v) => pct(v, 3)],
  priceInvalid: ['invalid price', (v) => (v ? 'yes' : 'no')],
  dwell: ['time in state', (v) => `${(v / 3_600_000).toFixed(1)} h`],
};

function reason(b: BreakerReason): MarketSection['circuitBreaker']['reasons'][number] {
  const [label, f] = DRIVERS[b.driver] ?? [b.driver, (v: number) => String(v)];
  const v = fin(b.value);
  const th = fin(b.threshold);
  const limit = th === null ? '' : b.driver === 'dwell' ? ` (minimum dwell ${f(th)})` : ` (threshold ${f(th)})`;
  const text = `${label} ${v === null ? 'not known' : f(v)}${limit} → ${b.state}${b.known ? '' : ', held at its last known level'}`;
  return { driver: b.driver, value: v, threshold: th, state: b.state, known: b.known, text };
}

function policyRow(r: BacktestRow): PolicyRow {
  return {
    policy: r.policy, symbol: r.symbol, observations: r.observations, breaches: r.breaches, breachRate: fin(r.breachRate), kupiecP: fin(r.kupiecP),
    christoffersenP: fin(r.christoffersenP), baselZone: r.baselZone, meanMarginRatio: fin(r.meanMarginRatio), maxIncrease30d: fin(r.maxIncrease30d),
    peakToTrough: fin(r.peakToTrough), changes: r.changes, badDebtUsd: fin(r.badDebtUsd), liquidations: fin(r.liquidations), healthyLiquidatedByChange: r.healthyLiquidatedByChange,
  };
}

function backtestSection(b: BacktestReport): BacktestSection {
  return {
    from: b.from, to: b.to, confidence: b.confidence, horizon: b.horizon, symbols: [...b.symbols], folds: b.folds, seed: b.seed,
    episodes: b.episodes.map((e) => ({ ...e })),
    pooled: b.policies.filter((r) => r.symbol === 'pooled').map(policyRow),
    perMarket: b.policies.filter((r) => r.symbol !== 'pooled').map(policyRow),
  };
}

/**
 * Indices of `n` points kept for a chart: all of them up to `max`, else per bucket the first point and the peaks of
 * `keys` (so volatility spikes and margin peaks survive), at most `max` in all (max ≥ keys.length + 2), in time order.
 */
export function downsampleIndices(n: number, keys: readonly (readonly (number | null)[])[], max = MAX_POINTS_PER_SERIES): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const per = 1 + keys.length;
  const buckets = Math.max(1, Math.floor((max - 1) / per)); // + the last point
  const keep = new Set<number>();
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    keep.add(lo);
    for (const k of keys) {
      let best = -1;
      for (let i = lo; i < hi; i++) if (k[i] !== null && Number.isFinite(k[i]!) && (best < 0 || k[i]! > k[best]!)) best = i;
      if (best >= 0) keep.add(best);
    }
  }
  keep.add(n - 1);
  return [...keep].sort((a, b) => a - b);
}

/** The chart series of one market's history: downsampled lines, every breach, and the breaker state as bands. */
export function chartSeries(market: string, h: MarketHistory): ChartSeries {
  const n = Math.min(h.timeMs.length, h.sigmaH.length, h.realisedSigmaH.length, h.margin.length, h.breach.length, h.spikeProb.length);
  const realised = h.realisedSigmaH.slice(0, n).map(fin);
  const margin = h.margin.slice(0, n).map(fin);
  const idx = downsampleIndices(n, [realised, margin]);
  const step = n > 1 ? h.timeMs[1]! - h.timeMs[0]! : 3_600_000;
  const bands: ChartSeries['breakerBands'] = [];
  const m = Math.min(n, h.breaker.length);
  for (let i = 0; i < m; i++) {
    const to = i + 1 < m ? h.timeMs[i + 1]! : h.timeMs[i]! + step;
    const last = bands.at(-1);
    if (last && last.state === h.breaker[i]) last.toMs = to;
    else bands.push({ fromMs: h.timeMs[i]!, toMs: to, state: h.breaker[i]! });
  }
  const breaches = Array.from({ length: n }, (_, i) => i).filter((i) => h.breach[i]);
  return {
    market, sourcePoints: n,
    timeMs: idx.map((i) => h.timeMs[i]!), sigmaH: idx.map((i) => fin(h.sigmaH[i])), realisedSigmaH: idx.map((i) => realised[i]!),
    margin: idx.map((i) => margin[i]!), breachTimeMs: breaches.map((i) => h.timeMs[i]!), breachMargin: breaches.map((i) => margin[i]!),
    spikeProb: idx.map((i) => fin(h.spikeProb[i])), breakerBands: bands,
  };
}

/** The short summary that opens the report: what changed, what was published, the breakers, the validation. */
function summary(m: ReportModel): string[] {
  const out: string[] = [];
  const who = m.run.pipeline ? `Run ${m.run.id} of pipeline ${m.run.pipeline}` : `Run ${m.run.id}`;
  out.push(`${who} (${m.run.status}) recommends the ${m.policy.name} policy's parameters for ${m.markets.length} market${m.markets.length === 1 ? '' : 's'} at ${m.policy.confidence} confidence over ${m.policy.horizon}.`);
  for (const s of m.markets) {
    const mm = s.parameters.find((p) => p.parameter === 'maintenanceMarginRatio')!;
    const lev = s.parameters.find((p) => p.parameter === 'maxLeverage')!;
    const move = mm.previous === null ? `set to ${value(mm.recommended, 'fraction')} (no live value before)` : mm.delta === 0 ? `unchanged at ${value(mm.recommended, 'fraction')}` : `${value(mm.previous, 'fraction')} → ${value(mm.recommended, 'fraction')} (${delta(mm.delta, 'fraction')})`;
    const clip = mm.clippedBy.length ? `, held by ${mm.clippedBy.join('; ')}` : '';
    const o = mm.outcome;
    const fate = o.status === 'refused' ? ` — refused by the ${o.detail?.split(':')[0] ?? ''} rail, ${value(mm.previous, 'fraction')} stays live` : o.status === 'held' ? ' — held back' : '';
    out.push(`${s.market}: ${PARAMETER_NAMES.maintenanceMarginRatio} ${move}${clip}${fate}; maximum leverage ${value(lev.recommended, 'x')}; circuit breaker ${s.circuitBreaker.state}.`);
  }
  if (m.publication) {
    const p = m.publication;
    const rules = [...new Set(p.refused.map((r) => r.rule))];
    out.push(`Of ${p.proposed} proposed updates, ${p.published.length} were published, ${p.held.length} held back and ${p.refused.length} refused by the guard rails${rules.length ? ` (${rules.join(', ')})` : ''}.`);
  } else out.push('This run published nothing: the values above are recommendations only.');
  const obs = m.markets.reduce((a, s) => a + s.coverage.observations, 0);
  const br = m.markets.reduce((a, s) => a + s.coverage.breaches, 0);
  const worst = [...m.markets].sort((a, b) => (a.coverage.kupiecP ?? 1) - (b.coverage.kupiecP ?? 1))[0];
  if (obs > 0) out.push(`Over the calibration window the margins were breached in ${br} of ${obs} non-overlapping ${m.policy.horizon} horizons (${pct(br / obs)} against a ${pct(1 - m.policy.confidence)} target${worst ? `; lowest Kupiec p ${pval(worst.coverage.kupiecP)} on ${worst.market}` : ''}).`);
  const net = m.tradeoffs.find((t) => t.startsWith('Net:')) ?? m.tradeoffs[0];
  if (net) out.push(net);
  return out;
}
