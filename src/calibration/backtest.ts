/**
 * `liqcal backtest`: validates margin policies over history, walk-forward with no look-ahead (issue 4 item 5).
 * The forecasters the policies read are refitted on expanding windows (one-horizon embargo) and forecast every
 * origin from `warmupDays` before the test start; each policy's margin at an origin uses only those forecasts
 * and excursions that had closed by then; coverage, procyclicality and capital are measured over the test
 * period, and every policy is replayed through the liquidation simulator over the stress episodes in it.
 */
import { AppError } from '../core/errors.ts';
import { intervalMs, iso, type Interval } from '../core/time.ts';
import { loadFeatureFrames } from '../features/build.ts';
import type { FeatureFrame } from '../features/frame.ts';
import { horizonBars as parseHorizon } from '../forecasting/horizon.ts';
import type { ForecasterSpec } from '../forecasting/forecaster.ts';
import type { FoldInfo, WalkForwardResult } from '../forecasting/walk-forward.ts';
import { resolveBarVenue } from '../ingest/series-venue.ts';
import type { MarketData } from '../store/market-data.ts';
import { coverageRow, pooledRow, testRange, type CoverageRow, type Hits } from './backtest-metrics.ts';
import { breakerInputs } from './breaker-inputs.ts';
import { breakerStats, DEFAULT_BREAKER_CONFIG, runBreakers, type BreakerStats, type BreakerStep } from './circuit-breakers.ts';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from './config.ts';
import { marketSeries, marketStates, sliceMarket } from './market-series.ts';
import { POLICY_MODEL, policySeries, type MarketSeries, type PolicyName, type PolicySeries } from './policy-series.ts';
import { stressEpisodes, stressRow, type Episode, type StressRow, type StressSettings } from './stress.ts';
import type { BindingCounts } from './governor.ts';

const DAY_MS = 86_400_000;

/** Options of {@link runBacktest}. Times are epoch ms, UTC. */
export interface BacktestOptions {
  readonly md: MarketData;
  readonly symbols: readonly string[];
  readonly interval: Interval;
  readonly fromMs: number;
  readonly toMs: number;
  readonly policies: readonly PolicyName[];
  readonly venue?: string;
  /** Policy configuration; `confidence` and `horizon` here override it. */
  readonly config?: PolicyConfig;
  readonly confidence?: number;
  readonly horizon?: string;
  /** Refit the forecasters every this many days (default 90). */
  readonly retrainEveryDays?: number;
  /** Out-of-sample history before the test start that calibrates the scale (default 180 days). */
  readonly warmupDays?: number;
  readonly seed?: number;
  /** Stress replay; `seeds: 0` skips it. */
  readonly stress?: Partial<StressSettings>;
  readonly onFold?: (info: FoldInfo) => void;
  /** Forecaster specs by model name, replacing the registry's (e.g. a smaller `ml` for tests). */
  readonly modelSpecs?: Readonly<Record<string, ForecasterSpec>>;
  /** Out-of-sample forecasts already computed for these frames and dates (skips the walk-forward). */
  readonly precomputed?: WalkForwardResult;
}

/** One entry of the report: coverage, procyclicality, capital and the stress replay of a policy on a market. */
export type BacktestRow = CoverageRow & Omit<StressRow, 'policy' | 'symbol'> & {
  readonly bindings?: BindingCounts;
  readonly boundsClipped: number;
  /** Anticipatory policy: share of test decisions in each circuit-breaker state, and the number of transitions. */
  readonly breakers?: { readonly share: Readonly<Record<string, number>>; readonly transitions: number };
};

/** The JSON report of `liqcal backtest`. */
export interface BacktestReport {
  readonly confidence: number;
  readonly horizon: string;
  readonly horizonBars: number;
  readonly interval: Interval;
  readonly venue: string;
  readonly from: string;
  readonly to: string;
  readonly symbols: readonly string[];
  readonly retrainEveryDays: number;
  readonly warmupDays: number;
  readonly folds: number;
  readonly seed: number;
  readonly policies: readonly BacktestRow[];
  readonly episodes: readonly { name: string; from: string; to: string }[];
  readonly timing: { readonly forecastMs: number; readonly policiesMs: number; readonly stressMs: number };
  readonly elapsedMs: number;
}

/** σ over H and spike probability of one model, aligned with the frame's bars. */
export interface Aligned {
  readonly sigmaH: Float64Array;
  readonly spikeProb: Float64Array;
}

/** A model's out-of-sample σ over H and spike probability placed at the frame's bars (NaN where it made no forecast). */
export function alignForecasts(frame: FeatureFrame, wf: WalkForwardResult | undefined, model: string): Aligned {
  const n = frame.timeMs.length;
  const sigmaH = new Float64Array(n).fill(Number.NaN);
  const spikeProb = new Float64Array(n).fill(Number.NaN);
  const s = wf?.series.find((x) => x.model === model && x.symbol === frame.symbol);
  if (s) {
    let t = 0;
    s.originMs.forEach((o, i) => {
      while (t < n && frame.timeMs[t]! < o) t++;
      if (t < n && frame.timeMs[t] === o) {
        sigmaH[t] = Math.sqrt(Math.max(0, s.forecast[i]!));
        if (s.spikeProb) spikeProb[t] = s.spikeProb[i]!;
      }
    });
  }
  return { sigmaH, spikeProb };
}

