import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { iso } from '../../core/time.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { RunLedger, type RunStatus } from '../../store/runs.ts';
import { makeOutput, positiveInt, table } from '../output.ts';

const STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'abandoned'];
const isoOrNull = (t: number | null): string | null => (t === null ? null : iso(t));

/** `liqcal runs`: the run ledger, newest first. */
export function registerRuns(program: Command): void {
  program.command('runs')
    .description('List recorded runs (ingest, import, pipelines), newest first.')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--limit <n>', 'how many', positiveInt('--limit'), 20)
    .option('--pipeline <name>', 'only runs of this pipeline')
    .option('--status <s>', `only runs in this status: ${STATUSES.join(', ')}`)
    .option('--json', 'print as JSON: {"runs":[{id, kind, pipeline, job, status, startedAt, endedAt, stages, artifacts, error, …}]}')
    .addHelpText('after', `
Examples:
  $ liqcal runs --db data/liqcal.db
  $ liqcal runs --db data/liqcal.db --pipeline demo --status failed --json`)
    .action((flags: { db: string; limit: number; pipeline?: string; status?: string; json?: boolean }) => {
      const out = makeOutput(flags);
      if (flags.status !== undefined && !(STATUSES as readonly string[]).includes(flags.status)) {
        throw new AppError('config', `--status must be one of ${STATUSES.join(', ')}, not "${flags.status}".`, { context: { status: flags.status } });
      }
      const store = openStore(flags.db);
      try {
        const filter = { ...(flags.pipeline ? { pipeline: flags.pipeline } : {}), ...(flags.status ? { status: flags.status as RunStatus } : {}) };
        const runs = new RunLedger(store).list(flags.limit, filter).map((r) => ({
          id: r.id, kind: r.kind, pipeline: r.pipeline, job: r.kind.startsWith('pipeline:') ? r.kind.slice('pipeline:'.length) : null,
          status: r.status, startedAt: iso(r.startedAtMs), endedAt: isoOrNull(r.endedAtMs),
          seed: r.seed, configHash: r.configHash, gitSha: r.gitSha, dataWatermark: isoOrNull(r.dataWatermarkMs), error: r.error, stats: r.stats,
          stages: r.stages?.map((s) => ({ ...s, startedAt: isoOrNull(s.startedAtMs), endedAt: isoOrNull(s.endedAtMs), durationMs: s.startedAtMs !== null && s.endedAtMs !== null ? s.endedAtMs - s.startedAtMs : null })) ?? null,
          artifacts: r.artifacts,
        }));
        out.result({ runs }, () => table(['id', 'kind', 'pipeline', 'status', 'started', 'ended', 'stages'], runs.map((r) => [
          r.id, r.kind, r.pipeline ?? '-', r.status, r.startedAt, r.endedAt ?? '-',
          r.stages ? r.stages.map((s) => `${s.name}:${s.status === 'succeeded' ? 'ok' : s.status}${s.attempts > 1 ? `×${s.attempts}` : ''}`).join(' ') : '-',
        ])));
      } finally {
        store.close();
      }
    });
}
