import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { loadPipeline, parsePipeline } from '../../src/config/pipeline.ts';
import { openPostgresBackend } from '../../src/params/postgres-backend.ts';
import { runPipeline, type StageEvent } from '../../src/pipeline/runner.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { RunLedger } from '../../src/store/runs.ts';
import { klinesRoute } from '../helpers/binance-wire.ts';
import { startTestServer, type TestServer } from '../helpers/http-server.ts';
import { syntheticBars, tempDir } from '../helpers/tmp.ts';
import { lastBarMs, writeTickPipeline } from './fixture.ts';

const REPORTING = new URL('../../src/reporting/index.ts', import.meta.url).pathname;

/** The report stage imports src/reporting (another engineer's module): wait until it exists. */
async function reportingReady(timeoutMs = 60_000): Promise<void> {
  for (const t0 = Date.now(); !existsSync(REPORTING); await sleep(500)) if (Date.now() - t0 > timeoutMs) throw new Error(`${REPORTING} did not appear`);
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => { tmp = tempDir('liqcal-runner-'); });
afterEach(() => tmp.cleanup());

/** Param records of a run (by referenceId), with their state and publish sequence. */
function recordsOf(store: Store, runId?: string): { update_id: number; state: string; publish_seq: number | null; reference_id: string }[] {
  return (runId === undefined
    ? store.db.prepare('SELECT update_id, state, publish_seq, reference_id FROM param_records ORDER BY update_id').all()
    : store.db.prepare('SELECT update_id, state, publish_seq, reference_id FROM param_records WHERE reference_id = ? ORDER BY update_id').all(`run:${runId}`)) as never;
}

