/**
 * One pipeline run under the job's cross-process lock: claim "<pipeline>/<job>", renew the lease every third of it
 * while the run goes on, release it when the run ends. Used by the daemon for every tick and by `liqcal run`, so a
 * one-shot run never overlaps a scheduled run of the same job on the same store.
 *
 * The lease is never renewed for longer than the run can last: the sum of its stages' deadlines
 * (`runtime.stageTimeoutMs` / `stageTimeoutsMs`) plus the grace and one lease. runPipeline returns as soon as a stage
 * outlives its deadline (the run is recorded failed), which ends the renewal and releases the lock; the cap is the
 * backstop should a run ever fail to return, so that a hung run cannot keep its job from ever running again.
 */
import { systemClock } from '../core/time.ts';
import { log as processLog } from '../core/log.ts';
import type { Store } from '../store/db.ts';
import { selectJob, stageTimeoutMs } from '../config/pipeline.ts';
import { runPipeline, type RunOptions, type RunResult } from '../pipeline/runner.ts';
import { JobLocks, type JobLock, type LockClaim } from './lock.ts';

/** Options of {@link runLocked}: those of the runner, an open store, the lock owner and (for a scheduled run) its tick. */
export interface LockedRunOptions extends Omit<RunOptions, 'store' | 'onStart'> {
  readonly store: Store;
  /** Identifies this process in the lock table, e.g. `host:pid:nonce`. */
  readonly owner: string;
  /** Scheduled time of the tick being run (epoch ms); a job that already started at or after it is not run again. */
  readonly tickMs?: number;
}

/** Whether the run happened: its result, or the claim that refused it. */
export type LockedRunOutcome =
  | { readonly ran: true; readonly result: RunResult; readonly tookOverFrom: JobLock | null }
  | { readonly ran: false; readonly claim: Extract<LockClaim, { acquired: false }> };

/** The lock name of a job: `<pipeline>/<job>`, job `all` when every stage runs. */
export function lockName(pipeline: string, job: string | undefined): string {
  return `${pipeline}/${job ?? 'all'}`;
}

/**
 * The longest a run of `job` can hold its lock, ms: every stage's deadline, the SIGTERM grace and one lease of slack.
 * Past it runLocked stops renewing the lease (and stops the run).
 */
export function maxLockedRunMs(p: RunOptions['pipeline'], job: string | undefined): number {
  const { stages } = selectJob(p, job);
  const r = p.config.runtime;
  return stages.reduce((sum, s) => sum + stageTimeoutMs(p.config, s), 0) + r.graceMs + r.leaseMs;
}

/** Runs the job if its lock can be claimed; a lost lease (another process took over) aborts the run. */
export async function runLocked(opts: LockedRunOptions): Promise<LockedRunOutcome> {
  const p = opts.pipeline;
  const name = lockName(p.name, opts.job);
  const locks = new JobLocks(opts.store, opts.clock ?? systemClock);
  const leaseMs = p.config.runtime.leaseMs;
  // Before the claim: an unknown job is refused without touching the lock table.
  const maxRunMs = maxLockedRunMs(p, opts.job);
  const claim = locks.acquire(name, opts.owner, { leaseMs, ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}) });
  if (!claim.acquired) return { ran: false, claim };
  const log = (opts.log ?? processLog).child({ lock: name, owner: opts.owner });
  if (claim.tookOverFrom) log.warn({ previousOwner: claim.tookOverFrom.owner, previousRun: claim.tookOverFrom.runId }, 'took over an expired lease; its run is recorded abandoned');
  const ac = new AbortController();
  const forward = (): void => ac.abort();
  if (opts.signal?.aborted) ac.abort();
  opts.signal?.addEventListener('abort', forward, { once: true });
  const t0 = performance.now();
  const renew = setInterval(() => {
    if (performance.now() - t0 > maxRunMs) {
      // Backstop: every stage has a deadline, so a run still going now is hung. Let the lease lapse.
      clearInterval(renew);
      log.error({ maxRunMs }, 'the run outlived the sum of its stage deadlines; no longer renewing the job lock, stopping this run');
      ac.abort();
      return;
    }
    if (!locks.renew(name, opts.owner, leaseMs)) {
      log.error('lost the job lock to another process (our lease expired); stopping this run');
      ac.abort();
    }
  }, Math.max(250, Math.floor(leaseMs / 3)));
  try {
    const result = await runPipeline({ ...opts, store: opts.store, signal: ac.signal, onStart: (runId) => { locks.attachRun(name, opts.owner, runId); } });
    return { ran: true, result, tookOverFrom: claim.tookOverFrom };
  } finally {
    clearInterval(renew);
    opts.signal?.removeEventListener('abort', forward);
    locks.release(name, opts.owner);
  }
}
