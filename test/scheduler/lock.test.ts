import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock, EpochMs } from '../../src/core/time.ts';
import { JobLocks } from '../../src/scheduler/lock.ts';
import { RunLedger } from '../../src/store/runs.ts';
import { useTempStore } from '../helpers/tmp.ts';

/** A clock the test moves by hand. */
function manualClock(t = 1_000_000): Clock & { set(ms: number): void; add(ms: number): void } {
  let now = t;
  return { now: () => now as EpochMs, set: (ms) => { now = ms; }, add: (ms) => { now += ms; } };
}

describe('JobLocks', () => {
  const t = useTempStore();

  it('holds a lease against other owners until it is released or expires', () => {
    const clock = manualClock();
    const locks = new JobLocks(t.store, clock);
    expect(locks.acquire('p/j', 'A', { leaseMs: 1000 })).toEqual({ acquired: true, tookOverFrom: null });
    const refused = locks.acquire('p/j', 'B', { leaseMs: 1000 });
    expect(refused).toMatchObject({ acquired: false, reason: 'held', lock: { owner: 'A', expiresAtMs: 1_001_000 } });
    clock.add(900);
    expect(locks.renew('p/j', 'A', 1000)).toBe(true);
    clock.add(900);
    expect(locks.acquire('p/j', 'B', { leaseMs: 1000 }).acquired).toBe(false);
    locks.release('p/j', 'A');
    expect(locks.acquire('p/j', 'B', { leaseMs: 1000 })).toEqual({ acquired: true, tookOverFrom: null });
    expect(locks.get('p/j')).toMatchObject({ owner: 'B', acquiredAtMs: 1_001_800 });
  });

  it('runs a scheduled tick once: a claim for a tick the job already started at or after is refused', () => {
    const clock = manualClock(10_000);
    const locks = new JobLocks(t.store, clock);
    clock.set(10_005);
    expect(locks.acquire('p/j', 'A', { leaseMs: 1000, tickMs: 10_000 }).acquired).toBe(true);
    locks.release('p/j', 'A');
    clock.set(10_050);
    expect(locks.acquire('p/j', 'B', { leaseMs: 1000, tickMs: 10_000 })).toMatchObject({ acquired: false, reason: 'done', lock: { owner: 'A' } });
    clock.set(12_001);
    expect(locks.acquire('p/j', 'B', { leaseMs: 1000, tickMs: 12_000 }).acquired).toBe(true);
  });

  it('takes over a crashed holder\'s expired lease and records its run as abandoned; the old holder cannot renew', () => {
    const clock = manualClock();
    const locks = new JobLocks(t.store, clock);
    const ledger = new RunLedger(t.store);
    expect(locks.acquire('p/j', 'A', { leaseMs: 1000 }).acquired).toBe(true);
    const runId = ledger.start({ kind: 'pipeline:j', pipeline: 'p', nowMs: clock.now() });
    expect(locks.attachRun('p/j', 'A', runId)).toBe(true);
    clock.add(1001);
    const claim = locks.acquire('p/j', 'B', { leaseMs: 1000 });
    expect(claim).toMatchObject({ acquired: true, tookOverFrom: { owner: 'A', runId } });
    const run = ledger.get(runId)!;
    expect(run.status).toBe('abandoned');
    expect(run.error).toMatch(/The lease of A on p\/j expired at .* before the run ended/);
    expect(locks.renew('p/j', 'A', 1000)).toBe(false);
    expect(locks.renew('p/j', 'B', 1000)).toBe(true);
  });

  it('never lets two owners hold one job at once, and runs each tick at most once (random interleavings)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ owner: fc.constantFrom('A', 'B', 'C'), op: fc.constantFrom('tick', 'release', 'renew', 'wait'), ms: fc.integer({ min: 0, max: 1500 }) }), { maxLength: 60 }),
      (ops) => {
        t.store.db.exec('DELETE FROM job_locks');
        const clock = manualClock(0);
        const locks = new JobLocks(t.store, clock);
        const holding = new Map<string, number>();
        const ticksRun = new Set<number>();
        let tick = 0;
        for (const o of ops) {
          clock.add(o.ms);
          if (o.op === 'tick') {
            tick = Math.max(tick, Math.floor(clock.now() / 500) * 500);
            if (locks.acquire('p/j', o.owner, { leaseMs: 1000, tickMs: tick }).acquired) {
              expect(ticksRun.has(tick)).toBe(false);
              ticksRun.add(tick);
              for (const exp of holding.values()) expect(exp).toBeLessThanOrEqual(clock.now());
              holding.clear();
              holding.set(o.owner, clock.now() + 1000);
            }
          } else if (o.op === 'release' && holding.has(o.owner)) {
            locks.release('p/j', o.owner);
            holding.set(o.owner, Math.min(holding.get(o.owner)!, clock.now()));
          } else if (o.op === 'renew' && holding.has(o.owner)) {
            if (locks.renew('p/j', o.owner, 1000)) holding.set(o.owner, clock.now() + 1000);
          }
        }
      },
    ), { numRuns: 200 });
  });
});
