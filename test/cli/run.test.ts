import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { writeTickPipeline } from '../pipeline/fixture.ts';

const REPORTING = new URL('../../src/reporting/index.ts', import.meta.url).pathname;
const tmp = tempDir('liqcal-run-cli-');
afterAll(() => tmp.cleanup());

interface RunJson {
  runId: string; pipeline: string; job: string; status: string; error: { kind: string; message: string } | null; dataWatermark: string | null;
  stages: { name: string; status: string; attempts: number; startedAt: string | null; endedAt: string | null }[];
  artifacts: { report?: { html: string; markdown: string; json: string }; published?: { updateIds: number[] } };
  changes: { market: string; parameter: string; before: string; after: string; outcome: string }[];
}

describe('liqcal run / runs', () => {
  let file: string;
  beforeAll(async () => {
    for (const t0 = Date.now(); !existsSync(REPORTING); await sleep(500)) if (Date.now() - t0 > 60_000) throw new Error('src/reporting/index.ts did not appear');
    file = writeTickPipeline(tmp.dir, { jobs: [{ name: 'tick', cron: '*/2 * * * * *', stages: ['ingest', 'evaluate', 'recommend', 'publish', 'report'] }] });
  });

  it('runs a pipeline end to end, prints the run as JSON, and the ledger lists it newest first', async () => {
    const r = await runCli(['run', '--pipeline', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunJson;
    expect(out).toMatchObject({ pipeline: 'tick', job: 'all', status: 'succeeded', error: null, dataWatermark: '2025-10-31T23:00:00.000Z' });
    expect(out.stages.map((s) => [s.name, s.status, s.attempts])).toEqual(['ingest', 'evaluate', 'recommend', 'publish', 'report'].map((s) => [s, 'succeeded', 1]));
    expect(out.stages.every((s) => /^\d{4}-\d\d-\d\dT/.test(s.startedAt!) && s.endedAt! >= s.startedAt!)).toBe(true);
    expect(out.artifacts.published!.updateIds).toHaveLength(8);
    expect(readFileSync(out.artifacts.report!.markdown, 'utf8')).toContain(out.runId);
    expect(out.artifacts.report!.html).toBe(join(tmp.dir, 'reports', out.runId, 'report.html'));
    expect(out.changes.filter((c) => c.market === 'BTCUSDT').map((c) => [c.parameter, c.before, c.outcome.split(' #')[0]])).toEqual([
      ['maintenanceMarginRatio', '—', 'published'], ['initialMarginRatio', '—', 'published'], ['maxLeverage', '—', 'published'], ['circuitBreaker', '—', 'published'],
    ]);

    // Again, one job, for people: the stage table, what changed (now against the live values) and where the report is.
    const again = await runCli(['run', '--pipeline', file, '--job', 'tick'], { env: { LIQCAL_LOG_LEVEL: 'warn' } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/of pipeline tick \(job tick\): SUCCEEDED/);
    expect(again.stdout).toMatch(/What changed[^\n]*\n.*maintenance[\s\S]*BTCUSDT\s+\d+\.\d+% \(same\)/);
    expect(again.stdout).toMatch(/Report: .*reports\/\d{8}T\d{6}-[0-9a-f]{8}\/report\.html/);
    expect(again.stderr).toMatch(/▸ evaluate…/);

    const runs = await runCli(['runs', '--db', join(tmp.dir, 'tick.db'), '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    const list = (JSON.parse(runs.stdout) as { runs: { id: string; pipeline: string; job: string; status: string; startedAt: string; endedAt: string; stages: { name: string; status: string; durationMs: number }[]; artifacts: Record<string, unknown>; error: null }[] }).runs;
    expect(list).toHaveLength(2);
    expect(list[1]).toMatchObject({ id: out.runId, pipeline: 'tick', job: 'all', status: 'succeeded', error: null });
    expect(list[0]).toMatchObject({ pipeline: 'tick', job: 'tick', status: 'succeeded' });
    expect(list[0]!.startedAt >= list[1]!.startedAt).toBe(true);
    expect(list[0]!.endedAt >= list[0]!.startedAt).toBe(true);
    expect(list[0]!.stages.map((s) => s.name)).toEqual(['ingest', 'evaluate', 'recommend', 'publish', 'report']);
    expect(Object.keys(list[0]!.artifacts).sort()).toEqual(['backtest', 'ingest', 'published', 'recommend', 'report']);
  }, 90_000);

  it('exits with the failed stage\'s error code, and records what ran', async () => {
    const bad = writeTickPipeline(tmp.dir, { policy: { name: 'har', calibrationDays: 120 } }, { name: 'short' });
    const r = await runCli(['run', '--pipeline', bad, '--json']);
    expect(r.code).toBe(6);
    const out = JSON.parse(r.stdout) as RunJson;
    expect(out.status).toBe('failed');
    expect(out.error!.kind).toBe('dataQuality');
    expect(out.stages.map((s) => s.status)).toEqual(['succeeded', 'failed', 'skipped']);
  }, 60_000);

  it('refuses a bad pipeline file (exit 3) naming the file and field, and an unknown job', async () => {
    const badCron = join(tmp.dir, 'cron.json');
    writeFileSync(badCron, JSON.stringify({ markets: ['BTCUSDT'], venue: { kind: 'simulator' }, jobs: [{ name: 'x', cron: 'every hour', stages: ['ingest'] }] }));
    const r = await runCli(['run', '--pipeline', badCron]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cron.json: jobs[0].cron: invalid cron expression "every hour"');
    const s = await runCli(['schedule', '--pipeline', badCron]);
    expect(s.code).toBe(3);
    const j = await runCli(['run', '--pipeline', file, '--job', 'weekly', '--json']);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { kind: 'config', message: expect.stringMatching(/has no job "weekly"; its jobs are tick/) } });
  });

  it('does not run a job another process holds (exit 7), naming the holder', async () => {
    const store = openStore(join(tmp.dir, 'tick.db'));
    try {
      store.db.prepare('INSERT INTO job_locks (name, owner, run_id, acquired_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms')
        .run('tick/tick', 'other-host:123:abc', 'r1', Date.now(), Date.now() + 3_600_000);
    } finally {
      store.close();
    }
    const r = await runCli(['run', '--pipeline', file, '--job', 'tick']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/Job tick of pipeline tick is running in other-host:123:abc/);
  });
});
