/**
 * The `liqcal schedule` daemon: every job of a pipeline on its node-cron schedule, in UTC (`Etc/UTC`).
 *
 * - Within a process a job never overlaps itself: a tick that comes while the job's previous run is still going is
 *   skipped and logged (not queued: the next tick runs on fresher data anyway).
 * - Across processes sharing a store, a job runs under its lock "<pipeline>/<job>" (lock.ts): a second daemon skips
 *   ticks the first one holds or has already run; a crashed holder's lease expires and the next tick takes over.
 * - Catch-up policy: on start, a job whose last successful run started more than one period ago (the gap between its
 *   next two scheduled times), or that never succeeded, runs once at once — not once per tick missed while down.
 *   Set `catchUp: false` on a job to wait for its next tick instead.
 * - Shutdown (the signal aborts, e.g. on SIGTERM): no new ticks; running jobs finish their current stage within
 *   `runtime.graceMs` or are abandoned cleanly (runner.ts); locks are released; then `done` resolves.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createTask, type ScheduledTask } from 'node-cron';
import type pino from 'pino';
import { settingPath, type JobConfig, type Pipeline } from '../config/pipeline.ts';
import { log as processLog } from '../core/log.ts';
import { iso, systemClock, type Clock } from '../core/time.ts';
import { openStore } from '../store/db.ts';
import { RunLedger } from '../store/runs.ts';
import type { RunResult } from '../pipeline/runner.ts';
import { runLocked } from './locked-run.ts';

/** Options of {@link startScheduler}. */
export interface SchedulerOptions {
  readonly pipeline: Pipeline;
  /** Store file, overriding the pipeline's `store.db`. */
  readonly db?: string;
  /** Report directory, overriding `report.outDir`. */
  readonly outDir?: string;
  readonly clock?: Clock;
  readonly log?: pino.Logger;
  /** Aborting it shuts the daemon down gracefully. */
  readonly signal: AbortSignal;
  /** Lock owner id (default `host:pid:nonce`). */
  readonly owner?: string;
  /** Called after every run this daemon made. */
  readonly onRun?: (r: RunResult) => void;
}

/** A running daemon. */
export interface Scheduler {
  readonly owner: string;
  /** Each job with its cron expression and next scheduled time (ISO, UTC). */
  readonly jobs: readonly { readonly name: string; readonly cron: string; readonly next: string | null }[];
  /** Resolves once the daemon has stopped (after the signal aborted and running jobs settled). */
  readonly done: Promise<void>;
}

/** Why a tick ran or not, for the log. */
type TickReason = 'scheduled' | 'catch-up';

/** Period of a cron schedule: the gap between its next two times (ms), or null if it has fewer than two. */
function periodMs(task: ScheduledTask): { next: number; period: number } | null {
  const [a, b] = task.getNextRuns(2);
  return a && b ? { next: a.getTime(), period: b.getTime() - a.getTime() } : null;
}

/** Starts the daemon: schedules every job, runs catch-ups, and stops when `signal` aborts. */
export async function startScheduler(opts: SchedulerOptions): Promise<Scheduler> {
  const p = opts.pipeline;
  const clock = opts.clock ?? systemClock;
  const owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = (opts.log ?? processLog).child({ pipeline: p.name, owner });
  const store = openStore(opts.db ?? settingPath(p, p.config.store.db, 'data/liqcal.db'));
  const ledger = new RunLedger(store);
  const busy = new Map<string, Promise<void>>();
  let stopping = false;

  const tick = (job: JobConfig, tickMs: number, reason: TickReason): void => {
    if (stopping) return;
    if (busy.has(job.name)) {
      log.warn({ job: job.name, tick: iso(tickMs), reason }, 'skipped: the previous run of this job is still going');
      return;
    }
    const run = (async () => {
      try {
        const out = await runLocked({
          pipeline: p, job: job.name, store, owner, tickMs, clock, signal: opts.signal, log, trigger: { reason, tickMs },
          ...(opts.outDir ? { outDir: opts.outDir } : {}),
        });
        if (!out.ran) {
          const l = out.claim.lock;
          log.info({ job: job.name, tick: iso(tickMs), reason, holder: l.owner, holderRun: l.runId, since: iso(l.acquiredAtMs) },
            out.claim.reason === 'held' ? 'skipped: another process holds this job' : 'skipped: this tick already ran in another process');
          return;
        }
        log.info({ job: job.name, runId: out.result.runId, status: out.result.status, tick: iso(tickMs), reason }, 'run ended');
        opts.onRun?.(out.result);
      } catch (e) {
        log.error({ job: job.name, err: (e as Error).message }, 'the run could not start');
      }
    })();
    busy.set(job.name, run);
    void run.finally(() => busy.delete(job.name));
  };

  const tasks = p.config.jobs.map((job) => {
    const task = createTask(job.cron, (ctx) => { tick(job, Math.floor(ctx.date.getTime() / 1000) * 1000, 'scheduled'); }, { timezone: 'Etc/UTC', name: `${p.name}/${job.name}` });
    return { job, task };
  });
  for (const { task } of tasks) await task.start();
  const jobs = tasks.map(({ job, task }) => ({ name: job.name, cron: job.cron, next: task.getNextRun() ? iso(task.getNextRun()!.getTime()) : null }));
  log.info({ jobs }, 'scheduler started');

  // Catch-up: one run now for each job whose last success is older than one period (or that never succeeded).
  for (const { job, task } of tasks) {
    if (!job.catchUp) continue;
    const s = periodMs(task);
    if (!s) continue;
    const last = ledger.list(1, { pipeline: p.name, kind: `pipeline:${job.name}`, status: 'succeeded' })[0];
    const now = clock.now();
    if (!last || now - last.startedAtMs > s.period) {
      log.info({ job: job.name, lastSuccess: last ? iso(last.startedAtMs) : null, periodMs: s.period }, 'catching up: running once now');
      tick(job, s.next - s.period, 'catch-up');
    }
  }

  const done = new Promise<void>((resolve) => {
    const stop = async (): Promise<void> => {
      stopping = true;
      log.info({ running: [...busy.keys()] }, 'stopping: no new runs; running jobs finish their stage or are abandoned');
      for (const { task } of tasks) await task.destroy();
      await Promise.allSettled([...busy.values()]);
      store.close();
      log.info('scheduler stopped');
      resolve();
    };
    if (opts.signal.aborted) void stop();
    else opts.signal.addEventListener('abort', () => { void stop(); }, { once: true });
  });
  return { owner, jobs, done };
}
