import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadPipeline, settingPath, type Pipeline } from '../../config/pipeline.ts';
import { AppError, EXIT_CODES } from '../../core/errors.ts';
import { log } from '../../core/log.ts';
import { redact } from '../../core/redact.ts';
import { jsonForTerminal } from '../../core/terminal.ts';
import { iso } from '../../core/time.ts';
import type { RunResult, StageEvent } from '../../pipeline/runner.ts';
import type { ParamValue } from '../../params/record.ts';
import { openStore } from '../../store/db.ts';
import type { RunStage } from '../../store/runs.ts';
import { makeOutput, table, type Output } from '../output.ts';
import { EXIT_ABANDONED, exitWhenFlushed, stopOnSignals } from '../signals.ts';

export { EXIT_ABANDONED };

/** Rail rules that only hold an approved update back (it publishes on a later run), as opposed to refusing it. */
const HELD = new Set(['minDelay', 'pause']);

const pct = (x: number): string => `${(x * 100).toFixed(3)}%`;
function show(type: string, v: ParamValue | undefined): string {
  if (v === undefined) return '—';
  if (typeof v === 'number') return type === 'maxLeverage' ? `${v}×` : type === 'oracleLatencyBufferBps' ? `${v.toFixed(1)} bps` : pct(v);
  return Array.isArray(v) ? `${v.length} tiers` : v.state;
}

/** One row per market: live value before → recommended value, and what the parameter store did with the proposals. */
export function changeRows(r: RunResult): { market: string; parameter: string; before: string; after: string; outcome: string }[] {
  const rec = r.outputs.recommend;
  if (!rec) return [];
  const pub = r.outputs.publish;
  const types = ['maintenanceMarginRatio', 'initialMarginRatio', 'maxLeverage', 'circuitBreaker'] as const;
  return rec.recommendations.flatMap((m) => types.map((t) => {
    const after: ParamValue = t === 'circuitBreaker' ? { state: m.circuitBreaker.state, reasons: [] } : m.params[t];
    const rec2 = pub?.result.proposed.find((x) => x.market === m.market && x.updateType === t);
    const id = rec2?.updateId;
    const outcome = !pub ? 'not published (no publish stage)'
      : id === undefined ? '-'
        : pub.result.published.some((x) => x.updateId === id) ? `published #${id}`
          : pub.result.waiting.some((x) => x.updateId === id) ? `waiting for approval #${id}`
            : HELD.has(pub.result.refused.find((x) => x.updateId === id)?.rule ?? '') ? `held back #${id} (${pub.result.refused.find((x) => x.updateId === id)!.rule}; still approved)`
              : `refused #${id} (${pub.result.refused.find((x) => x.updateId === id)?.rule ?? rec2?.state})`;
    return { market: m.market, parameter: t, before: pub ? show(t, pub.previous[m.market]?.[t]) : '?', after: show(t, after), outcome };
  }));
}

const stageJson = (s: RunStage) => ({ ...s, startedAt: s.startedAtMs === null ? null : iso(s.startedAtMs), endedAt: s.endedAtMs === null ? null : iso(s.endedAtMs) });

function progressLine(out: Output, e: StageEvent): void {
  const secs = e.durationMs === undefined ? '' : ` (${(e.durationMs / 1000).toFixed(1)} s)`;
  if (e.event === 'started') out.info(`▸ ${e.stage}…`);
  else if (e.event === 'retrying') out.info(`  ${e.stage}: attempt ${e.attempt} failed (${e.error?.kind}: ${e.error?.message}); retrying in ${((e.delayMs ?? 0) / 1000).toFixed(1)} s`);
  else out.info(`  ${e.stage}: ${e.event}${secs}${e.attempt > 1 ? ` after ${e.attempt} attempts` : ''}${e.error && e.event === 'failed' ? ` — ${e.error.message}` : ''}`);
}