describe('runPipeline', () => {
  it('runs the stages in order as one ledger entry: hash, seed, watermark, stage timings, artifacts, report', async () => {
    await reportingReady();
    const file = writeTickPipeline(tmp.dir, { jobs: [{ name: 'tick', cron: '*/2 * * * * *', stages: ['ingest', 'recommend', 'publish', 'report'] }] });
    const p = loadPipeline(file);
    const events: string[] = [];
    const r = await runPipeline({ pipeline: p, job: 'tick', onStage: (e) => events.push(`${e.stage}:${e.event}`) });
    expect(r.error?.message ?? null).toBeNull();
    expect(r.status).toBe('succeeded');
    expect(events).toEqual(['ingest', 'recommend', 'publish', 'report'].flatMap((s) => [`${s}:started`, `${s}:succeeded`]));
    const store = openStore(tmp.path('tick.db'));
    try {
      const run = new RunLedger(store).get(r.runId)!;
      expect(run).toMatchObject({ kind: 'pipeline:tick', pipeline: 'tick', status: 'succeeded', configHash: p.configHash, seed: 42, error: null });
      expect(run.gitSha === null || /^[0-9a-f]{40}$/.test(run.gitSha)).toBe(true);
      expect(run.dataWatermarkMs).toBe(lastBarMs(tmp.path('BTCUSDT.csv')));
      expect(run.stages!.map((s) => [s.name, s.status, s.attempts])).toEqual([['ingest', 'succeeded', 1], ['recommend', 'succeeded', 1], ['publish', 'succeeded', 1], ['report', 'succeeded', 1]]);
      run.stages!.forEach((s, i) => {
        expect(s.endedAtMs!).toBeGreaterThanOrEqual(s.startedAtMs!);
        if (i > 0) expect(s.startedAtMs!).toBeGreaterThanOrEqual(run.stages![i - 1]!.endedAtMs!);
      });
      const published = recordsOf(store, r.runId);
      expect(published).toHaveLength(8);
      expect(published.every((x) => x.state === 'published')).toBe(true);
      expect((run.artifacts!.published as { updateIds: number[] }).updateIds).toEqual(published.map((x) => x.update_id));
      const report = run.artifacts!.report as { dir: string; html: string; markdown: string; json: string };
      expect(report.dir).toBe(tmp.path(`reports/${r.runId}`));
      for (const f of [report.html, report.markdown, report.json]) expect(existsSync(f)).toBe(true);
      expect(store.db.prepare('SELECT COUNT(*) AS n FROM run_reports WHERE run_id = ?').get(r.runId)).toEqual({ n: 1 });
    } finally {
      store.close();
    }
  });

  it('a stage that fails ends the run: nothing after it runs, nothing is published, and a final error is not retried', async () => {
    // 150 days of bars cannot give 120 days of calibration plus the 60 before it: recommend fails with dataQuality.
    const p = loadPipeline(writeTickPipeline(tmp.dir, { policy: { name: 'har', calibrationDays: 120 } }));
    const r = await runPipeline({ pipeline: p, job: 'tick' });
    expect(r.status).toBe('failed');
    expect(r.error?.kind).toBe('dataQuality');
    expect(r.stages.map((s) => [s.name, s.status, s.attempts])).toEqual([['ingest', 'succeeded', 1], ['recommend', 'failed', 1], ['publish', 'skipped', 0]]);
    const store = openStore(tmp.path('tick.db'));
    try {
      expect(recordsOf(store)).toEqual([]);
      const run = new RunLedger(store).get(r.runId)!;
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/BTCUSDT has bars from .* only: recommend needs 120 days/);
      expect(run.stages![1]!.error).toMatchObject({ kind: 'dataQuality' });
    } finally {
      store.close();
    }
  });

  describe('retries of a venue that fails', () => {
    let server: TestServer | undefined;
    afterAll(async () => { await server?.close(); });
    const bars = syntheticBars(Date.UTC(2025, 0, 1), 24 * 10);
    const livePipeline = (url: string) => parsePipeline({
      markets: ['BTCUSDT'], asOf: '2025-01-11T00:00:00Z', store: { db: tmp.path('live.db') },
      venue: { kind: 'live', venue: 'binance-spot', baseUrl: url, days: 10, httpRetries: 0 },
      retries: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
      jobs: [{ name: 'ingest', cron: '0 * * * *', stages: ['ingest'] }],
    }, tmp.path('live.json'));

    it('retries an unavailable venue with backoff and succeeds when it comes back', async () => {
      let calls = 0;
      const route = klinesRoute(bars);
      server = await startTestServer((req) => (++calls === 1 ? { status: 503, body: '{"code":-1,"msg":"busy"}' } : route(req)));
      const retries: StageEvent[] = [];
      const r = await runPipeline({ pipeline: livePipeline(server.url), job: 'ingest', onStage: (e) => { if (e.event === 'retrying') retries.push(e); } });
      await server.close();
      server = undefined;
      expect(r.status).toBe('succeeded');
      expect(r.stages[0]).toMatchObject({ name: 'ingest', status: 'succeeded', attempts: 2 });
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ attempt: 1, delayMs: 10, error: expect.objectContaining({ kind: 'unavailable' }) });
      expect(r.outputs.ingest!.rows).toBe(bars.length);
    });

    it('gives up after maxAttempts and records the attempts and the error', async () => {
      server = await startTestServer(() => ({ status: 503, body: '{"code":-1,"msg":"busy"}' }));
      const r = await runPipeline({ pipeline: livePipeline(server.url), job: 'ingest' });
      expect(server.requests).toHaveLength(3);
      expect(r.status).toBe('failed');
      expect(r.stages[0]).toMatchObject({ status: 'failed', attempts: 3, error: expect.objectContaining({ kind: 'unavailable' }) });
    });
  });

  describe('abort (SIGTERM)', () => {
    it('lets the current stage finish within the grace, then stops before publish: nothing is published', async () => {
      const p = loadPipeline(writeTickPipeline(tmp.dir, { runtime: { graceMs: 60_000, leaseMs: 5_000 } }));
      const ac = new AbortController();
      const r = await runPipeline({ pipeline: p, job: 'tick', signal: ac.signal, onStage: (e) => { if (e.stage === 'recommend' && e.event === 'started') ac.abort(); } });
      expect(r.status).toBe('abandoned');
      expect(r.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'skipped']);
      expect(r.error?.message).toMatch(/stopped \(SIGTERM\/SIGINT, or its job lock was lost\) before the publish stage/);
      const store = openStore(tmp.path('tick.db'));
      try {
        expect(recordsOf(store)).toEqual([]);
        expect(new RunLedger(store).get(r.runId)!.status).toBe('abandoned');
      } finally {
        store.close();
      }
    });

    it('abandons a stage still going after the grace', async () => {
      const server = await startTestServer(() => ({ status: 200, body: '[]', delayMs: 3_000 }));
      try {
        const p = parsePipeline({
          markets: ['BTCUSDT'], store: { db: tmp.path('slow.db') }, runtime: { graceMs: 0, leaseMs: 5_000 },
          venue: { kind: 'live', venue: 'binance-spot', baseUrl: server.url, days: 2 },
          jobs: [{ name: 'j', cron: '0 * * * *', stages: ['ingest', 'recommend', 'publish'] }],
        }, tmp.path('slow.json'));
        const ac = new AbortController();
        const r = await runPipeline({ pipeline: p, job: 'j', signal: ac.signal, onStage: (e) => { if (e.event === 'started') setImmediate(() => ac.abort()); } });
        expect(r.status).toBe('abandoned');
        expect(r.stages.map((s) => s.status)).toEqual(['abandoned', 'skipped', 'skipped']);
      } finally {
        await server.close();
      }
    });

    it('never cuts the publish stage short: its batch commits whole', async () => {
      const p = loadPipeline(writeTickPipeline(tmp.dir, { runtime: { graceMs: 0, leaseMs: 5_000 } }));
      const ac = new AbortController();
      const r = await runPipeline({ pipeline: p, job: 'tick', signal: ac.signal, onStage: (e) => { if (e.stage === 'publish' && e.event === 'started') ac.abort(); } });
      expect(r.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(r.status).toBe('succeeded');
      const store = openStore(tmp.path('tick.db'));
      try {
        expect(recordsOf(store, r.runId).map((x) => x.state)).toEqual(Array(8).fill('published'));
      } finally {
        store.close();
      }
    });

    it('runs nothing when stopped before the first stage', async () => {
      const p = loadPipeline(writeTickPipeline(tmp.dir));
      const ac = new AbortController();
      ac.abort();
      const r = await runPipeline({ pipeline: p, job: 'tick', signal: ac.signal });
      expect(r.status).toBe('abandoned');
      expect(r.stages.map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped']);
    });
  });

  it('publishes a batch in one transaction: a failure in its middle publishes none of it', async () => {
    const p = loadPipeline(writeTickPipeline(tmp.dir));
    const store = openStore(tmp.path('tick.db'));
    try {
      // A real SQLite trigger refuses the third publication of the batch, after two have been written in the transaction.
      store.db.exec(`CREATE TRIGGER test_fail_mid_batch BEFORE UPDATE OF state ON param_records
        WHEN NEW.state = 'published' AND (SELECT COUNT(*) FROM param_records WHERE state = 'published') >= 2
        BEGIN SELECT RAISE(ABORT, 'injected failure in the middle of the batch'); END;`);
      const r = await runPipeline({ pipeline: p, job: 'tick', store });
      expect(r.status).toBe('failed');
      expect(r.stages.map((s) => [s.name, s.status])).toEqual([['ingest', 'succeeded'], ['recommend', 'succeeded'], ['publish', 'failed']]);
      expect(r.error?.message).toMatch(/injected failure in the middle of the batch/);
      const states = recordsOf(store, r.runId).map((x) => x.state);
      expect(states).toHaveLength(8);
      expect(states.filter((s) => s === 'published')).toEqual([]);
      expect(states.every((s) => s === 'approved')).toBe(true);
      expect(store.db.prepare('SELECT COUNT(*) AS n FROM param_heads').get()).toEqual({ n: 0 });
    } finally {
      store.close();
    }
  });

  const pgUrl = inject('pgUrl');
  it.skipIf(pgUrl === '')('publishes to PostgreSQL when the pipeline says so, the URL read from the environment', async () => {
    const schema = `s_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    process.env.LIQCAL_TEST_PIPELINE_PG = pgUrl;
    const p = loadPipeline(writeTickPipeline(tmp.dir, { store: { db: 'tick.db', postgres: { urlEnv: 'LIQCAL_TEST_PIPELINE_PG', schema } } }));
    try {
      const r = await runPipeline({ pipeline: p, job: 'tick' });
      expect(r.status).toBe('succeeded');
      expect((r.artifacts.published as { backend: string }).backend).toMatch(/^postgres:/);
      const backend = await openPostgresBackend({ url: pgUrl, schema });
      try {
        const recs = await backend.history({ limit: 100 });
        expect(recs.map((x) => [x.referenceId, x.state])).toEqual(Array(8).fill([`run:${r.runId}`, 'published']));
      } finally {
        await backend.close();
      }
      const store = openStore(tmp.path('tick.db'));
      try { expect(recordsOf(store)).toEqual([]); } finally { store.close(); }
    } finally {
      delete process.env.LIQCAL_TEST_PIPELINE_PG;
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try { await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); } finally { await c.end(); }
    }
  });
});
