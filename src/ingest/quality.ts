/**
 * Data quality of stored series: gaps, duplicates, ordering, OHLC violations and staleness. The array
 * functions are pure; `seriesQuality` and `dataStatus` read the store and take the time as an argument.
 */
import { AppError } from '../core/errors.ts';
import { intervalMs, isInterval, iso } from '../core/time.ts';
import type { MarketData, SeriesKey } from '../store/market-data.ts';
import { barProblem, FUNDING_STEP_MS } from './row-checks.ts';
import type { Bar, DataKind } from './types.ts';

/** A run of missing bars: open times of the first and last missing bar (inclusive), and how many are missing. */
export interface Gap {
  readonly startMs: number;
  readonly endMs: number;
  readonly missing: number;
}

export { FUNDING_STEP_MS };
/** A funding series is stale when its last event is older than this (one 8 h interval plus an hour of slack). */
export const FUNDING_STALE_AFTER_MS = 9 * 3_600_000;

/**
 * Finds the gaps in ascending `times` (epoch ms) sampled every `stepMs`: wherever consecutive times are
 * further apart than one step. The number missing is `round(Δ / step) − 1`, so a few ms of jitter (funding
 * times) is not a gap. Pairs that are equal or descending are skipped (see {@link countDuplicates},
 * {@link countNonMonotonic}).
 */
export function findGaps(times: Float64Array, stepMs: number): Gap[] {
  if (!(stepMs > 0)) throw new AppError('config', `The gap step must be a positive number of ms, not ${stepMs}.`, { context: { stepMs } });
  const gaps: Gap[] = [];
  for (let i = 1; i < times.length; i++) {
    const prev = times[i - 1]!;
    const diff = times[i]! - prev;
    if (!(diff > stepMs)) continue;
    const missing = Math.round(diff / stepMs) - 1;
    if (missing < 1) continue;
    gaps.push({ startMs: prev + stepMs, endMs: prev + missing * stepMs, missing });
  }
  return gaps;
}

/** Counts times equal to their predecessor. */
export function countDuplicates(times: Float64Array): number {
  let n = 0;
  for (let i = 1; i < times.length; i++) if (times[i] === times[i - 1]) n++;
  return n;
}

/** Counts times strictly below their predecessor (each descent counts once). */
export function countNonMonotonic(times: Float64Array): number {
  let n = 0;
  for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) n++;
  return n;
}

/** Options for {@link seriesQuality}. */
export interface QualityOptions {
  /** The time to judge staleness at, epoch ms. */
  readonly nowMs: number;
  /** Staleness threshold in ms (default: 2 intervals; funding: {@link FUNDING_STALE_AFTER_MS}). */
  readonly staleAfterMs?: number;
}

/** Quality summary of one stored series. Times are epoch ms; `bars` counts rows of any kind. */
export interface SeriesQuality {
  readonly bars: number;
  readonly firstMs: number | undefined;
  readonly lastMs: number | undefined;
  /** Number of gaps (runs of missing bars). */
  readonly gaps: number;
  /** Bars missing over all gaps. */
  readonly missingBars: number;
  readonly largestGap: Gap | undefined;
  readonly duplicates: number;
  readonly nonMonotonic: number;
  /** Stored bars failing `barProblem` (always 0 for kinds other than bars). */
  readonly ohlcViolations: number;
  readonly stale: boolean;
  /**
   * How long ago the data was last complete, in ms: `now − (last open + interval)` for bars and sampled
   * series (0 right when the last bar closes), `now − last event` for funding. Undefined when empty.
   */
  readonly ageMs: number | undefined;
  /** Expected step between rows used for gaps and staleness, in ms. */
  readonly stepMs: number;
}

/**
 * Checks one stored series: gaps against its interval (funding: 8 h), duplicates, order, OHLC
 * violations (bars) and staleness at `opts.nowMs`. An empty series is stale.
 */
