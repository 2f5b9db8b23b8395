/**
 * The pipeline runner (issue 6 item 2): runs one job's stages in order as one run in the ledger — id, pipeline, config
 * hash, git sha, seed, data watermark, per-stage status / attempts / timings, artifacts, status and error.
 *
 * Rules:
 * - A stage that fails (after its retries: see retry.ts) ends the run as `failed`; nothing after it runs, so nothing is
 *   published unless every stage before publish succeeded.
 * - On abort (SIGTERM) the current stage may finish within `runtime.graceMs`; the run then stops before the next
 *   stage and is recorded `abandoned`. A stage still going after the grace is abandoned (its result discarded). The
 *   publish stage is never cut short: it commits its batch in one transaction, whole or not at all.
 * - Every stage has a deadline (`runtime.stageTimeoutMs`, default 30 min, per stage `runtime.stageTimeoutsMs`) that
 *   covers all its attempts. Past it the stage and the run are recorded `failed` (kind `unavailable`), the stage's
 *   signal is aborted (cancelling ingest's requests in flight) and runPipeline returns at once, so a job lock held by
 *   runLocked stops being renewed and is released; whatever the stage was still doing is discarded.
 */
import { execFileSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import type pino from 'pino';
import type { BacktestReport } from '../calibration/backtest.ts';
import type { RecommendReport } from '../calibration/recommend.ts';
import { selectJob, settingPath, stageTimeoutMs, stageTimeoutSetting, type Pipeline, type StageName } from '../config/pipeline.ts';
import { formatDurationMs, timerSafeMs } from '../core/delay.ts';
import { AppError } from '../core/errors.ts';
import { log as processLog } from '../core/log.ts';
import { iso, systemClock, type Clock, type EpochMs } from '../core/time.ts';
import { openStore, type Store } from '../store/db.ts';
import { MarketData } from '../store/market-data.ts';
import { RunLedger, type RunStage, type RunStatus } from '../store/runs.ts';
import { dataWatermarkMs, type StageContext } from './context.ts';
import { ingestStage, type IngestOutput } from './ingest-stage.ts';
import { AbortedError, asAppError, withRetries } from './retry.ts';
import { evaluateStage, publishStage, recommendStage, reportStage, trainStage, type PublishOutput, type ReportOutput, type TrainOutput } from './stages.ts';

/** Options of {@link runPipeline}. */
export interface RunOptions {
  readonly pipeline: Pipeline;
  /** Job to run; omitted: every stage any job declares, once (job "all"). */
  readonly job?: string;
  /** Store file, overriding the pipeline's `store.db` (resolved against the working directory). */
  readonly db?: string;
  /** An open store to use (the scheduler's); otherwise the runner opens and closes one. */
  readonly store?: Store;
  /** Report directory, overriding `report.outDir` (resolved against the working directory). */
  readonly outDir?: string;
  readonly clock?: Clock;
  /** Stops the run (SIGTERM, a lost job lock): the current stage gets `runtime.graceMs`, then the run is abandoned. */
  readonly signal?: AbortSignal;
  readonly log?: pino.Logger;
  /** Called once the run is in the ledger, before its first stage (the scheduler records the id with its lock). */
  readonly onStart?: (runId: string) => void;
  /** What started the run (recorded in the ledger's stats): a scheduled tick, a catch-up, or a person (default). */
  readonly trigger?: { readonly reason: 'scheduled' | 'catch-up' | 'manual'; readonly tickMs?: number };
  /** Called as each stage starts, retries, and ends (progress lines for people; must not throw). */
  readonly onStage?: (e: StageEvent) => void;
}

/** A stage milestone: started, retrying (after a failed attempt), or ended with its status. Durations in ms. */
export interface StageEvent {
  readonly stage: StageName;
  readonly event: 'started' | 'retrying' | 'succeeded' | 'failed' | 'abandoned';
  readonly attempt: number;
  readonly durationMs?: number;
  readonly error?: AppError;
  /** Before the next attempt (retrying), ms. */
  readonly delayMs?: number;
}

/** Outputs of the stages that ran, for callers that print or chain them. */
export interface StageOutputs {
  ingest?: IngestOutput;
  train?: TrainOutput;
  evaluate?: BacktestReport;
  recommend?: RecommendReport;
  publish?: PublishOutput;
  report?: ReportOutput;
}

/** The outcome of one run. Times are epoch ms, UTC. */
export interface RunResult {
  readonly runId: string;
  readonly pipeline: string;
  readonly job: string;
  readonly status: Exclude<RunStatus, 'running'>;
  readonly stages: readonly RunStage[];
  readonly artifacts: Record<string, unknown>;
  /** The error that failed or abandoned the run (an AppError with its kind), or null. */
  readonly error: AppError | null;
  readonly dataWatermarkMs: number | null;
  readonly outputs: StageOutputs;
}

/** The git commit of the liqcal code that runs, or null outside a git checkout (or without git). */
export function gitSha(): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).toString().trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown } | { readonly abandoned: true };

