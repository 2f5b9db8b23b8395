import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { epochMs, type Interval } from '../../../src/core/time.ts';
import { decimal8, startVenueServer, type VenueDataProvider, type VenueServer } from '../../../src/ingest/replay/wire-server.ts';
import type { Bar } from '../../../src/ingest/types.ts';
import { createBinanceSource } from '../../../src/ingest/venues/binance/client.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const NOW = T0 + 100 * H + 30 * 60_000; // 100 complete 1h bars

/** A small in-memory provider: 100 hourly bars of one symbol, every call recorded. */
function memoryProvider(): VenueDataProvider & { calls: unknown[][] } {
  const bars: Bar[] = Array.from({ length: 100 }, (_, i) => ({
    openTimeMs: T0 + i * H, open: 100 + i, high: 102 + i, low: 99 + i, close: 101 + i, volume: 10.5, quoteVolume: 1060.25, trades: 7, takerBuyBaseVolume: 5.25,
  }));
  const calls: unknown[][] = [];
  return {
    calls,
    symbols: () => [{ symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT' }],
    intervals: (_s, kind): Interval[] => (kind === 'bars' ? ['1h'] : []),
    nowMs: () => NOW,
    bars: (symbol, interval, fromMs, toMs, limit, newestFirst) => {
      calls.push([symbol, interval, fromMs, toMs, limit, newestFirst]);
      const inRange = bars.filter((b) => b.openTimeMs >= fromMs && b.openTimeMs < toMs);
      return newestFirst ? inRange.slice(-limit) : inRange.slice(0, limit);
    },
  };
}

describe('wire server (Binance format over loopback)', () => {
  let server: VenueServer;
  let provider: ReturnType<typeof memoryProvider>;
  const get = async (path: string): Promise<{ status: number; body: unknown; headers: Headers }> => {
    const res = await fetch(`${server.url}${path}`);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  beforeAll(async () => {
    provider = memoryProvider();
    server = await startVenueServer({ provider });
  });
  afterAll(() => server.close());

  it('binds loopback on a free port and answers ping, time and exchangeInfo', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await get('/api/v3/ping')).body).toEqual({});
    expect((await get('/api/v3/time')).body).toEqual({ serverTime: NOW });
    for (const path of ['/api/v3/exchangeInfo', '/fapi/v1/exchangeInfo']) {
      const info = (await get(path)).body as { timezone: string; serverTime: number; symbols: unknown[] };
      expect(info.timezone).toBe('UTC');
      expect(info.serverTime).toBe(NOW);
      expect(info.symbols).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', status: 'TRADING', baseAsset: 'BTC', quoteAsset: 'USDT' })]);
    }
  });

  it('serves klines exactly as Binance lays them out, with the weight header', async () => {
    const r = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${T0}&limit=2`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-mbx-used-weight-1m')).toMatch(/^\d+$/);
    expect(r.body).toEqual([
      [T0, '100.00000000', '102.00000000', '99.00000000', '101.00000000', '10.50000000', T0 + H - 1, '1060.25000000', 7, '5.25000000', '530.12500000', '0'],
      [T0 + H, '101.00000000', '103.00000000', '100.00000000', '102.00000000', '10.50000000', T0 + 2 * H - 1, '1060.25000000', 7, '5.25000000', '530.12500000', '0'],
    ]);
  });

  it('applies Binance window semantics: endTime inclusive, default limit 500, newest bars without startTime', async () => {
    const inclusive = (await get(`/fapi/v1/klines?symbol=BTCUSDT&interval=1h&startTime=${T0}&endTime=${T0 + 2 * H}`)).body as unknown[][];
    expect(inclusive.map((k) => k[0])).toEqual([T0, T0 + H, T0 + 2 * H]);
    expect(provider.calls.at(-1)).toEqual(['BTCUSDT', '1h', T0, T0 + 2 * H + 1, 500, false]);
    const latest = (await get('/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3')).body as unknown[][];
    expect(latest.map((k) => k[0])).toEqual([T0 + 97 * H, T0 + 98 * H, T0 + 99 * H]);
    const upTo = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1h&endTime=${T0 + 10 * H}&limit=2`)).body as unknown[][];
    expect(upTo.map((k) => k[0])).toEqual([T0 + 9 * H, T0 + 10 * H]);
  });

  it.each([
    ['/api/v3/klines?symbol=NOPE&interval=1h', -1121, 'Invalid symbol.'],
    ['/api/v3/klines?interval=1h', -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."],
    ['/api/v3/klines?symbol=BTCUSDT', -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=7m', -1120, 'Invalid interval.'],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1001', -1130, "Data sent for parameter 'limit' is not valid."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=0', -1130, "Data sent for parameter 'limit' is not valid."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=12x', -1100, "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1h&endTime=-5', -1100, "Illegal characters found in parameter 'endTime'; legal range is '^[0-9]{1,20}$'."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=10&endTime=5', -1023, 'Start time is greater than end time.'],
  ])('%s → 400 %i', async (path, code, msg) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code, msg });
  });

  it('accepts USDT-M pages of up to 1500 klines but not spot ones', async () => {
    expect((await get('/fapi/v1/klines?symbol=BTCUSDT&interval=1h&limit=1500')).status).toBe(200);
    expect((await get('/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1500')).status).toBe(400);
    expect((await get('/fapi/v1/klines?symbol=BTCUSDT&interval=1h&limit=1501')).body).toEqual({ code: -1130, msg: "Data sent for parameter 'limit' is not valid." });
  });

  it('names a Binance interval the venue does not hold, with the same code', async () => {
    const r = await get('/api/v3/klines?symbol=BTCUSDT&interval=4h');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: -1120, msg: expect.stringMatching(/^Invalid interval\. This offline venue serves BTCUSDT klines in 1h\.$/) });
  });

  it('answers 404 on unknown paths and on kinds the provider does not serve', async () => {
    expect((await get('/api/v3/nothing')).status).toBe(404);
    expect((await get('/fapi/v1/fundingRate?symbol=BTCUSDT')).status).toBe(404);
    const src = createBinanceSource({ market: 'usdm', baseUrl: server.url, http: { maxRetries: 0 } });
    const err = await (async () => { for await (const _ of src.fetch('funding', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(T0), toMs: epochMs(NOW) })) void _; })().catch((e: unknown) => e);
    expect(isAppError(err, 'notSupported')).toBe(true);
  });

  it('lets the Binance client map -1121 to badSymbol and -1120 to badRequest, without retrying', async () => {
    const src = createBinanceSource({ market: 'spot', baseUrl: server.url });
    const drain = async (symbol: string, interval: Interval): Promise<unknown> =>
      (async () => { for await (const _ of src.fetch('bars', { symbol, interval, fromMs: epochMs(T0), toMs: epochMs(NOW) })) void _; })().catch((e: unknown) => e);
    const before = src.http.requests;
    const bad = await drain('NOPE', '1h');
    expect(isAppError(bad, 'badSymbol')).toBe(true);
    expect(isAppError(await drain('BTCUSDT', '4h'), 'badRequest')).toBe(true);
    expect(src.http.requests - before).toBe(2);
  });

  it('reads every bar back through the Binance client', async () => {
    const src = createBinanceSource({ market: 'usdm', baseUrl: server.url });
    const got: Bar[] = [];
    for await (const page of src.fetch('bars', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(T0), toMs: epochMs(T0 + 200 * H) })) got.push(...page);
    expect(got).toHaveLength(100);
    expect(got[5]).toEqual({ openTimeMs: T0 + 5 * H, open: 105, high: 107, low: 104, close: 106, volume: 10.5, quoteVolume: 1060.25, trades: 7, takerBuyBaseVolume: 5.25 });
  });
});

