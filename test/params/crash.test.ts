import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, deriveSeed } from '../../src/core/rng.ts';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore } from '../../src/params/store.ts';
import { tempDir } from '../helpers/tmp.ts';

const CHILD = new URL('./publisher-child.ts', import.meta.url).pathname;
const tmp = tempDir('liqcal-params-crash-');
afterAll(() => tmp.cleanup());

/** Runs the stream publisher until it has acknowledged `target` publishes, SIGKILLs it, and returns the acknowledged ids. */
function runAndKill(db: string, seed: number, target: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'stream', db, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: number[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      acks.push((JSON.parse(line) as { ack: number }).ack);
      if (acks.length === target) child.kill('SIGKILL');
    });
    child.on('error', reject);
    // Lines already in the pipe when the kill lands are still read before 'close'.
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(acks) : reject(new Error(`publisher exited without being killed: ${stderr}`))));
  });
}

async function check(db: string, acked: readonly number[], previousMaxId: number): Promise<number> {
  const backend = openSqliteBackend(db);
  try {
    expect(backend.sqliteStore.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const store = new ParameterStore(backend);
    expect(await store.verify()).toEqual([]);
    const all = await store.history({ limit: 1_000_000 });
    const byId = new Map(all.map((r) => [r.updateId, r]));
    for (const id of acked) expect(['published', 'superseded'], `acknowledged update ${id}`).toContain(byId.get(id)?.state);
    for (let i = 1; i < acked.length; i++) expect(acked[i]!).toBeGreaterThan(acked[i - 1]!);
    const maxId = all.length ? all[all.length - 1]!.updateId : 0;
    expect(maxId).toBeGreaterThanOrEqual(previousMaxId);
    if (acked.length) expect(acked[0]!).toBeGreaterThan(previousMaxId);
    return maxId;
  } finally {
    await backend.close();
  }
}

describe('parameter store crash safety', () => {
  it('100 SIGKILLs mid-stream: the store opens, stays consistent, and loses no acknowledged publish', async () => {
    const lanes = 2;
    const rounds = 50;
    const results = await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      const db = tmp.path(`crash-${lane}.db`);
      const rng = createRng(deriveSeed(7, `lane${lane}`));
      let maxId = 0;
      let acked = 0;
      for (let k = 0; k < rounds; k++) {
        const acks = await runAndKill(db, deriveSeed(lane, `round${k}`), 1 + rng.int(40));
        maxId = await check(db, acks, maxId);
        acked += acks.length;
      }
      return { maxId, acked };
    }));
    for (const r of results) expect(r.acked).toBeGreaterThanOrEqual(rounds);
  }, 120_000);
});
