import { AppError, isAppError } from '../core/errors.ts';
import type { MarketData } from '../store/market-data.ts';
import { backfill, type BackfillJob, type BackfillProgress, type BackfillResult } from './backfill.ts';
import type { MarketDataSource } from './types.ts';

/** A job that failed, with the error that stopped it (other jobs carry on). */
export interface FailedJob {
  readonly job: BackfillJob;
  readonly error: AppError;
}

/** Outcome of {@link ingestMany}. */
export interface IngestOutcome {
  readonly results: readonly BackfillResult[];
  readonly failures: readonly FailedJob[];
  readonly rows: number;
  readonly elapsedMs: number;
}

/**
 * Runs backfill jobs against one source with bounded concurrency. A failing job does not stop the
 * others: its error is collected, and everything it wrote before failing is whole pages only.
 */
export async function ingestMany(source: MarketDataSource, md: MarketData, jobs: readonly BackfillJob[], opts: { concurrency?: number; onPage?: (p: BackfillProgress) => void; onDone?: (r: BackfillResult) => void; signal?: AbortSignal; nowMs?: number } = {}): Promise<IngestOutcome> {
  const t0 = performance.now();
  const results: BackfillResult[] = [];
  const failures: FailedJob[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      try {
        const r = await backfill(source, md, job, { ...(opts.onPage ? { onPage: opts.onPage } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.nowMs !== undefined ? { nowMs: opts.nowMs } : {}) });
        results.push(r);
        opts.onDone?.(r);
      } catch (e) {
        failures.push({ job, error: isAppError(e) ? e : new AppError('internal', String((e as Error)?.stack ?? e), { cause: e }) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, jobs.length)) }, worker));
  const order = (j: BackfillJob): number => jobs.indexOf(j);
  results.sort((a, b) => jobs.findIndex((j) => j.symbol === a.symbol && j.kind === a.kind) - jobs.findIndex((j) => j.symbol === b.symbol && j.kind === b.kind));
  failures.sort((a, b) => order(a.job) - order(b.job));
  return { results, failures, rows: results.reduce((s, r) => s + r.rows, 0), elapsedMs: performance.now() - t0 };
}
