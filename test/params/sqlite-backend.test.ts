import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore } from '../../src/params/store.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import { openStore } from '../../src/store/db.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { tempDir } from '../helpers/tmp.ts';
import { describeStoreContract, testClock } from './store-contract.ts';

const tmp = tempDir('liqcal-params-');
afterAll(() => tmp.cleanup());
let n = 0;

describeStoreContract('sqlite', async () => openSqliteBackend(tmp.path(`contract-${n++}.db`)));

describe('sqlite parameter tables', () => {
  it('forbid deleting or rewriting history at the database level', async () => {
    const path = tmp.path('append-only.db');
    const backend = openSqliteBackend(path);
    const store = new ParameterStore(backend, { clock: testClock() });
    const [r] = await store.propose([{ market: 'M', updateType: 'closeFactor', newValue: 0.5 }]);
    await store.approve(r!.updateId, 'alice');
    await backend.close();
    const s = openStore(path);
    expect(() => s.db.prepare('DELETE FROM param_records').run()).toThrow(/append-only/);
    expect(() => s.db.prepare('UPDATE param_records SET new_value = ?').run('0.9')).toThrow(/immutable|change only/);
    expect(() => s.db.prepare("UPDATE param_records SET approved_by = 'mallory'").run()).toThrow(/set once|change only/);
    expect(() => s.db.prepare("UPDATE param_records SET state = 'proposed'").run()).toThrow(/transition/);
    expect(() => s.db.prepare('DELETE FROM param_events').run()).toThrow(/append-only/);
    expect(() => s.db.prepare("UPDATE param_events SET actor = 'x'").run()).toThrow(/append-only/);
    expect(s.db.pragma('integrity_check', { simple: true })).toBe('ok');
    s.close();
  });

  it('keep the rails log append-only and its versions gapless at the database level; a read-only older store reads the defaults', async () => {
    const path = tmp.path('rails-log.db');
    const backend = openSqliteBackend(path);
    const store = new ParameterStore(backend, { clock: testClock() });
    await store.setRails(parseRailsConfig({ types: { closeFactor: { minDelayMs: 0 } } }), 'alice', 'test');
    await backend.close();
    const s = openStore(path);
    expect(() => s.db.prepare("UPDATE param_rails_log SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM param_rails_log').run()).toThrow(/append-only/);
    expect(() => s.db.prepare("INSERT INTO param_rails_log VALUES (5, '{}', 0, 'x', 'y')").run()).toThrow(/advance by one/);
    expect(() => s.db.prepare("INSERT INTO param_rails_log VALUES (2, '{}', 0, '  ', 'y')").run()).toThrow(/CHECK/);
    expect(() => s.db.prepare("INSERT INTO param_rails_log VALUES (2, 'not json', 0, 'x', 'y')").run()).toThrow(/CHECK/);
    s.close();
    // A store from before migration 5, opened read-only (no migration runs): the defaults apply, nothing fails.
    const old = tmp.path('pre-rails.db');
    openStore(old, { migrations: MIGRATIONS.filter((m) => m.version < 5) }).close();
    const ro = openSqliteBackend(old, { readonly: true });
    expect(await ro.rails()).toBeNull();
    expect(await ro.railsHistory()).toEqual([]);
    await ro.close();
  });

  it('commits with synchronous=FULL by default', async () => {
    const backend = openSqliteBackend(tmp.path('sync.db'));
    expect(backend.sqliteStore.db.pragma('synchronous', { simple: true })).toBe(2);
    await backend.close();
  });
});