/** Waits for `work`; once `signal` aborts, waits at most `graceMs` more (Infinity: until it settles). */
async function settleWithin<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<Settled<T>> {
  const settled = work.then((value): Settled<T> => ({ ok: true, value }), (error: unknown): Settled<T> => ({ ok: false, error }));
  if (!Number.isFinite(graceMs)) return settled;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const grace = new Promise<Settled<T>>((resolve) => {
    onAbort = () => { timer = setTimeout(() => resolve({ abandoned: true }), graceMs); };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([settled, grace]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The error of a stage that outlived its deadline (kind `unavailable`: a later run may well finish in time). */
function stageTimeoutError(p: Pipeline, stage: StageName, deadlineMs: number): AppError {
  const setting = stageTimeoutSetting(p.config, stage);
  const hint = stage === 'ingest'
    ? 'The venue may be slow or trickling its answers (each HTTP request also has its own deadline, venue.requestTimeoutMs); check the venue, or raise'
    : stage === 'publish'
      ? 'Its batch is one transaction, committed whole or not at all: check the parameter store (liqcal params history) before rerunning. If publishing legitimately takes longer, raise'
      : 'If the stage legitimately needs longer (more markets, a larger model or backtest), raise';
  return new AppError('unavailable', `The ${stage} stage did not finish within its ${formatDurationMs(deadlineMs)} deadline (${setting} = ${deadlineMs} ms, all attempts included): the run is recorded failed, the stage's work was cancelled and nothing after it ran. ${hint} ${setting} in ${p.file}.`, {
    context: { stage, deadlineMs, setting, file: p.file },
  });
}

/** The artifacts a stage's output contributes to the ledger entry. */
function artifactsOf(stage: StageName, out: StageOutputs): Record<string, unknown> {
  switch (stage) {
    case 'ingest': return { ingest: { venue: out.ingest!.venue, rows: out.ingest!.rows } };
    case 'train': return { model: { name: out.train!.name, version: out.train!.version, dir: out.train!.dir, promoted: out.train!.promoted, backend: out.train!.backend } };
    case 'evaluate': return { backtest: { from: out.evaluate!.from, to: out.evaluate!.to, policies: [...new Set(out.evaluate!.policies.map((r) => r.policy))], folds: out.evaluate!.folds } };
    case 'recommend': return { recommend: { policy: out.recommend!.policy, markets: out.recommend!.recommendations.map((r) => r.market) } };
    case 'publish': {
      const r = out.publish!.result;
      return { published: { backend: out.publish!.backend, proposed: r.proposed.map((x) => x.updateId), updateIds: r.published.map((x) => x.updateId), waiting: r.waiting.map((x) => x.updateId), refused: r.refused.map((x) => ({ updateId: x.updateId, rule: x.rule })) } };
    }
    case 'report': return { report: out.report! };
  }
}

/**
 * Runs a pipeline job as one ledger entry and returns its outcome; a failed or abandoned run is a result, not an
 * exception (the ledger says why). Throws only when the run cannot start (unknown job, unreadable store).
 */
export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const p = opts.pipeline;
  const job = selectJob(p, opts.job);
  const clock = opts.clock ?? systemClock;
  const dataClock: Clock = p.asOfMs === null ? clock : { now: () => p.asOfMs as EpochMs };
  const signal = opts.signal ?? new AbortController().signal;
  const store = opts.store ?? openStore(opts.db ?? settingPath(p, p.config.store.db, 'data/liqcal.db'));
  try {
    const md = new MarketData(store);
    const ledger = new RunLedger(store);
    const startedAtMs = clock.now();
    const sha = gitSha();
    const runId = ledger.start({ kind: `pipeline:${job.name}`, pipeline: p.name, config: p.config, configHash: p.configHash, ...(sha ? { gitSha: sha } : {}), seed: p.config.seed, nowMs: startedAtMs });
    const log = (opts.log ?? processLog).child({ runId, pipeline: p.name, job: job.name });
    opts.onStart?.(runId);
    const ctx: StageContext = {
      pipeline: p, runId, store, md, clock, dataClock, signal, log,
      reportDir: opts.outDir ?? settingPath(p, p.config.report.outDir, 'data/reports'),
    };
    const stages: RunStage[] = job.stages.map((name) => ({ name, status: 'pending', attempts: 0, startedAtMs: null, endedAtMs: null, error: null }));
    const artifacts: Record<string, unknown> = {};
    const outputs: StageOutputs = {};
    let watermark = dataWatermarkMs(p, md);
    ledger.progress(runId, { stages, ...(watermark !== null ? { dataWatermarkMs: watermark } : {}) });
    log.info({ stages: job.stages, configHash: p.configHash, gitSha: sha }, 'run started');

    const exec = async (stage: StageName, ctx: StageContext): Promise<void> => {
      switch (stage) {
        case 'ingest': outputs.ingest = await ingestStage(ctx); return;
        case 'train': outputs.train = await trainStage(ctx); return;
        case 'evaluate': outputs.evaluate = await evaluateStage(ctx); return;
        case 'recommend': outputs.recommend = await recommendStage(ctx); return;
        case 'publish': outputs.publish = await publishStage(ctx, outputs.recommend!); return;
        // The report is built only when every stage before it succeeded (the ledger keeps the final status).
        case 'report': outputs.report = await reportStage(ctx, {
          run: { id: runId, pipeline: p.name, status: 'succeeded', startedAtMs, endedAtMs: null, configHash: p.configHash, gitSha: sha, seed: p.config.seed, dataWatermarkMs: watermark },
          recommend: outputs.recommend!,
          ...(outputs.publish ? { previous: outputs.publish.previous, published: outputs.publish.result } : {}),
          ...(outputs.evaluate ? { backtest: outputs.evaluate } : {}),
        });
      }
    };

    let status: Exclude<RunStatus, 'running'> = 'succeeded';
    let error: AppError | null = null;
    for (const [i, name] of job.stages.entries()) {
      if (signal.aborted) {
        status = 'abandoned';
        error = new AppError('unavailable', `The run was stopped (SIGTERM/SIGINT, or its job lock was lost) before the ${name} stage; nothing from ${name} on ran. The next scheduled run starts afresh.`);
        break;
      }
      const t0 = clock.now();
      stages[i] = { ...stages[i]!, status: 'running', startedAtMs: t0, attempts: 1 };
      ledger.progress(runId, { stages });
      log.info({ stage: name }, 'stage started');
      opts.onStage?.({ stage: name, event: 'started', attempt: 1 });
      // The stage's own signal: aborted by the run's (SIGTERM, lost lock) and by the stage deadline.
      const stageAc = new AbortController();
      // Every request in flight (up to venue.concurrency of them) and every retry wait listens on it.
      setMaxListeners(0, stageAc.signal);
      const stopStage = (): void => stageAc.abort();
      if (signal.aborted) stageAc.abort();
      else signal.addEventListener('abort', stopStage, { once: true });
      const deadlineMs = stageTimeoutMs(p.config, name);
      let timedOut = false;
      let deadlineTimer: NodeJS.Timeout | undefined;
      const deadline = new Promise<{ readonly abandoned: true }>((resolve) => {
        deadlineTimer = setTimeout(() => {
          // A stage already stopping on SIGTERM is abandoned, not timed out.
          timedOut = !signal.aborted;
          resolve({ abandoned: true });
          stageAc.abort();
        }, timerSafeMs(deadlineMs));
      });
      const stageCtx: StageContext = { ...ctx, signal: stageAc.signal };
      const work = withRetries(job.retries, async (attempt) => {
        stages[i] = { ...stages[i]!, attempts: attempt };
        await exec(name, stageCtx);
      }, {
        signal: stageAc.signal,
        onRetry: ({ attempt, delayMs, error: e }) => {
          // A stage past its deadline or stopped is over: its late failures are not news, and the ledger entry is final.
          if (stageAc.signal.aborted) return;
          log.warn({ stage: name, attempt, delayMs, kind: e.kind, err: e.message }, 'stage failed; retrying');
          opts.onStage?.({ stage: name, event: 'retrying', attempt, delayMs, error: e });
          ledger.progress(runId, { stages });
        },
      });
      let r: Settled<{ value: void; attempts: number }>;
      try {
        r = await Promise.race([settleWithin(work, signal, name === 'publish' ? Infinity : p.config.runtime.graceMs), deadline]);
      } finally {
        clearTimeout(deadlineTimer);
        signal.removeEventListener('abort', stopStage);
      }
      const t1 = clock.now();
      if (timedOut) {
        // Whatever the stage still does is discarded; its late rejection must not surface as unhandled.
        work.catch(() => undefined);
        status = 'failed';
        error = stageTimeoutError(p, name, deadlineMs);
        stages[i] = { ...stages[i]!, status: 'failed', endedAtMs: t1, error: { kind: error.kind, message: error.message } };
        log.error({ stage: name, attempts: stages[i]!.attempts, deadlineMs, durationMs: t1 - t0 }, 'stage timed out');
        opts.onStage?.({ stage: name, event: 'failed', attempt: stages[i]!.attempts, durationMs: t1 - t0, error });
        break;
      }
      if ('ok' in r && r.ok) {
        stages[i] = { ...stages[i]!, status: 'succeeded', endedAtMs: t1 };
        Object.assign(artifacts, artifactsOf(name, outputs));
        if (name === 'ingest') watermark = dataWatermarkMs(p, md);
        ledger.progress(runId, { stages, artifacts, ...(watermark !== null ? { dataWatermarkMs: watermark } : {}) });
        log.info({ stage: name, attempts: stages[i]!.attempts, durationMs: t1 - t0 }, 'stage finished');
        opts.onStage?.({ stage: name, event: 'succeeded', attempt: stages[i]!.attempts, durationMs: t1 - t0 });
        continue;
      }
      const abandoned = 'abandoned' in r || signal.aborted || (!r.ok && r.error instanceof AbortedError);
      error = abandoned
        ? new AppError('unavailable', `The run was stopped (SIGTERM/SIGINT, or its job lock was lost) during the ${name} stage, which ${'abandoned' in r ? `was still going after the ${p.config.runtime.graceMs} ms grace` : 'stopped'}; nothing after it ran. The next scheduled run starts afresh.`)
        : asAppError((r as { error: unknown }).error);
      status = abandoned ? 'abandoned' : 'failed';
      stages[i] = { ...stages[i]!, status: abandoned ? 'abandoned' : 'failed', endedAtMs: t1, error: { kind: error.kind, message: error.message } };
      if (abandoned) log.warn({ stage: name, durationMs: t1 - t0 }, 'stage abandoned');
      else log.error({ stage: name, attempts: stages[i]!.attempts, kind: error.kind, err: error.message }, 'stage failed');
      opts.onStage?.({ stage: name, event: abandoned ? 'abandoned' : 'failed', attempt: stages[i]!.attempts, durationMs: t1 - t0, error });
      break;
    }
    for (const [i, s] of stages.entries()) if (s.status === 'pending') stages[i] = { ...s, status: 'skipped' };
    ledger.finish(runId, {
      status, stages, artifacts, nowMs: clock.now(), ...(error ? { error: error.message } : {}), ...(watermark !== null ? { dataWatermarkMs: watermark } : {}),
      stats: { job: job.name, trigger: { reason: opts.trigger?.reason ?? 'manual', tick: opts.trigger?.tickMs === undefined ? null : iso(opts.trigger.tickMs) }, stages: stages.map((s) => ({ name: s.name, status: s.status, ms: s.endedAtMs !== null && s.startedAtMs !== null ? s.endedAtMs - s.startedAtMs : null })) },
    });
    log.info({ status, durationMs: clock.now() - startedAtMs }, 'run finished');
    return { runId, pipeline: p.name, job: job.name, status, stages, artifacts, error, dataWatermarkMs: watermark, outputs };
  } finally {
    if (!opts.store) store.close();
  }
}
