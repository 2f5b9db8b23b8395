import { afterAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/db.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { syntheticBars, tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('openStore', () => {
  it('creates the file in WAL mode with every migration applied once', () => {
    const path = tmp.path('a.db');
    const s = openStore(path);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = s.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    s.close();
    const again = openStore(path);
    expect((again.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(MIGRATIONS.length);
    again.close();
  });

  it('refuses a store whose schema is newer than this liqcal', () => {
    const path = tmp.path('newer.db');
    openStore(path).close();
    const s = openStore(path);
    s.db.prepare('INSERT INTO schema_migrations VALUES (999, ?, 0)').run('future');
    s.close();
    expect(() => openStore(path)).toThrowError(/schema version 999/);
  });

  it('applies a later migration to an existing store without touching its data', () => {
    const path = tmp.path('upgrade.db');
    const s = openStore(path);
    s.db.prepare("INSERT INTO runs (id, kind, status, started_at_ms) VALUES ('r1', 'x', 'succeeded', 1)").run();
    s.close();
    const next = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'test column', sql: 'ALTER TABLE runs ADD COLUMN note TEXT' }];
    const u = openStore(path, { migrations: next });
    expect((u.db.prepare('SELECT id, note FROM runs').get() as { id: string; note: null }).id).toBe('r1');
    u.close();
  });

  it('opens read-only only an existing liqcal store, with a clear error otherwise', () => {
    try { openStore(tmp.path('missing.db'), { readonly: true }); expect.unreachable(); } catch (e) { expect(isAppError(e, 'io')).toBe(true); }
  });

  it('rolls back a whole transaction when it throws', () => {
    const s = openStore(tmp.path('tx.db'));
    const bars = syntheticBars(0, 3);
    expect(() => s.tx(() => {
      for (const b of bars) s.db.prepare("INSERT INTO bars (venue, symbol, interval, open_time_ms, open, high, low, close, volume) VALUES ('v','S','1h',?,?,?,?,?,?)").run(b.openTimeMs, b.open, b.high, b.low, b.close, b.volume);
      throw new Error('boom');
    })).toThrow('boom');
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM bars').get() as { n: number }).n).toBe(0);
    s.close();
  });
});
