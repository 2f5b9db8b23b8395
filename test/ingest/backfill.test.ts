import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { epochMs } from '../../src/core/time.ts';
import { backfill, resumePoint } from '../../src/ingest/backfill.ts';
import { createBinanceSource } from '../../src/ingest/venues/binance/client.ts';
import { openStore } from '../../src/store/db.ts';
import { MarketData } from '../../src/store/market-data.ts';
import { klinesRoute } from '../helpers/binance-wire.ts';
import { startTestServer, type TestServer } from '../helpers/http-server.ts';
import { syntheticBars, tempDir } from '../helpers/tmp.ts';

const H = 3_600_000;
const T0 = 1_704_067_200_000; // 2024-01-01
const bars = syntheticBars(T0, 2500);
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let server: TestServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

let n = 0;
async function setup(mutatePage?: (page: unknown[][], i: number) => unknown[][]): Promise<{ md: MarketData; src: ReturnType<typeof createBinanceSource> }> {
  server = await startTestServer(klinesRoute(bars, mutatePage ? { mutatePage } : {}));
  return { md: new MarketData(openStore(tmp.path(`bf${n++}.db`))), src: createBinanceSource({ market: 'spot', baseUrl: server.url, http: { requestsPerSecond: 0, maxRetries: 0 } }) };
}
const job = { kind: 'bars' as const, symbol: 'BTCUSDT', interval: '1h' as const, fromMs: epochMs(T0), toMs: epochMs(T0 + 2500 * H) };
const key = { venue: 'binance-spot', symbol: 'BTCUSDT', interval: '1h' };
const failure = async (p: Promise<unknown>): Promise<AppError> => { try { await p; } catch (e) { return e as AppError; } throw new Error('expected failure'); };

describe('backfill', () => {
  it('stores every bar across pages, then resumes with nothing to fetch', async () => {
    const { md, src } = await setup();
    const r = await backfill(src, md, job);
    expect(r).toMatchObject({ rows: 2500, pages: 3, duplicates: 0, firstMs: T0, lastMs: T0 + 2499 * H });
    expect(md.readRows('bars', key)).toEqual(bars.map((b) => ({ ...b })));
    const again = await backfill(src, md, job);
    expect(again.rows).toBe(0);
    expect(again.resumedFromMs).toBe(T0 + 2500 * H);
  });

  it('resumes after the last stored bar', async () => {
    const { md, src } = await setup();
    md.writePage('bars', key, bars.slice(0, 1200));
    expect(resumePoint(md, 'bars', key, T0, T0 + 2500 * H)).toBe(T0 + 1200 * H);
    const r = await backfill(src, md, job);
    expect(r.rows).toBe(1300);
    expect(md.readRows('bars', key)).toHaveLength(2500);
  });

  it('drops exact duplicate bars within a page and counts them', async () => {
    const { md, src } = await setup((p, i) => (i === 0 ? [...p.slice(0, 10), p[9]!, ...p.slice(10)] : p));
    const r = await backfill(src, md, job);
    expect(r.duplicates).toBe(1);
    expect(md.readRows('bars', key)).toHaveLength(2500);
  });

  const faults: [string, (p: unknown[][], i: number) => unknown[][], RegExp][] = [
    ['pages out of order', (p, i) => (i === 1 ? [p[1]!, p[0]!, ...p.slice(2)] : p), /out of order/],
    ['a page overlapping the previous one', (p, i) => (i === 1 ? [[T0 + 999 * H, ...p[0]!.slice(1)], ...p] : p), /out of order|share the time/],
    ['two different bars at one time', (p, i) => (i === 1 ? [p[0]!, [p[0]![0], '1', '2', '0.5', '1.5', ...p[0]!.slice(5)], ...p.slice(1)] : p), /two different bars rows share the time/],
    ['a NaN price', (p, i) => (i === 1 ? p.map((k, j) => (j === 5 ? [k[0], 'NaN', ...k.slice(2)] : k)) : p), /Expected a decimal string|not a finite/],
    ['a negative price', (p, i) => (i === 1 ? p.map((k, j) => (j === 5 ? [k[0], '-5', ...k.slice(2)] : k)) : p), /open is -5, not positive/],
    ['high below low', (p, i) => (i === 1 ? p.map((k, j) => (j === 5 ? [k[0], k[1], '1', '2', ...k.slice(4)] : k)) : p), /high 1 < low 2/],
    ['a schema violation', (p, i) => (i === 1 ? p.map((k, j) => (j === 7 ? [k[0], 64000, ...k.slice(2)] : k)) : p), /7\.1: Invalid input: expected string/],
  ];
  it.each(faults)('stops on %s, keeps whole earlier pages only, and names the problem', async (_name, mutate, message) => {
    const { md, src } = await setup(mutate);
    const e = await failure(backfill(src, md, job));
    expect(e).toBeInstanceOf(AppError);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/binance-spot/);
    // Page 0 (1000 bars) was written with its watermark; nothing of the bad page was.
    expect(md.readRows('bars', key)).toHaveLength(1000);
    expect(md.watermark('bars', key)).toBe(T0 + 999 * H);
  });

  it('refuses kinds the venue does not serve before any request', async () => {
    const { md, src } = await setup();
    const e = await failure(backfill(src, md, { ...job, kind: 'funding' }));
    expect(e.kind).toBe('notSupported');
    expect(server!.requests).toHaveLength(0);
  });
});