export function seriesQuality(md: MarketData, key: SeriesKey, kind: DataKind, opts: QualityOptions): SeriesQuality {
  const stepMs = stepOf(kind, key.interval);
  const times = md.readTimes(kind, key);
  const n = times.length;
  const gaps = findGaps(times, stepMs);
  let missingBars = 0;
  let largestGap: Gap | undefined;
  for (const g of gaps) {
    missingBars += g.missing;
    if (largestGap === undefined || g.missing > largestGap.missing) largestGap = g;
  }
  const firstMs = n ? times[0]! : undefined;
  const lastMs = n ? times[n - 1]! : undefined;
  const ageMs = lastMs === undefined ? undefined : opts.nowMs - (kind === 'funding' ? lastMs : lastMs + stepMs);
  const staleAfterMs = opts.staleAfterMs ?? (kind === 'funding' ? FUNDING_STALE_AFTER_MS : 2 * stepMs);
  return {
    bars: n, firstMs, lastMs, gaps: gaps.length, missingBars, largestGap,
    duplicates: countDuplicates(times), nonMonotonic: countNonMonotonic(times),
    ohlcViolations: kind === 'bars' ? countOhlcViolations(md, key) : 0,
    stale: ageMs === undefined || ageMs > staleAfterMs, ageMs, stepMs,
  };
}

/** Counts stored bars of a series that fail `barProblem` (missing optional fields are not violations). */
export function countOhlcViolations(md: MarketData, key: SeriesKey): number {
  const c = md.readBarColumns(key);
  const opt = (x: number): number | undefined => (Number.isNaN(x) ? undefined : x);
  let n = 0;
  for (let i = 0; i < c.openTimeMs.length; i++) {
    const b: Bar = {
      openTimeMs: c.openTimeMs[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!,
      quoteVolume: opt(c.quoteVolume[i]!), trades: opt(c.trades[i]!), takerBuyBaseVolume: opt(c.takerBuyBaseVolume[i]!),
    };
    if (barProblem(b) !== undefined) n++;
  }
  return n;
}

/** One line of {@link dataStatus}: the series, its range as ISO-8601 UTC, and its quality. */
export interface SeriesStatus extends Omit<SeriesQuality, 'largestGap'> {
  readonly kind: DataKind;
  readonly venue: string;
  readonly symbol: string;
  /** Bar interval, or `event` for funding. */
  readonly interval: string;
  /** First and last row time, ISO-8601 UTC (null when empty). */
  readonly first: string | null;
  readonly last: string | null;
  /** The largest gap with ISO-8601 bounds, or null. */
  readonly largestGap: (Gap & { readonly start: string; readonly end: string }) | null;
  /** The store watermark of the series (epoch ms), when one is recorded. */
  readonly watermarkMs: number | null;
}

/**
 * Every stored series with its quality as of `nowMs` — what `liqcal data status --json` prints:
 * `{ series: [{ kind, venue, symbol, interval, bars, first, last, gaps, missingBars, stale, ageMs, … }] }`,
 * ordered by kind, venue, symbol, interval, plus `invalidTimes`: per series, the stored rows whose time is implausible
 * or off the interval grid (the readers skip them; `liqcal data check` lists them). Only reads the store.
 */
export function dataStatus(md: MarketData, nowMs: number): { series: SeriesStatus[]; invalidTimes: { kind: DataKind; venue: string; symbol: string; interval: string; rows: number }[] } {
  const series = md.listSeries().map((s): SeriesStatus => {
    const key: SeriesKey = { venue: s.venue, symbol: s.symbol, interval: s.interval };
    const q = seriesQuality(md, key, s.kind, { nowMs });
    const lg = q.largestGap;
    // Key order is the print order of `--json`: the agreed keys first, then the details.
    return {
      kind: s.kind, venue: s.venue, symbol: s.symbol, interval: s.interval, bars: q.bars,
      first: q.firstMs === undefined ? null : iso(q.firstMs),
      last: q.lastMs === undefined ? null : iso(q.lastMs),
      gaps: q.gaps, missingBars: q.missingBars, stale: q.stale, ageMs: q.ageMs,
      largestGap: lg ? { ...lg, start: iso(lg.startMs), end: iso(lg.endMs) } : null,
      duplicates: q.duplicates, nonMonotonic: q.nonMonotonic, ohlcViolations: q.ohlcViolations,
      firstMs: q.firstMs, lastMs: q.lastMs, stepMs: q.stepMs,
      watermarkMs: md.watermark(s.kind, key) ?? null,
    };
  });
  // Rows the readers skip (implausible or off-grid times): counted so that they are never silently invisible.
  return { series, invalidTimes: md.countInvalidTimes() };
}

function stepOf(kind: DataKind, interval: string): number {
  if (kind === 'funding') return FUNDING_STEP_MS;
  if (!isInterval(interval)) throw new AppError('config', `Series interval "${interval}" is not a known bar interval, so its gaps and staleness cannot be judged.`, { context: { kind, interval } });
  return intervalMs(interval);
}
