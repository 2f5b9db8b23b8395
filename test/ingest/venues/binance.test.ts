import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { createBinanceSource } from '../../../src/ingest/venues/binance/client.ts';
import { SHARED_DATA, startTestServer, type TestServer } from '../../helpers/http-server.ts';
import { collect, failure, q } from '../../helpers/source.ts';

// Recorded GET /api/v3/klines?symbol=BTCUSDT&interval=1h for August 2024 (744 klines, includes the 2024-08-05 crash).
const recorded = JSON.parse(readFileSync(`${SHARED_DATA}api-samples/binance/api-v3-klines_BTCUSDT_1h_2024-08.json`, 'utf8')) as unknown[][];

describe('binance spot klines (golden, recorded payload over a real loopback server)', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Serves the recorded klines with Binance's startTime/endTime/limit semantics.
    server = await startTestServer((req) => {
      if (req.query.get('symbol') !== 'BTCUSDT') return { status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' };
      const start = Number(req.query.get('startTime') ?? 0);
      const end = Number(req.query.get('endTime') ?? Number.MAX_SAFE_INTEGER);
      const limit = Number(req.query.get('limit') ?? 500);
      const page = recorded.filter((k) => (k[0] as number) >= start && (k[0] as number) <= end).slice(0, limit);
      return { body: JSON.stringify(page) };
    });
  });
  afterAll(() => server.close());

  it('maps every recorded kline to a normalised bar, across pages', async () => {
    const src = createBinanceSource({ market: 'spot', baseUrl: server.url });
    const { rows: bars } = await collect(src.fetch('bars', q('BTCUSDT', '1h', 1722470400000, 1725148800000)));
    expect(bars).toHaveLength(744);
    expect(bars[0]).toEqual({
      openTimeMs: 1722470400000, open: 64628.01, high: 64841.29, low: 64316.55, close: 64645.9, volume: 1271.22941,
      quoteVolume: 82114039.5356354, trades: 97642, takerBuyBaseVolume: 522.34659,
    });
    // 2024-08-05 00:00–23:00: the crash day's low is in the recorded klines.
    const aug5 = bars.filter((b) => b.openTimeMs >= 1722816000000 && b.openTimeMs < 1722902400000);
    expect(Math.min(...aug5.map((b) => b.low))).toBe(49000);
    // 744 bars at 1000 per page: one page.
    expect(server.requests.length).toBe(1);
  });

  it('names an unknown symbol as badSymbol, without retrying', async () => {
    const src = createBinanceSource({ market: 'spot', baseUrl: server.url });
    const before = server.requests.length;
    const err = await failure(src.fetch('bars', q('NOPE', '1h', 0, 1)));
    expect(isAppError(err, 'badSymbol')).toBe(true);
    expect(server.requests.length - before).toBe(1);
  });
});
