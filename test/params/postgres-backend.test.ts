import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import type { NewRecord, ParamBackend } from '../../src/params/backend.ts';
import { openPostgresBackend, type PostgresBackend } from '../../src/params/postgres-backend.ts';
import type { UpdateRecord } from '../../src/params/record.ts';
import { isAppError } from '../../src/core/errors.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import { ParameterStore } from '../../src/params/store.ts';
import { describeStoreContract, testClock } from './store-contract.ts';

// The server comes from test/helpers/postgres-global.ts; this file works in its own database, dropped afterwards,
// and every backend gets a fresh schema in it, so tests never see each other's rows.
const serverUrl = inject('pgUrl');
const available = serverUrl !== '';
let dbUrl = '';
let dbName = '';
const opened: ParamBackend[] = [];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

/** A fresh, migrated backend in a new schema (or `schema`, to open a second pool on the same store). */
async function fresh(schema = `s_${randomUUID().replaceAll('-', '').slice(0, 12)}`): Promise<PostgresBackend> {
  const b = await openPostgresBackend({ url: dbUrl, schema, maxConnections: 4 });
  opened.push(b);
  return b;
}

beforeAll(async () => {
  if (!available) return;
  dbName = `liqcal_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await admin((c) => c.query(`CREATE DATABASE ${dbName}`));
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  dbUrl = u.toString();
});

afterAll(async () => {
  if (!available) return;
  for (const b of opened) await b.close();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
});

const T0 = Date.UTC(2025, 0, 1);
let keySeq = 0;
function draft(over: Partial<NewRecord> = {}): NewRecord {
  return {
    market: 'BTCUSDT', updateType: 'maintenanceMarginRatio', newValue: 0.05, previousValue: null, referenceId: 'run-1', timestamp: T0, expiresAt: T0 + 6 * 3_600_000,
    additionalData: { rationale: 'test' }, state: 'proposed', idempotencyKey: `k-${++keySeq}`, baseVersion: 0, rejection: null, ...over,
  } as NewRecord;
}

/** Publishes `rec` the way the store does: CAS the head from its base version, then approve → publish (and supersede the old head). */
async function publish(b: ParamBackend, rec: UpdateRecord, atMs = T0 + 1): Promise<{ ok: true; version: number; seq: number } | { ok: false }> {
  return b.atomic(async (tx) => {
    const prev = await tx.head(rec.market, rec.updateType);
    const version = await tx.casHead(rec.market, rec.updateType, rec.baseVersion, rec.updateId);
    if (version === null) return { ok: false };
    const seq = await tx.nextPublishSeq();
    await tx.transition(rec.updateId, { from: 'proposed', to: 'approved', atMs, actor: 'auto', patch: { approvedBy: 'auto', approvedAt: atMs } });
    await tx.transition(rec.updateId, { from: 'approved', to: 'published', atMs, actor: 'publisher', patch: { version, publishSeq: seq, publishedAt: atMs } });
    if (prev) await tx.transition(prev.updateId, { from: 'published', to: 'superseded', atMs, actor: 'publisher' });
    return { ok: true, version, seq };
  });
}

describe.skipIf(!available)('PostgreSQL backend passes the store contract', () => {
  describeStoreContract('postgres', () => fresh());
});

describe.skipIf(!available)('PostgreSQL backend', () => {
  it('round-trips a record exactly and keeps the audit trail', async () => {
    const b = await fresh();
    const value = [{ maxNotionalUsd: 1e6, maintenanceMarginRatio: 0.1 + 0.2, initialMarginRatio: 1e-7, maxLeverage: 20 }, { maxNotionalUsd: null, maintenanceMarginRatio: 0.2, initialMarginRatio: 0.25, maxLeverage: 4 }];
    const rec = await b.atomic((tx) => tx.insert(draft({ updateType: 'leverageTiers', newValue: value } as Partial<NewRecord>), 'tester'));
    expect(rec.updateId).toBe(1);
    expect(await b.get(rec.updateId)).toEqual(rec);
    expect(rec.newValue).toEqual(value);
    const pub = await publish(b, rec);
    expect(pub).toEqual({ ok: true, version: 1, seq: 1 });
    expect((await b.events(rec.updateId)).map((e) => e.toState)).toEqual(['proposed', 'approved', 'published']);
    expect((await b.headRecords('BTCUSDT')).map((r) => r.updateId)).toEqual([1]);
    expect(await b.maxPublishSeq()).toBe(1);
  });

  it('migrates idempotently: two pools creating one store at once, then a reopen, keep one schema and its rows', async () => {
    const schema = `s_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const [x, y] = await Promise.all([fresh(schema), fresh(schema)]);
    await x.atomic((tx) => tx.insert(draft(), 'tester'));
    const again = await fresh(schema);
    expect((await again.history({})).map((r) => r.updateId)).toEqual([1]);
    expect((await y.history({})).length).toBe(1);
  });

  it('refuses what the database guards: content edits, deletes, illegal transitions, duplicate keys', async () => {
    const b = await fresh();
    const rec = await b.atomic((tx) => tx.insert(draft({ idempotencyKey: 'dup' }), 'tester'));
    const schema = b.name.split('/')[1]!;
    const raw = new pg.Client({ connectionString: dbUrl });
    await raw.connect();
    try {
      await expect(raw.query(`UPDATE "${schema}".param_records SET new_value = '0.9' WHERE update_id = $1`, [rec.updateId])).rejects.toThrow(/immutable/);
      await expect(raw.query(`DELETE FROM "${schema}".param_records`)).rejects.toThrow(/append-only/);
      await expect(raw.query(`UPDATE "${schema}".param_records SET state = 'published' WHERE update_id = $1`, [rec.updateId])).rejects.toThrow();
      await expect(raw.query(`DELETE FROM "${schema}".param_events`)).rejects.toThrow(/append-only/);
    } finally {
      await raw.end();
    }
    const dup = await b.atomic((tx) => tx.insert(draft({ idempotencyKey: 'dup' }), 'tester')).then(() => null, (e: unknown) => e);
    expect(dup).toBeInstanceOf(AppError);
    expect((dup as AppError).kind).toBe('badRequest');
    // The failed section rolled back whole: no id was consumed.
    expect((await b.atomic((tx) => tx.insert(draft(), 'tester'))).updateId).toBe(rec.updateId + 1);
  });

  it('keeps the rails log append-only at the database: no update, delete, truncate, skipped or blank-author version', async () => {
    const b = await fresh();
    const rails = parseRailsConfig({ types: { closeFactor: { minDelayMs: 0 } } });
    await b.atomic((tx) => tx.setRails({ rails, atMs: T0, actor: 'alice', reason: 'test' }));
    const schema = b.name.split('/')[1]!;
    const raw = new pg.Client({ connectionString: dbUrl });
    await raw.connect();
    try {
      await expect(raw.query(`UPDATE "${schema}".param_rails_log SET actor = 'mallory'`)).rejects.toThrow(/append-only/);
      await expect(raw.query(`DELETE FROM "${schema}".param_rails_log`)).rejects.toThrow(/append-only/);
      await expect(raw.query(`TRUNCATE "${schema}".param_rails_log`)).rejects.toThrow(/append-only/);
      await expect(raw.query(`INSERT INTO "${schema}".param_rails_log VALUES (5, '{}', 0, 'x', 'y')`)).rejects.toThrow(/advance by one/);
      await expect(raw.query(`INSERT INTO "${schema}".param_rails_log VALUES (2, '{}', 0, ' ', 'y')`)).rejects.toThrow(/check constraint/);
    } finally {
      await raw.end();
    }
    expect(await b.railsHistory()).toEqual([{ version: 1, rails, atMs: T0, actor: 'alice', reason: 'test' }]);
  });

  it('rolls back everything when the section throws, and refuses nested sections', async () => {
    const b = await fresh();
    await expect(b.atomic(async (tx) => { await tx.insert(draft(), 'tester'); throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await b.history({})).toEqual([]);
    await expect(b.atomic(() => b.atomic(async () => 1))).rejects.toThrow(/Nested/);
  });

  it('reports an unreachable server as a retryable error', async () => {
    const e = await openPostgresBackend({ url: 'postgres://nobody@127.0.0.1:1/none' }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).kind).toBe('unavailable');
    expect((e as AppError).retryable).toBe(true);
  });
});

