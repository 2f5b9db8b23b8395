import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterStore } from '../../src/params/store.ts';
import { SqliteParamBackend } from '../../src/params/sqlite-backend.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { RunLedger, type RunRecord } from '../../src/store/runs.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { startTestServer } from '../helpers/http-server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { NO_DELAY_RAILS, writeSlice } from '../pipeline/fixture.ts';
import { seedStoreRails } from '../helpers/store-rails.ts';

/** A `liqcal schedule --json` child process and what it printed so far. */
interface Daemon {
  readonly proc: ChildProcess;
  /** Parsed stdout NDJSON lines. */
  readonly out: Record<string, unknown>[];
  /** Parsed stderr pino lines. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  /** Stderr lines that are not JSON (messages for people, errors). */
  readonly text: string[];
}

function startDaemon(pipeline: string, cwd: string): Daemon {
  const proc = spawnCli(['schedule', '--pipeline', pipeline, '--json'], { cwd, env: { LIQCAL_LOG_LEVEL: 'info' } });
  const d: Daemon = { proc, out: [], logs: [], text: [], exited: new Promise((ok) => proc.on('exit', (code) => ok(code))) };
  const lines = (stream: NodeJS.ReadableStream, into: Record<string, unknown>[], text?: string[]): void => {
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { into.push(JSON.parse(line) as Record<string, unknown>); } catch { text?.push(line); }
      }
    });
  };
  lines(proc.stdout!, d.out);
  lines(proc.stderr!, d.logs, d.text);
  return d;
}

/** Waits until `ready()` holds; a liveness guard only (the assertions are about what happened, not when). */
async function until(ready: () => boolean, what: string, timeoutMs = 45_000): Promise<void> {
  for (const t0 = Date.now(); !ready(); await sleep(50)) if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
}

const runLines = (d: Daemon) => d.out.filter((x) => 'run' in x).map((x) => x.run as { runId: string; status: string; stages: { name: string; status: string; attempts: number; error: { kind: string } | null }[] });

/** Param records of one run (referenceId run:<id>). */
const recordsOf = (store: Store, runId: string) => store.db.prepare('SELECT update_id, state, publish_seq FROM param_records WHERE reference_id = ? ORDER BY update_id').all(`run:${runId}`) as { update_id: number; state: string; publish_seq: number | null }[];

let tmp: ReturnType<typeof tempDir>;
let daemons: Daemon[] = [];
beforeEach(() => { tmp = tempDir('liqcal-schedule-'); daemons = []; });
afterEach(async () => {
  for (const d of daemons) if (d.proc.exitCode === null) d.proc.kill('SIGKILL');
  await Promise.all(daemons.map((d) => d.exited));
  tmp.cleanup();
});

async function stopAll(): Promise<void> {
  for (const d of daemons) d.proc.kill('SIGTERM');
  const codes = await Promise.all(daemons.map((d) => d.exited));
  expect(codes, daemons.map((d) => d.text.join('\n')).join('\n---\n')).toEqual(daemons.map(() => 0));
}

/** Runs of the pipeline, oldest first. */
function ledgerRuns(store: Store): RunRecord[] {
  return new RunLedger(store).list(1000, { pipeline: 'tick' }).reverse();
}

