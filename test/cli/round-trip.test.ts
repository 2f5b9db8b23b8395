import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { SHARED_DATA } from '../helpers/http-server.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) c.kill('SIGTERM'); tmp.cleanup(); });

const FILE = `${SHARED_DATA}market/binance-spot__finom-static-klines/BTCUSDT/1h/BTCUSDT-1h-2023.csv`;

function bars(db: string): unknown[][] {
  const s = openStore(db, { readonly: true });
  const rows = s.db.prepare('SELECT symbol, interval, open_time_ms, open, high, low, close, volume, quote_volume, trades, taker_buy_base_volume FROM bars ORDER BY open_time_ms').raw(true).all() as unknown[][];
  s.close();
  return rows;
}

describe('round trip: CSV → store A → replay over HTTP → ingest → store B', () => {
  it('is bar-for-bar identical (BTCUSDT 1h 2023, with its one-hour exchange gap)', async () => {
    const a = tmp.path('a.db');
    const b = tmp.path('b.db');
    const imp = await runCli(['import-csv', '--db', a, '--venue', 'binance-spot', '--symbol', 'BTCUSDT', '--interval', '1h', '--json', FILE]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ rows: 8759, first: '2023-01-01T00:00:00.000Z', last: '2023-12-31T23:00:00.000Z' });

    const server = spawnCli(['serve-venue', 'replay', '--db', a, '--port', '0', '--json']);
    children.push(server);
    const url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      server.stdout!.on('data', (d: Buffer) => { buf += d.toString(); const m = /"url":\s*"([^"]+)"/.exec(buf); if (m) resolve(m[1]!); });
      server.on('close', (c) => reject(new Error(`replay exited ${c}`)));
    });

    const ing = await runCli(['ingest', '--db', b, '--venue', 'binance-spot', '--base-url', url, '--symbols', 'BTCUSDT', '--interval', '1h', '--from', '2023-01-01', '--to', '2024-01-01', '--json']);
    expect(ing.code, ing.stderr).toBe(0);
    expect(JSON.parse(ing.stdout)).toMatchObject({ rows: 8759 });
    const rowsA = bars(a);
    expect(rowsA).toHaveLength(8759);
    expect(bars(b)).toEqual(rowsA);

    const status = await runCli(['data', 'status', '--db', b, '--json', '--now', '2024-01-01']);
    expect(status.code, status.stderr).toBe(0);
    const s = (JSON.parse(status.stdout) as { series: Record<string, unknown>[] }).series;
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h', bars: 8759, first: '2023-01-01T00:00:00.000Z', last: '2023-12-31T23:00:00.000Z', gaps: 1 });
  }, 120_000);
});
