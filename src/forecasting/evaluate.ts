import { AppError } from '../core/errors.ts';
import { intervalMs, iso, type Interval } from '../core/time.ts';
import { summarise, type AccuracyRow, type SpikeRow, type WalkForwardSummary } from '../evaluation/compare.ts';
import { loadFeatureFrames } from '../features/build.ts';
import { resolveBarVenue } from '../ingest/series-venue.ts';
import type { MarketData } from '../store/market-data.ts';
import { horizonBars as parseHorizon } from './horizon.ts';
import { loadTf } from './ml/backend.ts';
import { DEFAULT_MODEL_NAMES, forecasterByName } from './registry.ts';
import { runWalkForward, type FoldInfo } from './walk-forward.ts';

/** Options of {@link evaluateModels}. */
export interface EvaluateOptions {
  readonly md: MarketData;
  readonly symbols: readonly string[];
  readonly interval: Interval;
  /** Forecast horizon such as `24h`. */
  readonly horizon: string;
  /** Out-of-sample period: origins in [testFromMs, testToMs). */
  readonly testFromMs: number;
  readonly testToMs: number;
  /** Venue of the bars; default: the only venue holding all symbols. */
  readonly venue?: string;
  /** Models to compare (names from the registry); default: every baseline and the neural model. */
  readonly models?: readonly string[];
  /** Refit every this many days (expanding window). */
  readonly retrainEveryDays?: number;
  readonly seed?: number;
  readonly spikeK?: number;
  readonly quantiles?: readonly number[];
  readonly onFold?: (info: FoldInfo) => void;
}

/** One accuracy row of the report. */
export type AccuracyResult = Pick<AccuracyRow, 'model' | 'symbol' | 'qlike' | 'mseLog' | 'mzR2' | 'n' | 'pinball' | 'coverage'>;

/** The JSON report of an out-of-sample comparison (what `liqcal evaluate --json` prints). */
export interface EvaluationReport {
  readonly horizon: string;
  readonly horizonBars: number;
  readonly interval: Interval;
  readonly backend: string;
  readonly venue: string;
  readonly symbols: readonly string[];
  readonly testFrom: string;
  readonly testTo: string;
  readonly retrainEveryDays: number;
  readonly folds: number;
  readonly seed: number;
  readonly results: readonly AccuracyResult[];
  readonly spike: readonly Pick<SpikeRow, 'model' | 'symbol' | 'auc' | 'brier' | 'brierSkill' | 'precision' | 'recall' | 'medianLeadTimeH' | 'n'>[];
  /** Pooled Diebold–Mariano tests on QLIKE losses against HAR-RV, keyed `<model>VsHar` (negative stat: the model is better). */
  readonly dm: Readonly<Record<string, { stat: number; p: number; n: number }>>;
  /** The same per symbol and pooled, for every model. */
  readonly dmDetail: readonly { model: string; baseline: string; symbol: string; stat: number; p: number; n: number }[];
  readonly timing: readonly { model: string; fits: number; fitMs: number; predictMs: number }[];
  readonly elapsedMs: number;
}

const camel = (name: string): string => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/**
 * Walk-forward out-of-sample comparison of forecasters on stored bars: every model is refitted on the
 * same expanding windows (with a one-horizon embargo) and forecasts the same origins, then scored by
 * QLIKE (primary), MSE of log RV and Mincer–Zarnowitz R², pinball loss and coverage per quantile,
 * spike AUC / Brier / Brier skill, and Diebold–Mariano tests against HAR-RV.
 */
export async function evaluateModels(opts: EvaluateOptions): Promise<EvaluationReport> {
  const t0 = performance.now();
  if (!(opts.testFromMs < opts.testToMs)) throw new AppError('config', `--test-from ${iso(opts.testFromMs)} must be before --test-to ${iso(opts.testToMs)}.`);
  const h = parseHorizon(opts.horizon, opts.interval);
  const stepMs = intervalMs(opts.interval);
  const venue = resolveBarVenue(opts.md, opts.symbols, opts.interval, opts.venue);
  const names = opts.models ?? DEFAULT_MODEL_NAMES;
  if (!names.includes('har')) throw new AppError('config', 'The comparison needs the HAR-RV baseline: include "har" in --models.');
  const forecasters = names.map((n) => forecasterByName(n));
  // Bars up to the last origin's forward window; nothing later is read.
  const frames = loadFeatureFrames(opts.md, { venue, symbols: opts.symbols, interval: opts.interval, toMs: opts.testToMs + (h + 1) * stepMs });
  const retrainEveryDays = opts.retrainEveryDays ?? 30;
  const seed = opts.seed ?? 42;
  const { backend } = await loadTf();
  const result = await runWalkForward({
    frames, forecasters, horizonBars: h, stepMs, testFromMs: opts.testFromMs, testToMs: opts.testToMs,
    retrainEveryMs: retrainEveryDays * 86_400_000, seed, quantiles: opts.quantiles ?? [0.5, 0.9, 0.99],
    ...(opts.spikeK !== undefined ? { spikeK: opts.spikeK } : {}), ...(opts.onFold ? { onFold: opts.onFold } : {}),
  });
  const s: WalkForwardSummary = summarise(result, { baseline: 'har' });
  const dmPooled = Object.fromEntries(s.dm.filter((d) => d.symbol === 'pooled' && d.model !== 'har').map((d) => [`${camel(d.model)}VsHar`, { stat: d.stat, p: d.p, n: d.n }]));
  return {
    horizon: opts.horizon, horizonBars: h, interval: opts.interval, backend, venue, symbols: opts.symbols,
    testFrom: iso(opts.testFromMs), testTo: iso(opts.testToMs), retrainEveryDays, folds: result.folds, seed,
    results: s.accuracy.map((a) => ({ model: a.model, symbol: a.symbol, qlike: a.qlike, mseLog: a.mseLog, mzR2: a.mzR2, n: a.n, pinball: a.pinball, coverage: a.coverage })),
    spike: s.spike.map((x) => ({ model: x.model, symbol: x.symbol, auc: x.auc, brier: x.brier, brierSkill: x.brierSkill, precision: x.precision, recall: x.recall, medianLeadTimeH: x.medianLeadTimeH, n: x.n })),
    dm: dmPooled,
    dmDetail: s.dm.map((d) => ({ model: d.model, baseline: d.baseline, symbol: d.symbol, stat: d.stat, p: d.p, n: d.n })),
    timing: result.timing.map((t) => ({ model: t.model, fits: t.fits, fitMs: Math.round(t.fitMs), predictMs: Math.round(t.predictMs) })),
    elapsedMs: Math.round(performance.now() - t0),
  };
}