function humanSummary(p: Pipeline, r: RunResult, db: string): string {
  const elapsed = r.stages.reduce((s, x) => s + (x.endedAtMs !== null && x.startedAtMs !== null ? x.endedAtMs - x.startedAtMs : 0), 0);
  const lines = [
    `Run ${r.runId} of pipeline ${p.name} (job ${r.job}): ${r.status.toUpperCase()} after ${(elapsed / 1000).toFixed(1)} s${r.dataWatermarkMs !== null ? `; data up to ${iso(r.dataWatermarkMs).slice(0, 16)} UTC` : ''}.`,
    table(['stage', 'status', 'attempts', 'seconds'], r.stages.map((s) => [s.name, s.status, s.attempts, s.endedAtMs !== null && s.startedAtMs !== null ? ((s.endedAtMs - s.startedAtMs) / 1000).toFixed(1) : '-'])),
  ];
  if (r.error) lines.push('', `Error (${r.error.kind}): ${r.error.message}`, r.status === 'failed' ? 'Nothing after the failed stage ran, so nothing of this run was published.' : '');
  const changes = changeRows(r);
  if (changes.length) {
    const pubAll = r.outputs.publish?.result;
    const markets = [...new Set(changes.map((c) => c.market))];
    const cell = (m: string, t: string): string => { const c = changes.find((x) => x.market === m && x.parameter === t)!; return c.before === c.after ? `${c.after} (same)` : `${c.before} → ${c.after}`; };
    const fate = (m: string): string => {
      if (!pubAll) return 'not published';
      const ids = new Set(pubAll.proposed.filter((x) => x.market === m).map((x) => x.updateId));
      const n = (xs: readonly { updateId: number }[]): number => xs.filter((x) => ids.has(x.updateId)).length;
      return `${n(pubAll.published)}/${ids.size} published${n(pubAll.waiting) ? `, ${n(pubAll.waiting)} waiting` : ''}${n(pubAll.refused) ? `, ${n(pubAll.refused)} held/refused` : ''}`;
    };
    lines.push('', `What changed (live value before this run → recommended${pubAll ? '' : '; this job does not publish'}):`);
    lines.push(table(['market', 'maintenance', 'initial', 'max leverage', 'breaker', 'parameter store'], markets.map((m) => [m, cell(m, 'maintenanceMarginRatio'), cell(m, 'initialMarginRatio'), cell(m, 'maxLeverage'), cell(m, 'circuitBreaker'), fate(m)])));
  }
  const pub = r.outputs.publish?.result;
  if (pub) {
    const held = pub.refused.filter((x) => HELD.has(x.rule)).length;
    const refused = pub.refused.filter((x) => !HELD.has(x.rule));
    lines.push('', `Parameter store: ${pub.proposed.length} proposed, ${pub.published.length} published, ${pub.waiting.length} waiting for a person, ${held} held back by the minimum delay or the pause (still approved: a later run publishes them), ${refused.length} refused by the rails${refused.length ? ` (${[...new Set(refused.map((x) => x.rule))].join(', ')})` : ''}.`);
  }
  const rep = r.outputs.report;
  if (rep) lines.push('', `Report: ${rep.html}`, `        ${rep.markdown} (Markdown for the governance forum), ${rep.json} (JSON)${rep.png.length ? `, ${rep.png.length} PNG charts` : ''}`);
  lines.push('', `Ledger: liqcal runs --db ${db}${rep ? ` · again later: liqcal report --db ${db} --run ${r.runId} --out DIR` : ''}`);
  return lines.join('\n');
}

