/**
 * Stage deadlines and capped Retry-After in pipeline runs, against a hostile venue on loopback: a stage that outlives
 * its deadline fails the run (never left `running`), cancels its requests, and its job lock stops being renewed and
 * is released; stage retries honour Retry-After only up to a cap.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_STAGE_TIMEOUT_MS, parsePipeline, stageTimeoutMs, type Pipeline } from '../../src/config/pipeline.ts';
import { AppError } from '../../src/core/errors.ts';
import { backoffMs, DEFAULT_STAGE_MAX_RETRY_AFTER_MS } from '../../src/pipeline/retry.ts';
import { runPipeline, type StageEvent } from '../../src/pipeline/runner.ts';
import { JobLocks } from '../../src/scheduler/lock.ts';
import { lockName, maxLockedRunMs, runLocked } from '../../src/scheduler/locked-run.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { RunLedger } from '../../src/store/runs.ts';
import { systemClock } from '../../src/core/time.ts';
import { startHostileVenue, type HostileMode, type HostileVenue } from '../helpers/hostile-venue.ts';
import { tempDir } from '../helpers/tmp.ts';

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let venue: HostileVenue | undefined;
beforeEach(() => {
  tmp = tempDir('liqcal-deadline-');
  store = openStore(tmp.path('s.db'));
});
afterEach(async () => {
  await venue?.close();
  venue = undefined;
  store.close();
  tmp.cleanup();
});

/** A one-stage ingest pipeline over the hostile venue's 48 bars of 2025-01-01/02 (asOf pins the range). */
function livePipeline(url: string, patch: { venue?: Record<string, unknown>; runtime?: Record<string, unknown>; retries?: Record<string, unknown> } = {}): Pipeline {
  return parsePipeline({
    name: 'hostile', markets: ['BTCUSDT'], asOf: '2025-01-03T00:00:00Z',
    venue: { kind: 'live', venue: 'binance-usdm', baseUrl: url, days: 2, ...patch.venue },
    retries: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 20, ...patch.retries },
    runtime: { graceMs: 0, leaseMs: 1_000, ...patch.runtime },
    jobs: [{ name: 'ingest', cron: '0 * * * *', stages: ['ingest'] }],
  }, tmp.path('hostile.json'));
}

async function hostile(modes: HostileMode | HostileMode[], then?: HostileMode): Promise<HostileVenue> {
  venue = await startHostileVenue({ modes, ...(then ? { then } : {}) });
  return venue;
}

