import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore } from '../../src/params/store.ts';
import { tempDir } from '../helpers/tmp.ts';

const CHILD = new URL('./publisher-child.ts', import.meta.url).pathname;
const tmp = tempDir('liqcal-params-conc-');
afterAll(() => tmp.cleanup());

type Line = { published?: number; version?: number; conflict?: number; proposed?: number; baseVersion?: number; message?: string };

/** A publisher process whose JSON output lines can be awaited one at a time. */
function publisher(args: string[]): { child: ChildProcessWithoutNullStreams; next: () => Promise<Line>; all: Promise<Line[]> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiters: ((l: Line) => void)[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  createInterface({ input: child.stdout }).on('line', (s) => {
    const l = JSON.parse(s) as Line;
    lines.push(l);
    waiters.shift()?.(l);
  });
  let read = 0;
  const next = (): Promise<Line> => (read < lines.length ? Promise.resolve(lines[read++]!) : new Promise((r) => { read++; waiters.push(r); }));
  const all = new Promise<Line[]>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve(lines) : reject(new Error(`publisher failed (${code}): ${stderr}`)))));
  return { child, next, all };
}

async function audit(db: string) {
  const backend = openSqliteBackend(db);
  try {
    const store = new ParameterStore(backend);
    return { problems: await store.verify(), records: await store.history({ limit: 100_000 }) };
  } finally {
    await backend.close();
  }
}

describe('two processes publishing to one SQLite file', () => {
  it('race on the same version: exactly one wins each round and the loser is told, never silently dropped', async () => {
    const db = tmp.path('race.db');
    const p1 = publisher(['race', db, 'BTC-PERP']);
    const p2 = publisher(['race', db, 'BTC-PERP']);
    const rounds = 15;
    for (let k = 0; k < rounds; k++) {
      p1.child.stdin.write('propose\n');
      const a = await p1.next();
      p2.child.stdin.write('propose\n');
      const b = await p2.next();
      expect(a.baseVersion).toBe(k);
      expect(b.baseVersion).toBe(k);
      // Both ask at once; SQLite's write lock serialises them and the compare-and-set decides.
      p1.child.stdin.write(`publish ${a.proposed}\n`);
      p2.child.stdin.write(`publish ${b.proposed}\n`);
      const [ra, rb] = await Promise.all([p1.next(), p2.next()]);
      const winners = [ra, rb].filter((r) => r.published !== undefined);
      const losers = [ra, rb].filter((r) => r.conflict !== undefined);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      expect(winners[0]!.version).toBe(k + 1);
      expect(losers[0]!.message).toMatch(/another publisher got there first/);
    }
    p1.child.stdin.end();
    p2.child.stdin.end();
    await Promise.all([p1.all, p2.all]);
    const { problems, records } = await audit(db);
    expect(problems).toEqual([]);
    expect(records.filter((r) => r.version !== null)).toHaveLength(rounds);
    expect(records.filter((r) => r.rejection?.rule === 'versionConflict')).toHaveLength(rounds);
  });

  it('free-running publishers: every reported publish is stored, versions form one chain, every conflict is reported', async () => {
    const db = tmp.path('free.db');
    const n = 60;
    const [l1, l2] = await Promise.all([publisher(['free', db, String(n), 'ETH-PERP']).all, publisher(['free', db, String(n), 'ETH-PERP']).all]);
    const lines = [...l1, ...l2];
    const published = lines.filter((l) => l.published !== undefined).map((l) => l.published!);
    const conflicts = lines.filter((l) => l.conflict !== undefined).map((l) => l.conflict!);
    expect(published.length + conflicts.length).toBe(2 * n);
    const { problems, records } = await audit(db);
    expect(problems).toEqual([]);
    const stored = records.filter((r) => r.version !== null);
    expect(stored.map((r) => r.updateId).sort((a, b) => a - b)).toEqual([...published].sort((a, b) => a - b));
    expect(stored.map((r) => r.version).sort((a, b) => a! - b!)).toEqual(stored.map((_, i) => i + 1));
    expect(records.filter((r) => r.rejection?.rule === 'versionConflict').map((r) => r.updateId).sort((a, b) => a - b)).toEqual([...conflicts].sort((a, b) => a - b));
  });
});