/** `liqcal run` (one pipeline job, now) and `liqcal schedule` (the daemon running every job on its cron schedule). */
export function registerRun(program: Command): void {
  program.command('run')
    .description('Run a pipeline job once, now: its stages in order (ingest, train, evaluate, recommend, publish, report), recorded in the run ledger.')
    .requiredOption('--pipeline <file>', 'pipeline file (pipelines/*.json)')
    .option('--job <name>', 'job to run (default: every stage any job declares, once)')
    .option('--db <path>', "store file (default: the pipeline's store.db)")
    .option('--out <dir>', "report directory; the report goes into <dir>/<run id>/ (default: the pipeline's report.outDir)")
    .option('--json', 'print the run (stages, artifacts, changes) as JSON')
    .option('--quiet', 'no progress lines')
    .addHelpText('after', `
Examples:
  $ liqcal run --pipeline pipelines/demo.json                      # everything once, offline (what npm start runs)
  $ liqcal run --pipeline pipelines/live-binance.json --job hourly  # one job, as the scheduler would run it
  $ liqcal run --pipeline pipelines/csv.json --out reports --json
A stage that fails is retried only for network, rate-limit and unavailable errors; when it still fails, nothing after
it runs (nothing is published). SIGTERM/SIGINT: the current stage finishes within runtime.graceMs or is abandoned.
Exit codes: 0 succeeded; the error's code when a stage failed (see liqcal --help); 143 abandoned on a signal.`)
    .action(async (f: { pipeline: string; job?: string; db?: string; out?: string; json?: boolean; quiet?: boolean }) => {
      const out = makeOutput(f);
      const p = loadPipeline(f.pipeline);
      const db = f.db ? resolve(f.db) : settingPath(p, p.config.store.db, 'data/liqcal.db');
      const { runLocked } = await import('../../scheduler/locked-run.ts');
      const store = openStore(db);
      const { signal, dispose } = stopOnSignals(out, 'the run');
      let timedOut = false;
      try {
        out.info(`pipeline ${p.name} (${f.pipeline}), job ${f.job ?? 'all'}, store ${db}`);
        const o = await runLocked({
          pipeline: p, store, owner: `${hostname()}:${process.pid}:cli`, signal, onStage: (e) => progressLine(out, e),
          ...(f.job ? { job: f.job } : {}), ...(f.out ? { outDir: resolve(f.out) } : {}),
        });
        if (!o.ran) {
          const l = o.claim.lock;
          throw new AppError('unavailable', `Job ${f.job ?? 'all'} of pipeline ${p.name} is running in ${l.owner}${l.runId ? ` (run ${l.runId})` : ''} since ${iso(l.acquiredAtMs)}, lease until ${iso(l.expiresAtMs)}. Wait for it to end (liqcal runs --db ${db}) and run again.`, { context: { lock: l } });
        }
        const r = o.result;
        timedOut = r.stages.some((st) => st.status === 'failed') && r.error?.context.deadlineMs !== undefined;
        out.result({
          runId: r.runId, pipeline: r.pipeline, job: r.job, status: r.status, error: r.error ? r.error.toJSON() : null,
          dataWatermark: r.dataWatermarkMs === null ? null : iso(r.dataWatermarkMs), configHash: p.configHash,
          stages: r.stages.map(stageJson), artifacts: r.artifacts, changes: changeRows(r),
        }, () => humanSummary(p, r, db));
        if (r.status === 'failed') process.exitCode = EXIT_CODES[r.error?.kind ?? 'internal'];
        if (r.status === 'abandoned') process.exitCode = EXIT_ABANDONED;
      } finally {
        dispose();
        store.close();
      }
      // After a signal or a stage deadline, a stage's discarded work (CPU-bound training, a request) must not keep the process alive.
      if (signal.aborted || timedOut) await exitWhenFlushed(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });

  program.command('schedule')
    .description('Run every job of a pipeline on its cron schedule (UTC) until SIGTERM; one run per job at a time, locked across processes sharing the store.')
    .requiredOption('--pipeline <file>', 'pipeline file (pipelines/*.json)')
    .option('--db <path>', "store file (default: the pipeline's store.db)")
    .option('--out <dir>', "report directory (default: the pipeline's report.outDir)")
    .option('--json', 'print NDJSON on stdout: the schedule, then one line per run')
    .option('--quiet', 'no progress lines')
    .addHelpText('after', `
Examples:
  $ liqcal schedule --pipeline pipelines/live-binance.json
  $ LIQCAL_LOG_LEVEL=debug liqcal schedule --pipeline pipelines/demo.json --db /var/lib/liqcal/liqcal.db --json
Logs are pino JSON lines on stderr (level info unless LIQCAL_LOG_LEVEL says otherwise), each run's lines carrying its runId.
A tick that comes while the job still runs is skipped; on start, a job whose last success is older than one period runs
once (catchUp). SIGTERM/SIGINT stops the daemon gracefully and it exits 0.`)
    .action(async (f: { pipeline: string; db?: string; out?: string; json?: boolean; quiet?: boolean }) => {
      const out = makeOutput(f);
      const p = loadPipeline(f.pipeline);
      if (process.env.LIQCAL_LOG_LEVEL === undefined) log.level = 'info';
      const db = f.db ? resolve(f.db) : settingPath(p, p.config.store.db, 'data/liqcal.db');
      const { startScheduler } = await import('../../scheduler/daemon.ts');
      const { signal, dispose } = stopOnSignals(out, 'the scheduler');
      const line = (x: unknown): void => { if (f.json) process.stdout.write(`${jsonForTerminal(JSON.stringify(redact(x)))}\n`); };
      try {
        const s = await startScheduler({
          pipeline: p, db, signal, ...(f.out ? { outDir: resolve(f.out) } : {}),
          onRun: (r) => {
            line({ run: { runId: r.runId, job: r.job, status: r.status, error: r.error ? r.error.toJSON() : null, stages: r.stages.map(stageJson), artifacts: r.artifacts } });
            out.info(`${new Date().toISOString()} ${r.job}: run ${r.runId} ${r.status}${r.error ? ` — ${r.error.message}` : ''}`);
          },
        });
        line({ scheduler: { pipeline: p.name, owner: s.owner, db, jobs: s.jobs } });
        out.info(`scheduling pipeline ${p.name} (${f.pipeline}) on ${db} as ${s.owner}; times are UTC:\n${table(['job', 'cron', 'next run'], s.jobs.map((j) => [j.name, j.cron, j.next ?? '-']))}`);
        await s.done;
      } finally {
        dispose();
      }
      // Only a signal ends the daemon.
      await exitWhenFlushed(0);
    });
}