describe.skipIf(!available)('PostgreSQL backend: two pools publishing at once', () => {
  it('serialises read-then-CAS sections across pools: every publish lands, none lost, versions 1..n', async () => {
    const a = await fresh();
    const b = await fresh(a.name.split('/')[1]);
    const n = 25;
    const worker = (be: ParamBackend, who: string): Promise<number[]> => (async () => {
      const versions: number[] = [];
      for (let i = 0; i < n; i++) {
        // Base version read inside the section: with the advisory lock no other writer can move the head in between.
        const out = await be.atomic(async (tx) => {
          const head = await tx.head('ETHUSDT', 'closeFactor');
          const rec = await tx.insert(draft({ market: 'ETHUSDT', updateType: 'closeFactor', newValue: 0.5, baseVersion: head?.version ?? 0, idempotencyKey: `${who}-${i}` } as Partial<NewRecord>), who);
          const v = await tx.casHead('ETHUSDT', 'closeFactor', rec.baseVersion, rec.updateId);
          if (v === null) return null;
          const seq = await tx.nextPublishSeq();
          await tx.transition(rec.updateId, { from: 'proposed', to: 'approved', atMs: T0, actor: who, patch: { approvedBy: who, approvedAt: T0 } });
          await tx.transition(rec.updateId, { from: 'approved', to: 'published', atMs: T0, actor: who, patch: { version: v, publishSeq: seq, publishedAt: T0 } });
          if (head) await tx.transition(head.updateId, { from: 'published', to: 'superseded', atMs: T0, actor: who });
          return v;
        });
        if (out === null) throw new Error(`${who} lost a CAS inside a serialised section`);
        versions.push(out);
      }
      return versions;
    })();
    const [va, vb] = await Promise.all([worker(a, 'a'), worker(b, 'b')]);
    expect([...va, ...vb].sort((x, y) => x - y)).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
    expect((await a.head('ETHUSDT', 'closeFactor'))!.version).toBe(2 * n);
    const all = await a.history({ market: 'ETHUSDT' });
    expect(all.filter((r) => r.state === 'published')).toHaveLength(1);
    expect(all.filter((r) => r.state === 'superseded')).toHaveLength(2 * n - 1);
    // Publish sequence and version increase together (commit order), and ids are monotonic in commit order too.
    const byVersion = [...all].sort((x, y) => x.version! - y.version!);
    expect(byVersion.map((r) => r.publishSeq)).toEqual(byVersion.map((_, i) => i + 1));
    expect(byVersion.map((r) => r.updateId)).toEqual([...byVersion.map((r) => r.updateId)].sort((x, y) => x - y));
  });

  it('two publishers racing from the same base version: exactly one wins each round, the loser gets a reported conflict', async () => {
    const a = await fresh();
    const b = await fresh(a.name.split('/')[1]);
    const rounds = 15;
    let conflicts = 0;
    for (let r = 0; r < rounds; r++) {
      const [ra, rb] = await Promise.all([
        a.atomic((tx) => tx.insert(draft({ baseVersion: r, newValue: 0.05 + r / 1000, idempotencyKey: `a-${r}` }), 'a')),
        b.atomic((tx) => tx.insert(draft({ baseVersion: r, newValue: 0.06 + r / 1000, idempotencyKey: `b-${r}` }), 'b')),
      ]);
      const res = await Promise.all([publish(a, ra), publish(b, rb)]);
      expect(res.filter((x) => x.ok)).toHaveLength(1);
      conflicts += res.filter((x) => !x.ok).length;
      const winner = res[0]!.ok ? ra : rb;
      const head = await b.head('BTCUSDT', 'maintenanceMarginRatio');
      expect(head).toEqual({ market: 'BTCUSDT', updateType: 'maintenanceMarginRatio', updateId: winner.updateId, version: r + 1 });
    }
    expect(conflicts).toBe(rounds);
    const published = await a.history({ states: ['published', 'superseded'] });
    expect(published).toHaveLength(rounds);
    expect(published.map((p) => p.version).sort((x, y) => x! - y!)).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
  });
});

