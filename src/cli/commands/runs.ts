import type { Command } from 'commander';
import { iso } from '../../core/time.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { RunLedger } from '../../store/runs.ts';
import { makeOutput, positiveInt, table } from '../output.ts';

/** `liqcal runs`: the run ledger, newest first. */
export function registerRuns(program: Command): void {
  program.command('runs')
    .description('List recorded runs (ingest, import, pipelines), newest first.')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--limit <n>', 'how many', positiveInt('--limit'), 20)
    .option('--json', 'print as JSON')
    .action((flags: { db: string; limit: number; json?: boolean }) => {
      const out = makeOutput(flags);
      const store = openStore(flags.db);
      try {
        const runs = new RunLedger(store).list(flags.limit).map((r) => ({
          id: r.id, kind: r.kind, pipeline: r.pipeline, status: r.status, startedAt: iso(r.startedAtMs), endedAt: r.endedAtMs === null ? null : iso(r.endedAtMs),
          seed: r.seed, configHash: r.configHash, gitSha: r.gitSha, error: r.error, stats: r.stats,
        }));
        out.result({ runs }, () => table(['id', 'kind', 'status', 'started', 'ended'], runs.map((r) => [r.id, r.kind, r.status, r.startedAt, r.endedAt ?? '-'])));
      } finally {
        store.close();
      }
    });
}
