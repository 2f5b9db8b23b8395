import { describe, expect, it } from 'vitest';
import { RunLedger } from '../../src/store/runs.ts';
import { useTempStore } from '../helpers/tmp.ts';

describe('RunLedger.track', () => {
  const t = useTempStore();

  it('closes the entry as succeeded with its stats, or as failed with the error, and rethrows', async () => {
    const ledger = new RunLedger(t.store);
    const out = await ledger.track({ kind: 'ok', seed: 1 }, async (id) => ({ id, n: 3 }), (r) => ({ n: r.n }));
    await expect(ledger.track({ kind: 'bad' }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    const runs = ledger.list();
    const good = runs.find((r) => r.kind === 'ok');
    const bad = runs.find((r) => r.kind === 'bad');
    expect(good!.id).toBe(out.id);
    expect(good!.status).toBe('succeeded');
    expect(good!.stats).toEqual({ n: 3 });
    expect(bad!.status).toBe('failed');
    expect(bad!.error).toBe('boom');
    expect(bad!.endedAtMs).not.toBeNull();
  });
});