describe('liqcal schedule', () => {
  it('runs a 2-second cron at least 3 times without overlap, and two daemons on one store never double-run a tick', async () => {
    // A slow venue: every request takes 4 s, so each run spans at least one later tick of the 2 s schedule.
    const server = await startTestServer(() => ({ status: 200, body: '[]', delayMs: 4_000 }));
    try {
      const file = join(tmp.dir, 'tick.json');
      writeFileSync(file, JSON.stringify({
        name: 'tick', markets: ['BTCUSDT'], store: { db: 'tick.db' },
        venue: { kind: 'live', venue: 'binance-spot', baseUrl: server.url, days: 2, httpRetries: 0 },
        runtime: { graceMs: 0, leaseMs: 5_000 },
        jobs: [{ name: 'tick', cron: '*/2 * * * * *', stages: ['ingest'] }],
      }));
      daemons = [startDaemon(file, tmp.dir), startDaemon(file, tmp.dir)];
      await until(() => daemons.flatMap(runLines).filter((r) => r.status === 'succeeded').length >= 3, '3 successful runs');
      await stopAll();
      const store = openStore(join(tmp.dir, 'tick.db'));
      try {
        const runs = ledgerRuns(store);
        expect(runs.filter((r) => r.status === 'succeeded').length).toBeGreaterThanOrEqual(3);
        expect(runs.filter((r) => r.status === 'running')).toEqual([]);
        // Never two runs at once, across both processes.
        for (let i = 1; i < runs.length; i++) expect(runs[i]!.startedAtMs).toBeGreaterThanOrEqual(runs[i - 1]!.endedAtMs!);
        // Each scheduled tick (or the start-up catch-up) ran once, and every run both daemons report is in the ledger once.
        const ticks = runs.map((r) => (r.stats as { trigger: { tick: string } }).trigger.tick);
        expect(new Set(ticks).size).toBe(ticks.length);
        expect(daemons.flatMap(runLines).map((r) => r.runId).sort()).toEqual(runs.map((r) => r.id).sort());
      } finally {
        store.close();
      }
      // Ticks that came while a run was going were skipped: by its own daemon, and by the other one (the lock).
      const skips = daemons.flatMap((d) => d.logs).map((l) => l.msg);
      expect(skips).toContain('skipped: the previous run of this job is still going');
      expect(skips).toContain('skipped: another process holds this job');
    } finally {
      await server.close();
    }
  }, 90_000);

  it('SIGTERM in the middle of a run abandons it cleanly: nothing of it published, every other run published whole', async () => {
    // Bars already in the store; the venue answers "nothing new" after 1.5 s, so every run spends that long in ingest.
    const imported = await runCli(['import-csv', '--db', join(tmp.dir, 'tick.db'), '--venue', 'binance-spot', '--symbol', 'BTCUSDT', '--interval', '1h', writeSlice(tmp.dir, 'BTCUSDT')]);
    expect(imported.code, imported.stderr).toBe(0);
    seedStoreRails(join(tmp.dir, 'tick.db'), NO_DELAY_RAILS);
    const server = await startTestServer(() => ({ status: 200, body: '[]', delayMs: 1_500 }));
    try {
      const file = join(tmp.dir, 'tick.json');
      writeFileSync(file, JSON.stringify({
        name: 'tick', markets: ['BTCUSDT'], store: { db: 'tick.db' },
        venue: { kind: 'live', venue: 'binance-spot', baseUrl: server.url, days: 30, httpRetries: 0 },
        policy: { name: 'har', calibrationDays: 60, retrainEveryDays: 30 },
        runtime: { graceMs: 0, leaseMs: 5_000 },
        jobs: [{ name: 'tick', cron: '*/2 * * * * *', stages: ['ingest', 'recommend', 'publish'] }],
      }));
      const d = startDaemon(file, tmp.dir);
      daemons = [d];
      await until(() => runLines(d).some((r) => r.status === 'succeeded'), 'a first successful run');
      const done = new Set(runLines(d).map((r) => r.runId));
      await until(() => d.logs.some((l) => l.msg === 'stage started' && l.stage === 'ingest' && !done.has(String(l.runId))), 'the next run to start');
      await stopAll();
      const store = openStore(join(tmp.dir, 'tick.db'));
      try {
        const runs = ledgerRuns(store);
        const last = runs.at(-1)!;
        expect(last.status).toBe('abandoned');
        expect(last.error).toMatch(/stopped \(SIGTERM\/SIGINT, or its job lock was lost\) during the ingest stage/);
        expect(last.stages!.map((s) => s.status)).toEqual(['abandoned', 'skipped', 'skipped']);
        expect(runs.filter((r) => r.status === 'running')).toEqual([]);
        for (const r of runs) {
          const recs = recordsOf(store, r.id);
          if (r.status !== 'succeeded') {
            expect(recs).toEqual([]);
            continue;
          }
          // A published run's batch is whole: all 8 proposals published (or since superseded), in one contiguous publish sequence.
          expect(recs).toHaveLength(8);
          expect(recs.every((x) => x.state === 'published' || x.state === 'superseded')).toBe(true);
          const seqs = recs.map((x) => x.publish_seq!).sort((a, b) => a - b);
          expect(seqs.at(-1)! - seqs[0]!).toBe(7);
        }
        expect(await new ParameterStore(new SqliteParamBackend(store)).verify()).toEqual([]);
      } finally {
        store.close();
      }
    } finally {
      await server.close();
    }
  }, 90_000);

  it('records a failed stage with its retries and publishes nothing', async () => {
    const server = await startTestServer(() => ({ status: 503, body: '{"code":-1,"msg":"down for maintenance"}' }));
    try {
      const file = join(tmp.dir, 'tick.json');
      writeFileSync(file, JSON.stringify({
        name: 'tick', markets: ['BTCUSDT'], store: { db: 'tick.db' },
        venue: { kind: 'live', venue: 'binance-spot', baseUrl: server.url, days: 3, httpRetries: 0 },
        retries: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 100 },
        jobs: [{ name: 'tick', cron: '*/2 * * * * *', stages: ['ingest', 'recommend', 'publish'] }],
      }));
      const d = startDaemon(file, tmp.dir);
      daemons = [d];
      await until(() => runLines(d).length >= 1, 'a first run');
      await stopAll();
      const first = runLines(d)[0]!;
      expect(first.status).toBe('failed');
      expect(first.stages.map((s) => [s.name, s.status, s.attempts])).toEqual([['ingest', 'failed', 3], ['recommend', 'skipped', 0], ['publish', 'skipped', 0]]);
      expect(first.stages[0]!.error!.kind).toBe('unavailable');
      expect(d.logs.filter((l) => l.msg === 'stage failed; retrying' && l.runId === first.runId).map((l) => l.attempt)).toEqual([1, 2]);
      expect(server.requests.length).toBeGreaterThanOrEqual(3);
      const store = openStore(join(tmp.dir, 'tick.db'));
      try {
        const run = new RunLedger(store).get(first.runId)!;
        expect(run.status).toBe('failed');
        expect(run.error).toMatch(/HTTP 503/);
        expect(store.db.prepare('SELECT COUNT(*) AS n FROM param_records').get()).toEqual({ n: 0 });
      } finally {
        store.close();
      }
    } finally {
      await server.close();
    }
  }, 60_000);
});