/** Runs the forecasters the policies need from the warm-up start, or nothing for static-only runs. */
export async function forecasts(opts: BacktestOptions, frames: FeatureFrame[], h: number, wfFromMs: number, retrainEveryDays: number, seed: number): Promise<WalkForwardResult | undefined> {
  const models = [...new Set(opts.policies.map((p) => POLICY_MODEL[p]).filter((m): m is string => m !== undefined))];
  if (models.length === 0) return undefined;
  const [{ forecasterFor }, { runWalkForward }] = await Promise.all([import('./forecasters.ts'), import('../forecasting/walk-forward.ts')]);
  return runWalkForward({
    frames, forecasters: models.map((m) => forecasterFor(m, opts.modelSpecs)), horizonBars: h, stepMs: intervalMs(opts.interval),
    testFromMs: wfFromMs, testToMs: opts.toMs, retrainEveryMs: retrainEveryDays * DAY_MS, seed,
    ...(opts.onFold ? { onFold: opts.onFold } : {}),
  });
}

/**
 * Backtests every policy on every symbol; rows per policy × symbol and a `pooled` row per policy. Works on any
 * symbols with enough history (a year before the test start is plenty): nothing is tuned per symbol.
 */
export async function runBacktest(opts: BacktestOptions): Promise<BacktestReport> {
  const t0 = performance.now();
  if (!(opts.fromMs < opts.toMs)) throw new AppError('config', `--from ${iso(opts.fromMs)} must be before --to ${iso(opts.toMs)}.`);
  if (opts.policies.length === 0) throw new AppError('config', 'Name at least one policy with --policies.');
  const base = opts.config ?? DEFAULT_POLICY_CONFIG;
  const cfg: PolicyConfig = { ...base, confidence: opts.confidence ?? base.confidence, horizon: opts.horizon ?? base.horizon };
  const h = parseHorizon(cfg.horizon, opts.interval);
  const barMs = intervalMs(opts.interval);
  const venue = resolveBarVenue(opts.md, opts.symbols, opts.interval, opts.venue);
  const retrainEveryDays = opts.retrainEveryDays ?? 90;
  const warmupDays = opts.warmupDays ?? 180;
  const seed = opts.seed ?? 42;
  const wfFromMs = opts.fromMs - warmupDays * DAY_MS;
  const frames = loadFeatureFrames(opts.md, { venue, symbols: opts.symbols, interval: opts.interval, toMs: opts.toMs + (h + 1) * barMs });
  for (const f of frames) {
    if (!(f.timeMs[0]! + 30 * DAY_MS <= wfFromMs)) {
      throw new AppError('dataQuality', `${f.symbol} starts at ${iso(f.timeMs[0]!)}: the backtest needs at least 30 days of bars before ${iso(wfFromMs)} (test start ${iso(opts.fromMs)} minus ${warmupDays} warm-up days). Load more history or start the test later.`, { context: { symbol: f.symbol } });
    }
  }

  const tf = performance.now();
  const wf = opts.precomputed ?? (await forecasts(opts, frames, h, wfFromMs, retrainEveryDays, seed));
  const tp = performance.now();

  const perPolicy = new Map<PolicyName, { rows: CoverageRow[]; hits: Hits[]; series: PolicySeries[]; breakers: BreakerStats[]; halts: Halt[][] }>(opts.policies.map((p) => [p, { rows: [], hits: [], series: [], breakers: [], halts: [] }]));
  const markets: { frame: FeatureFrame; market: MarketSeries; states: ReturnType<typeof marketStates> }[] = [];
  for (const frame of frames) {
    const full = marketSeries(frame, h, cfg);
    const states = marketStates(frame);
    markets.push({ frame, market: full, states });
    // Dynamic policies start 30 days before the walk-forward (their warm-up uses trailing realised σ).
    let start = 0;
    while (start < full.originMs.length && full.originMs[start]! < wfFromMs - 30 * DAY_MS) start++;
    const sliced = sliceMarket(full, start, full.originMs.length);
    for (const policy of opts.policies) {
      const model = POLICY_MODEL[policy];
      const a = model ? alignForecasts(frame, wf, model) : undefined;
      const p = policy === 'static'
        ? policySeries({ policy, market: full, cfg, trainEndMs: opts.fromMs })
        : policySeries({ policy, market: sliced, cfg, trainEndMs: opts.fromMs, ...(a ? { sigmaH: a.sigmaH.subarray(start), spikeProb: a.spikeProb.subarray(start) } : {}) });
      const m = policy === 'static' ? full : sliced;
      const { row, hits } = coverageRow(m, p, opts.fromMs, opts.toMs, cfg.confidence);
      const slot = perPolicy.get(policy)!;
      if (policy === 'ml-anticipatory' && a) {
        const [from, to] = testRange(full, opts.fromMs, opts.toMs);
        const steps = runBreakers(breakerInputs(frame, a.sigmaH, a.spikeProb, Number.NaN, from).slice(0, to - from), DEFAULT_BREAKER_CONFIG);
        slot.breakers.push(breakerStats(steps.map((x) => x.state)));
        slot.halts.push(openingHalts(steps));
      } else slot.halts.push([]);
      slot.rows.push(row);
      slot.hits.push(hits);
      slot.series.push(p);
    }
  }
  const ts = performance.now();

  const settings: StressSettings = { seeds: opts.stress?.seeds ?? 10, seed, cascadeImpactCoef: opts.stress?.cascadeImpactCoef ?? 0.1, ...(opts.stress?.population ? { population: opts.stress.population } : {}) };
  const episodes: Episode[] = settings.seeds > 0 ? stressEpisodes(opts.fromMs, opts.toMs, frames) : [];
  const rows: BacktestRow[] = [];
  for (const policy of opts.policies) {
    const slot = perPolicy.get(policy)!;
    const stress: StressRow[] = slot.rows.map((_, i) => {
      const mk = markets[i]!;
      const series = slot.series[i]!;
      const market = policy === 'static' ? mk.market : sliceMarket(mk.market, mk.market.originMs.length - series.originMs.length, mk.market.originMs.length);
      return stressRow({ frame: mk.frame, market, policy: series, states: sliceStates(mk.states, mk.market.originMs.length - series.originMs.length), episodes, cfg, settings, openingHalts: slot.halts[i]! });
    });
    slot.rows.forEach((r, i) => {
      const s = stress[i]!;
      const series = slot.series[i]!;
      const br = slot.breakers[i];
      rows.push({ ...r, ...(br ? { breakers: { share: br.share, transitions: br.transitions } } : {}), badDebtUsd: s.badDebtUsd, badDebtMeanUsd: s.badDebtMeanUsd, liquidations: s.liquidations, liquidatedNotionalP95Usd: s.liquidatedNotionalP95Usd, healthyLiquidatedByChange: s.healthyLiquidatedByChange, boundsClipped: series.boundsClipped, ...(series.bindings ? { bindings: series.bindings } : {}) });
    });
    const pooled = pooledRow(policy, slot.rows, slot.hits, cfg.confidence);
    const sum = (f: (s: StressRow) => number): number => stress.reduce((a, s) => a + f(s), 0);
    rows.push({
      ...pooled, badDebtUsd: sum((s) => s.badDebtUsd), badDebtMeanUsd: sum((s) => s.badDebtMeanUsd), liquidations: sum((s) => s.liquidations),
      liquidatedNotionalP95Usd: sum((s) => s.liquidatedNotionalP95Usd), healthyLiquidatedByChange: sum((s) => s.healthyLiquidatedByChange),
      boundsClipped: slot.series.reduce((a, s) => a + s.boundsClipped, 0),
      ...(slot.breakers.length ? { breakers: pooledBreakers(slot.breakers) } : {}),
    });
  }
  const te = performance.now();
  return {
    confidence: cfg.confidence, horizon: cfg.horizon, horizonBars: h, interval: opts.interval, venue, from: iso(opts.fromMs), to: iso(opts.toMs),
    symbols: opts.symbols, retrainEveryDays, warmupDays, folds: wf?.folds ?? 0, seed, policies: rows,
    episodes: episodes.map((e) => ({ name: e.name, from: iso(e.fromMs), to: iso(e.toMs) })),
    timing: { forecastMs: Math.round(tp - tf), policiesMs: Math.round(ts - tp), stressMs: Math.round(te - ts) },
    elapsedMs: Math.round(te - t0),
  };
}

