import { AppError } from '../core/errors.ts';
import { floorToInterval, intervalMs, iso, type EpochMs, type Interval } from '../core/time.ts';
import { checkSeriesNames, type MarketData, type SeriesKey } from '../store/market-data.ts';
import { checkPage } from './row-checks.ts';
import type { DataKind, MarketDataSource } from './types.ts';
import { rowTime } from './types.ts';

/** One backfill job: a kind of data for one symbol over `[fromMs, toMs)`. */
export interface BackfillJob {
  readonly kind: DataKind;
  readonly symbol: string;
  readonly interval: Interval;
  readonly fromMs: EpochMs;
  readonly toMs: EpochMs;
  /** Store under this venue name (defaults to the source's venue id). */
  readonly storeVenue?: string;
}

/** What a backfill did. */
export interface BackfillResult {
  readonly kind: DataKind;
  readonly venue: string;
  readonly symbol: string;
  readonly interval: Interval;
  /** Where fetching started: the requested start, or just after the stored data when resuming. */
  readonly resumedFromMs: number;
  readonly pages: number;
  readonly rows: number;
  /** Exact duplicates dropped within pages. */
  readonly duplicates: number;
  readonly firstMs: number | undefined;
  readonly lastMs: number | undefined;
}

/** Progress callback payload, once per written page. */
export interface BackfillProgress {
  readonly job: BackfillJob;
  readonly pageRows: number;
  readonly totalRows: number;
  readonly lastMs: number;
}

/**
 * Where a backfill of `[fromMs, toMs)` should start. Pages are written in ascending order, each with
 * its watermark, so when the stored series begins at or before `fromMs` everything up to its last
 * stored time inside the range is complete and fetching resumes just after it. Otherwise the whole
 * range is fetched (upserts are idempotent, so overlap costs time, never correctness).
 */
export function resumePoint(md: MarketData, kind: DataKind, key: SeriesKey, fromMs: number, toMs: number): number {
  const times = md.readTimesInRange(kind, key, fromMs - (kind === 'bars' ? intervalMs(key.interval as Interval) : 0), toMs);
  if (times.first === undefined || times.last === undefined || times.first > fromMs) return fromMs;
  const step = kind === 'funding' ? 1 : intervalMs(key.interval as Interval);
  return Math.max(fromMs, times.last + step);
}

/**
 * Fetches `job` from `source` page by page into the store. Each page is checked (sound rows, strictly
 * ascending, inside the range, after the previous page) and written with its watermark in one
 * transaction, so a crash at any point leaves whole pages only and a rerun resumes after them.
 */
export async function backfill(source: MarketDataSource, md: MarketData, job: BackfillJob, opts: { onPage?: (p: BackfillProgress) => void; signal?: AbortSignal; nowMs?: number } = {}): Promise<BackfillResult> {
  if (!source.has[job.kind]) {
    throw new AppError('notSupported', `${source.venue} does not serve ${job.kind}; ask for one of: ${Object.entries(source.has).filter(([, v]) => v).map(([k]) => k).join(', ')}.`, { context: { venue: source.venue, kind: job.kind } });
  }
  if (job.kind === 'bars' && !source.intervals.includes(job.interval)) {
    throw new AppError('notSupported', `${source.venue} does not serve ${job.interval} bars; it serves ${source.intervals.join(', ')}.`, { context: { venue: source.venue, interval: job.interval } });
  }
  if (!(job.fromMs < job.toMs)) {
    throw new AppError('config', `The range is empty: --from ${iso(job.fromMs)} is not before --to ${iso(job.toMs)}.`, { context: { fromMs: job.fromMs, toMs: job.toMs } });
  }
  const venue = job.storeVenue ?? source.venue;
  const key: SeriesKey = { venue, symbol: job.symbol, interval: job.interval };
  checkSeriesNames(key);
  // A bar still forming is never stored: cap the range at the open of the current bar.
  const toMs = job.kind === 'bars' && opts.nowMs !== undefined ? Math.min(job.toMs, floorToInterval(opts.nowMs, job.interval)) : job.toMs;
  const start = resumePoint(md, job.kind, key, job.fromMs, toMs);
  let pages = 0;
  let rows = 0;
  let duplicates = 0;
  let firstMs: number | undefined;
  let lastMs: number | undefined;
  if (start < toMs) {
    const where = `${source.venue} ${job.kind}`;
    for await (const page of source.fetch(job.kind, { symbol: job.symbol, interval: job.interval, fromMs: start as EpochMs, toMs: toMs as EpochMs })) {
      if (opts.signal?.aborted) throw new AppError('internal', `Backfill of ${venue} ${job.symbol} ${job.kind} was interrupted; rerun to resume after ${lastMs === undefined ? 'the start' : iso(lastMs)}.`);
      // The store's own row check (plausible time, interval grid, sound values), so a bad page is refused whole here.
      const checked = checkPage(job.kind, page, { where, symbol: job.symbol, fromMs: start, toMs, interval: job.interval, nowMs: md.clock.now(), ...(lastMs !== undefined ? { prevLastMs: lastMs } : {}) });
      duplicates += checked.duplicates;
      if (checked.rows.length === 0) continue;
      md.writePage(job.kind, key, checked.rows, { source: source.venue });
      pages++;
      rows += checked.rows.length;
      firstMs ??= rowTime(job.kind, checked.rows[0]!);
      lastMs = rowTime(job.kind, checked.rows[checked.rows.length - 1]!);
      opts.onPage?.({ job, pageRows: checked.rows.length, totalRows: rows, lastMs });
    }
  }
  return { kind: job.kind, venue, symbol: job.symbol, interval: job.interval, resumedFromMs: start, pages, rows, duplicates, firstMs, lastMs };
}
