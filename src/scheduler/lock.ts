/**
 * Cross-process job locks on the store's `job_locks` table (migration v3): one row per "<pipeline>/<job>", held by an
 * owner until `expires_at_ms` — a lease the holder renews while its run goes on. A crashed holder stops renewing, its
 * lease expires, and the next claimant takes over (marking the dead holder's run `abandoned`).
 *
 * Rows are never deleted: a release only ends the lease, and `acquired_at_ms` stays as the time the job last started.
 * A claim for a scheduled tick is refused when the job already started at or after that tick, so two daemons that
 * both fire for the same tick run it once, even when the first one has already finished. Times are epoch ms from
 * the injected clock; every claim is one IMMEDIATE transaction, so claimants in other processes are serialised.
 */
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/db.ts';
import { RunLedger } from '../store/runs.ts';

/** A lock row. */
export interface JobLock {
  readonly name: string;
  readonly owner: string;
  readonly runId: string | null;
  readonly acquiredAtMs: number;
  readonly expiresAtMs: number;
}

/** The answer to a claim: acquired (perhaps taking over an expired lease), or why not. */
export type LockClaim =
  | { readonly acquired: true; readonly tookOverFrom: JobLock | null }
  | { readonly acquired: false; readonly reason: 'held' | 'done'; readonly lock: JobLock };

interface LockRow { name: string; owner: string; run_id: string | null; acquired_at_ms: number; expires_at_ms: number }

const toLock = (r: LockRow): JobLock => ({ name: r.name, owner: r.owner, runId: r.run_id, acquiredAtMs: r.acquired_at_ms, expiresAtMs: r.expires_at_ms });

/** The job locks of one store. */
export class JobLocks {
  constructor(private readonly store: Store, private readonly clock: Clock) {}

  /** The lock row of `name`, or null if the job never ran under a lock. */
  get(name: string): JobLock | null {
    const r = this.store.db.prepare('SELECT * FROM job_locks WHERE name = ?').get(name) as LockRow | undefined;
    return r ? toLock(r) : null;
  }

  /**
   * Claims `name` for `owner` with a lease of `leaseMs`. Refused while another lease is live (`held`), and when
   * `tickMs` is given and the job already started at or after it (`done`: that tick ran). Taking over an expired
   * lease marks the previous holder's run, if still `running` in the ledger, as abandoned.
   */
  acquire(name: string, owner: string, opts: { leaseMs: number; tickMs?: number }): LockClaim {
    return this.store.tx((): LockClaim => {
      const now = this.clock.now();
      const row = this.store.db.prepare('SELECT * FROM job_locks WHERE name = ?').get(name) as LockRow | undefined;
      const prev = row ? toLock(row) : null;
      if (prev && prev.expiresAtMs > now) return { acquired: false, reason: 'held', lock: prev };
      if (prev && opts.tickMs !== undefined && prev.acquiredAtMs >= opts.tickMs) return { acquired: false, reason: 'done', lock: prev };
      let tookOverFrom: JobLock | null = null;
      if (prev?.runId) {
        const abandoned = new RunLedger(this.store).abandon(prev.runId, `The lease of ${prev.owner} on ${name} expired at ${new Date(prev.expiresAtMs).toISOString()} before the run ended: its process stopped (crash, kill or lost host). The next run starts afresh.`, now);
        if (abandoned) tookOverFrom = prev;
      }
      this.store.db.prepare(`INSERT INTO job_locks (name, owner, run_id, acquired_at_ms, expires_at_ms) VALUES (?, ?, NULL, ?, ?)
        ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, run_id = NULL, acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms`)
        .run(name, owner, now, now + opts.leaseMs);
      return { acquired: true, tookOverFrom };
    });
  }

  /** Records the run a held lock is for (so a successor can mark it abandoned). False if `owner` no longer holds it. */
  attachRun(name: string, owner: string, runId: string): boolean {
    return this.store.db.prepare('UPDATE job_locks SET run_id = ? WHERE name = ? AND owner = ?').run(runId, name, owner).changes > 0;
  }

  /**
   * Extends the lease to now + `leaseMs`; false when another owner has taken the lock over (after `owner`'s lease
   * expired): the caller must stop its run. A late renewal that nobody overtook still succeeds.
   */
  renew(name: string, owner: string, leaseMs: number): boolean {
    return this.store.db.prepare('UPDATE job_locks SET expires_at_ms = ? WHERE name = ? AND owner = ?').run(this.clock.now() + leaseMs, name, owner).changes > 0;
  }

  /** Ends `owner`'s lease now (the row stays, keeping when the job last started). */
  release(name: string, owner: string): void {
    this.store.db.prepare('UPDATE job_locks SET expires_at_ms = MIN(expires_at_ms, ?) WHERE name = ? AND owner = ?').run(this.clock.now(), name, owner);
  }
}