describe('wire server rate limit', () => {
  it('answers 429 with Retry-After and -1003 beyond the per-minute budget; the client sees rateLimited', async () => {
    const server = await startVenueServer({ provider: memoryProvider(), rateLimitPerMinute: 3 });
    try {
      // Stay clear of a minute boundary so the fixed window does not reset mid-test.
      if (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
      for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/api/v3/ping`)).status).toBe(200);
      const res = await fetch(`${server.url}/api/v3/ping`);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(await res.json()).toEqual({ code: -1003, msg: expect.stringContaining('Too many requests') });
      const src = createBinanceSource({ market: 'spot', baseUrl: server.url, http: { maxRetries: 0 } });
      const err = await (async () => { for await (const _ of src.fetch('bars', { symbol: 'BTCUSDT', interval: '1h', fromMs: epochMs(T0), toMs: epochMs(NOW) })) void _; })().catch((e: unknown) => e);
      expect(isAppError(err, 'rateLimited')).toBe(true);
      // HttpClient's give-up wrapper keeps the server's Retry-After on its cause.
      const cause = (err as Error).cause as { retryAfterMs?: number } | undefined;
      expect(cause?.retryAfterMs).toBeGreaterThanOrEqual(1000);
    } finally {
      await server.close();
    }
  });
});

describe('decimal8', () => {
  it('prints Binance-style eight decimals and stays exact otherwise', () => {
    expect(decimal8(64628.01)).toBe('64628.01000000');
    expect(decimal8(-0.0001)).toBe('-0.00010000');
    expect(decimal8(0)).toBe('0.00000000');
    expect(decimal8(1e-8)).toBe('0.00000001');
    expect(decimal8(82114039.5356354)).toBe('82114039.53563540');
    expect(decimal8(5e8 + 0.1234)).toBe('500000000.12340000');
    for (const x of [0.1 + 0.2, 1.5e-9, 123456789.123456789, 1e22, 1 / 3]) expect(Number(decimal8(x))).toBe(x);
    expect(decimal8(undefined)).toBe('0');
  });
});