describe('the stage deadline (runtime.stageTimeoutMs)', () => {
  it('defaults to 30 minutes for every stage, takes per-stage overrides, and refuses unknown stages', () => {
    const p = livePipeline('http://127.0.0.1:1', { runtime: { stageTimeoutsMs: { train: 7_200_000 } } });
    expect(DEFAULT_STAGE_TIMEOUT_MS).toBe(1_800_000);
    expect(stageTimeoutMs(p.config, 'ingest')).toBe(1_800_000);
    expect(stageTimeoutMs(p.config, 'train')).toBe(7_200_000);
    expect(parsePipeline({ markets: ['BTCUSDT'], venue: { kind: 'simulator' }, jobs: [{ name: 'j', cron: '0 * * * *', stages: ['ingest'] }] }, 'x.json').config.runtime)
      .toEqual({ graceMs: 10_000, leaseMs: 60_000, stageTimeoutMs: 1_800_000 });
    expect(() => livePipeline('http://127.0.0.1:1', { runtime: { stageTimeoutsMs: { trian: 1_000 } } })).toThrow(/runtime\.stageTimeoutsMs: Unrecognized key: "trian"/);
    expect(() => livePipeline('http://127.0.0.1:1', { runtime: { stageTimeoutMs: 10 } })).toThrow(/runtime\.stageTimeoutMs/);
    expect(() => livePipeline('http://127.0.0.1:1', { venue: { requestTimeoutMs: 0 } })).toThrow(/venue\.requestTimeoutMs/);
  });

  it('fails a run whose ingest stage trickles past the deadline, cancels the request, and releases the job lock', async () => {
    const v = await hostile({ kind: 'trickle', byteEveryMs: 100 });
    // The request's own deadline (60 s) is far away: only the 1.2 s stage deadline can end this.
    const p = livePipeline(v.url, { venue: { requestTimeoutMs: 60_000 }, runtime: { stageTimeoutMs: 1_200 } });
    const locks = new JobLocks(store, systemClock);
    const t0 = Date.now();
    const out = await runLocked({ pipeline: p, job: 'ingest', store, owner: 'A' });
    const elapsedMs = Date.now() - t0;
    expect(out.ran).toBe(true);
    if (!out.ran) return;
    const r = out.result;
    expect(elapsedMs).toBeGreaterThanOrEqual(1_150);
    expect(elapsedMs).toBeLessThan(4_000);
    expect(r.status).toBe('failed');
    expect(r.error).toBeInstanceOf(AppError);
    expect(r.error!.kind).toBe('unavailable');
    expect(r.error!.message).toMatch(/^The ingest stage did not finish within its 1\.2 s deadline \(runtime\.stageTimeoutMs = 1200 ms, all attempts included\): the run is recorded failed/);
    expect(r.error!.context).toMatchObject({ stage: 'ingest', deadlineMs: 1_200, setting: 'runtime.stageTimeoutMs' });
    expect(r.stages[0]).toMatchObject({ name: 'ingest', status: 'failed', error: { kind: 'unavailable' } });
    const run = new RunLedger(store).get(r.runId)!;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/did not finish within its 1\.2 s deadline/);
    // The lease ended with the run and is not renewed afterwards (renewals would run every ~333 ms).
    const released = locks.get(lockName('hostile', 'ingest'))!;
    expect(released.expiresAtMs).toBeLessThanOrEqual(Date.now());
    await new Promise((ok) => setTimeout(ok, 600));
    expect(locks.get(lockName('hostile', 'ingest'))!.expiresAtMs).toBe(released.expiresAtMs);
    // The stage's signal cancelled the trickle: the client hung up.
    for (let i = 0; i < 20 && v.inFlight() > 0; i++) await new Promise((ok) => setTimeout(ok, 50));
    expect(v.inFlight()).toBe(0);
    // The job can run again at once: the venue is healthy now, and the next run stores the bars.
    v.setModes({ kind: 'healthy' });
    const again = await runLocked({ pipeline: p, job: 'ingest', store, owner: 'B' });
    expect(again.ran && again.result.status).toBe('succeeded');
    expect(again.ran && again.result.outputs.ingest!.rows).toBe(48);
  });

  it('covers every attempt of a stage, and names a per-stage override', async () => {
    const v = await hostile({ kind: 'trickle', byteEveryMs: 100 });
    const p = livePipeline(v.url, {
      venue: { requestTimeoutMs: 300, httpRetries: 0 },
      retries: { maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 20 },
      runtime: { stageTimeoutMs: 60_000, stageTimeoutsMs: { ingest: 1_500 } },
    });
    const events: StageEvent[] = [];
    const r = await runPipeline({ pipeline: p, job: 'ingest', store, onStage: (e) => events.push(e) });
    expect(r.status).toBe('failed');
    expect(r.error!.message).toMatch(/within its 1\.5 s deadline \(runtime\.stageTimeoutsMs\.ingest = 1500 ms/);
    // Several 300 ms attempts were retried before the 1.5 s deadline ended the stage; none after it.
    expect(r.stages[0]!.attempts).toBeGreaterThan(1);
    expect(r.stages[0]!.attempts).toBeLessThan(10);
    expect(events.at(-1)).toMatchObject({ stage: 'ingest', event: 'failed' });
    const n = v.requests.length;
    await new Promise((ok) => setTimeout(ok, 500));
    expect(v.requests.length).toBe(n);
  });

  it('bounds how long runLocked may renew a lease: the sum of the stage deadlines, the grace and a lease', () => {
    const p = parsePipeline({
      markets: ['BTCUSDT'], venue: { kind: 'simulator' }, runtime: { graceMs: 5_000, leaseMs: 60_000, stageTimeoutMs: 600_000, stageTimeoutsMs: { train: 3_600_000 } },
      jobs: [{ name: 'daily', cron: '0 * * * *', stages: ['ingest', 'train'] }],
    }, 'x.json');
    expect(maxLockedRunMs(p, 'daily')).toBe(600_000 + 3_600_000 + 5_000 + 60_000);
  });
});

describe('stage retries honour Retry-After only up to a cap', () => {
  it('caps a huge Retry-After, and never hands a timer more than 2^31−1 ms', () => {
    const s = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffMs(s, 1, 3_600_000)).toBe(DEFAULT_STAGE_MAX_RETRY_AFTER_MS);
    expect(backoffMs(s, 1, 99_999_999_000)).toBe(DEFAULT_STAGE_MAX_RETRY_AFTER_MS);
    expect(backoffMs({ ...s, maxRetryAfterMs: 500 }, 1, 99_999_999_000)).toBe(500);
    expect(backoffMs({ ...s, maxRetryAfterMs: 500 }, 1, 300)).toBe(300);
    expect(backoffMs(s, 1, Number.NaN)).toBe(100);
    expect(backoffMs({ maxAttempts: 3, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 }, 40)).toBe(3_600_000);
  });

  it('a venue asking for 99999999 s between attempts: the stage waits the cap, neither 1 ms nor years', async () => {
    const v = await hostile({ kind: 'retryAfter', retryAfter: '99999999' });
    const p = livePipeline(v.url, { venue: { httpRetries: 0 }, retries: { maxAttempts: 3, maxRetryAfterMs: 250 } });
    const retries: StageEvent[] = [];
    const r = await runPipeline({ pipeline: p, job: 'ingest', store, onStage: (e) => { if (e.event === 'retrying') retries.push(e); } });
    expect(r.status).toBe('failed');
    expect(r.error!.kind).toBe('rateLimited');
    expect(retries.map((e) => e.delayMs)).toEqual([250, 250]);
    expect(v.requests).toHaveLength(3);
    const gaps = v.requests.slice(1).map((q, i) => q.atMs - v.requests[i]!.atMs);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(200);
  });
});
