import { afterAll, describe, expect, it } from 'vitest';
import { epochMs } from '../../src/core/time.ts';
import { createBinanceSource } from '../../src/ingest/venues/binance/client.ts';
import { collect } from '../helpers/source.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { startTestServer } from '../helpers/http-server.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const FIXTURES = new URL('../fixtures/csv/', import.meta.url).pathname;

describe('liqcal CLI', () => {
  it('prints help with examples and exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['demo', 'ingest', 'import-csv', 'serve-venue', 'data', 'runs']) expect(r.stdout).toContain(cmd);
    expect(r.stdout).toMatch(/Exit codes:/);
    const sub = await runCli(['ingest', '--help']);
    expect(sub.stdout).toMatch(/--base-url/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await runCli(['ingest', '--symbols', 'BTCUSDT']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--venue/);
  });

  it('rejects a bad CSV naming file and line, exits 6, and writes nothing', async () => {
    const db = tmp.path('bad.db');
    const r = await runCli(['import-csv', '--db', db, '--venue', 'x', '--symbol', 'BTCUSDT', '--interval', '1h', '--json', `${FIXTURES}high-below-low.csv`]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/high-below-low\.csv:\d+/);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'dataQuality' } });
    const status = await runCli(['data', 'status', '--db', db, '--json']);
    expect(JSON.parse(status.stdout)).toEqual({ series: [], invalidTimes: [] });
    const runs = await runCli(['runs', '--db', db, '--json']);
    expect(JSON.parse(runs.stdout).runs[0]).toMatchObject({ kind: 'import-csv', status: 'failed' });
  });

  it('reports an unknown symbol from the venue with exit code 4 and records the failed run', async () => {
    const server = await startTestServer(() => ({ status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' }));
    const db = tmp.path('sym.db');
    const r = await runCli(['ingest', '--db', db, '--venue', 'binance-spot', '--base-url', server.url, '--symbols', 'NOPEUSDT', '--from', '2024-01-01', '--to', '2024-01-02', '--json']);
    await server.close();
    expect(r.code).toBe(4);
    const out = JSON.parse(r.stdout) as { failures: { symbol: string; error: { kind: string } }[] };
    expect(out.failures).toEqual([{ symbol: 'NOPEUSDT', kind: 'bars', error: expect.objectContaining({ kind: 'badSymbol' }) }]);
    const runs = await runCli(['runs', '--db', db, '--json']);
    expect(JSON.parse(runs.stdout).runs[0]).toMatchObject({ kind: 'ingest', status: 'failed' });
  });

  it('refuses an unknown venue and a malformed time with a configuration error', async () => {
    const v = await runCli(['ingest', '--db', tmp.path('c.db'), '--venue', 'kraken', '--symbols', 'XBTUSD']);
    expect(v.code).toBe(3);
    expect(v.stderr).toMatch(/Unknown venue "kraken": use one of binance-spot/);
    const t = await runCli(['ingest', '--db', tmp.path('c.db'), '--venue', 'binance-spot', '--symbols', 'BTCUSDT', '--from', 'yesterday']);
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(/Cannot read from "yesterday"/);
  });

  it('serves the simulator until SIGTERM, readable by the Binance client', async () => {
    const child = spawnCli(['serve-venue', 'simulator', '--seed', '3', '--port', '0', '--symbols', 'BTCUSDT', '--json']);
    const url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => { buf += d.toString(); const m = /"url":\s*"([^"]+)"/.exec(buf); if (m) resolve(m[1]!); });
      child.on('close', (c) => reject(new Error(`simulator exited ${c}`)));
    });
    const src = createBinanceSource({ market: 'usdm', baseUrl: url, http: { requestsPerSecond: 0 } });
    const { rows } = await collect(src.fetch('bars', { symbol: 'BTCUSDT', interval: '4h', fromMs: epochMs(Date.parse('2023-03-01')), toMs: epochMs(Date.parse('2023-04-01')) }));
    expect(rows).toHaveLength(31 * 6);
    const closed = new Promise<number | null>((r) => child.on('close', r));
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
  });
});
