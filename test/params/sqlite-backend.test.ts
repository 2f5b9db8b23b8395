import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore } from '../../src/params/store.ts';
import { openStore } from '../../src/store/db.ts';
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

  it('commits with synchronous=FULL by default', async () => {
    const backend = openSqliteBackend(tmp.path('sync.db'));
    expect(backend.sqliteStore.db.pragma('synchronous', { simple: true })).toBe(2);
    await backend.close();
  });
});
