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
  // Slots by job index, so the outcome lists jobs in the order given whatever order they finish in.
  const done: (BackfillResult | undefined)[] = new Array(jobs.length);
  const failed: (FailedJob | undefined)[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i]!;
      try {
        const r = await backfill(source, md, job, { ...(opts.onPage ? { onPage: opts.onPage } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.nowMs !== undefined ? { nowMs: opts.nowMs } : {}) });
        done[i] = r;
        opts.onDone?.(r);
      } catch (e) {
        failed[i] = { job, error: isAppError(e) ? e : new AppError('internal', String((e as Error)?.stack ?? e), { cause: e }) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, jobs.length)) }, worker));
  const results = done.filter((r): r is BackfillResult => r !== undefined);
  const failures = failed.filter((f): f is FailedJob => f !== undefined);
  return { results, failures, rows: results.reduce((s, r) => s + r.rows, 0), elapsedMs: performance.now() - t0 };
}
