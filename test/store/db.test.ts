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
    const next = [...MIGRATIONS, { version: Math.max(...MIGRATIONS.map((m) => m.version)) + 1, name: 'test column', sql: 'ALTER TABLE runs ADD COLUMN note TEXT' }];
    const u = openStore(path, { migrations: next });
    expect((u.db.prepare('SELECT id, note FROM runs').get() as { id: string; note: null }).id).toBe('r1');
    u.close();
  });

  it('opens read-only only an existing liqcal store, with a clear error otherwise', () => {
    try { openStore(tmp.path('missing.db'), { readonly: true }); expect.unreachable(); } catch (e) { expect(isAppError(e, 'io')).toBe(true); }
  });

  it('rolls back a whole transaction when it throws', () => {
    const s = openStore(tmp.path('tx.db'));
    const bars = syntheticBars(Date.UTC(2024, 0, 1), 3);
    expect(() => s.tx(() => {
      for (const b of bars) s.db.prepare("INSERT INTO bars (venue, symbol, interval, open_time_ms, open, high, low, close, volume) VALUES ('v','S','1h',?,?,?,?,?,?)").run(b.openTimeMs, b.open, b.high, b.low, b.close, b.volume);
      throw new Error('boom');
    })).toThrow('boom');
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM bars').get() as { n: number }).n).toBe(0);
    s.close();
  });
});

describe('openStore from several processes at once', () => {
  it('migrates a fresh file once: concurrent openers wait for the write lock and skip what is already applied', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'liqcal-migrate-race-'));
    const src = new URL('../../src/store/db.ts', import.meta.url).pathname;
    const code = `import { openStore } from '${src}'; const s = openStore(process.argv[1]); s.close();`;
    try {
      for (let round = 0; round < 4; round++) {
        const path = join(dir, `r${round}.db`);
        const runs = Array.from({ length: 4 }, () => new Promise<{ code: number | null; err: string }>((resolve) => {
          const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, path], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
          p.on('close', (c) => resolve({ code: c, err }));
        }));
        for (const r of await Promise.all(runs)) expect(r.code, r.err).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
