import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { startVenueServer, type VenueServer } from '../../src/ingest/replay/wire-server.ts';
import { createSimulatorProvider } from '../../src/ingest/simulator/provider.ts';
import { openStore } from '../../src/store/db.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
let server: VenueServer;
beforeAll(async () => { server = await startVenueServer({ provider: createSimulatorProvider({ seed: 11, symbols: ['BTCUSDT', 'ETHUSDT'] }), port: 0 }); });
afterAll(async () => { await server.close(); tmp.cleanup(); });

const args = (db: string, extra: string[] = []): string[] => ['ingest', '--db', db, '--venue', 'binance-usdm', '--base-url', server.url, '--symbols', 'BTCUSDT,ETHUSDT',
  '--kinds', 'bars,funding', '--interval', '1h', '--from', '2023-01-01', '--to', '2024-01-01', '--concurrency', '1', '--json', ...extra];

function dump(db: string): { bars: unknown[]; funding: unknown[]; integrity: string } {
  const s = openStore(db, { readonly: true });
  const out = {
    bars: s.db.prepare('SELECT * FROM bars ORDER BY venue, symbol, interval, open_time_ms').raw(true).all(),
    funding: s.db.prepare('SELECT * FROM funding_rates ORDER BY venue, symbol, funding_time_ms').raw(true).all(),
    integrity: s.db.pragma('integrity_check', { simple: true }) as string,
  };
  s.close();
  return out;
}

function count(db: string): number {
  try {
    const s = openStore(db, { readonly: true });
    const n = (s.db.prepare('SELECT COUNT(*) AS n FROM bars').get() as { n: number }).n;
    s.close();
    return n;
  } catch {
    return 0;
  }
}

describe('ingest crash safety', () => {
  it('a SIGKILLed backfill, rerun, ends identical to an uninterrupted one', async () => {
    const clean = tmp.path('clean.db');
    const full = await runCli(args(clean));
    expect(full.code, full.stderr).toBe(0);
    const reference = dump(clean);
    expect(reference.bars.length).toBe(2 * 8760);

    const rng = createRng(2024);
    for (let k = 0; k < 3; k++) {
      const db = tmp.path(`crash${k}.db`);
      // Slow the client down so the kill lands mid-backfill, at a seeded random bar count.
      const target = 1500 + Math.floor(rng.next() * 12_000);
      const child = spawnCli(args(db, ['--max-rps', '3']));
      const exited = new Promise<number | null>((r) => child.on('close', (c, sig) => r(sig === 'SIGKILL' ? -9 : c)));
      for (let i = 0; i < 600 && count(db) < target; i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      expect(await exited).toBe(-9);
      const partial = count(db);
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(reference.bars.length);
      const rerun = await runCli(args(db));
      expect(rerun.code, rerun.stderr).toBe(0);
      const after = dump(db);
      expect(after.integrity).toBe('ok');
      expect(after.bars).toEqual(reference.bars);
      expect(after.funding).toEqual(reference.funding);
    }
  }, 240_000);
});
