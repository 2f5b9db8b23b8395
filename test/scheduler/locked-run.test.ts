import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/config/pipeline.ts';
import type { Clock, EpochMs } from '../../src/core/time.ts';
import { JobLocks } from '../../src/scheduler/lock.ts';
import { lockName, runLocked } from '../../src/scheduler/locked-run.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { RunLedger } from '../../src/store/runs.ts';
import { startTestServer, type TestServer } from '../helpers/http-server.ts';
import { tempDir } from '../helpers/tmp.ts';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let server: TestServer;
beforeEach(async () => {
  tmp = tempDir('liqcal-locked-');
  store = openStore(tmp.path('s.db'));
  // A venue that takes 3 s to say "nothing new": the run is still in ingest while the test moves the clock.
  server = await startTestServer(() => ({ status: 200, body: '[]', delayMs: 3_000 }));
});
afterEach(async () => {
  await server.close();
  store.close();
  tmp.cleanup();
});

const pipeline = () => parsePipeline({
  name: 'p', markets: ['BTCUSDT'], runtime: { graceMs: 0, leaseMs: 1_000 },
  venue: { kind: 'live', venue: 'binance-spot', baseUrl: server.url, days: 2, httpRetries: 0 },
  jobs: [{ name: 'j', cron: '0 * * * *', stages: ['ingest'] }],
}, tmp.path('p.json'));

describe('runLocked', () => {
  it('stops its run when another process has taken the lock over after the lease expired', async () => {
    let now = Date.UTC(2026, 0, 1);
    const clock: Clock = { now: () => now as EpochMs };
    const p = pipeline();
    const run = runLocked({
      pipeline: p, job: 'j', store, owner: 'A', clock,
      onStage: (e) => {
        if (e.event !== 'started') return;
        // A's lease runs out (the clock jumps past it) and B claims the job before A renews.
        now += 5_000;
        expect(new JobLocks(store, clock).acquire(lockName('p', 'j'), 'B', { leaseMs: 60_000 })).toMatchObject({ acquired: true, tookOverFrom: { owner: 'A' } });
      },
    });
    const out = await run;
    expect(out.ran).toBe(true);
    if (!out.ran) return;
    expect(out.result.status).toBe('abandoned');
    expect(out.result.stages[0]!.status).toBe('abandoned');
    expect(new RunLedger(store).get(out.result.runId)!.status).toBe('abandoned');
    // B's lock is untouched by A's release.
    expect(new JobLocks(store, clock).get('p/j')).toMatchObject({ owner: 'B', expiresAtMs: now + 60_000 });
  });

  it('does not start while another owner holds the job, and says who', async () => {
    const clock: Clock = { now: () => 1_000 as EpochMs };
    new JobLocks(store, clock).acquire('p/j', 'B', { leaseMs: 60_000 });
    const out = await runLocked({ pipeline: pipeline(), job: 'j', store, owner: 'A', clock });
    expect(out).toMatchObject({ ran: false, claim: { reason: 'held', lock: { owner: 'B' } } });
    expect(new RunLedger(store).list()).toEqual([]);
  });
});