/** A period in which the circuit breaker refuses new positions. */
type Halt = { readonly fromMs: number; readonly toMs: number };

/** The periods in which the breaker blocks opening risk (REDUCE_ONLY, HALT), from one step to the next. */
function openingHalts(steps: readonly BreakerStep[]): Halt[] {
  const out: Halt[] = [];
  steps.forEach((st, k) => {
    if (!st.blocked.openRisk) return;
    const end = steps[k + 1]?.timeMs ?? st.timeMs + 3_600_000;
    const last = out.at(-1);
    if (last && last.toMs === st.timeMs) out[out.length - 1] = { fromMs: last.fromMs, toMs: end };
    else out.push({ fromMs: st.timeMs, toMs: end });
  });
  return out;
}

/** Breaker shares averaged over markets, transitions summed. */
function pooledBreakers(stats: readonly BreakerStats[]): { share: Record<string, number>; transitions: number } {
  const share: Record<string, number> = {};
  for (const st of stats) for (const [k, v] of Object.entries(st.share)) share[k] = (share[k] ?? 0) + v / stats.length;
  return { share, transitions: stats.reduce((a, st) => a + st.transitions, 0) };
}

function sliceStates(s: { sigmaBar: Float64Array; barQuoteVolumeUsd: Float64Array }, from: number): { sigmaBar: Float64Array; barQuoteVolumeUsd: Float64Array } {
  return { sigmaBar: s.sigmaBar.subarray(from), barQuoteVolumeUsd: s.barQuoteVolumeUsd.subarray(from) };
}