describe.skipIf(!available)('PostgreSQL: two ParameterStores on two pools', () => {
  it('publishing the same (market, type) at once: one wins, the other is reported as a versionConflict and stored rejected', async () => {
    const a = await fresh();
    const b = await fresh(a.name.split('/')[1]);
    const clock = testClock();
    const rails = parseRailsConfig({ types: { closeFactor: { minDelayMs: 0 } } });
    const [sa, sb] = [new ParameterStore(a, { clock }), new ParameterStore(b, { clock })];
    await sa.setRails(rails, 'test', 'publish closeFactor back to back');
    for (let r = 0; r < 8; r++) {
      const [pa] = await sa.propose([{ market: 'SOL-PERP', updateType: 'closeFactor', newValue: 0.5, referenceId: `a-${r}` }]);
      const [pb] = await sb.propose([{ market: 'SOL-PERP', updateType: 'closeFactor', newValue: 0.55, referenceId: `b-${r}` }]);
      await sa.approve(pa!.updateId, 'alice');
      await sb.approve(pb!.updateId, 'bob');
      const res = await Promise.allSettled([sa.publish(pa!.updateId), sb.publish(pb!.updateId)]);
      const won = res.filter((x) => x.status === 'fulfilled');
      const lost = res.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const err = lost[0]!.reason as unknown;
      expect(isAppError(err, 'guardRail') && err.context['rule']).toBe('versionConflict');
      const loserId = res[0]!.status === 'rejected' ? pa!.updateId : pb!.updateId;
      expect(await sa.get(loserId)).toMatchObject({ state: 'rejected', rejection: { rule: 'versionConflict' } });
      expect((await sb.latest('SOL-PERP', 'closeFactor'))!.record.version).toBe(r + 1);
      clock.t += 1000;
    }
  });
});

describe.runIf(!available)('PostgreSQL backend (skipped)', () => {
  it.skip(`no PostgreSQL server: ${inject('pgSkipReason')}`, () => undefined);
});
