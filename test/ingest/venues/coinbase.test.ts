import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage } from '../../../src/ingest/row-checks.ts';
import type { Bar } from '../../../src/ingest/types.ts';
import { classifyCoinbaseError, COINBASE_MAX_CANDLES, createCoinbaseSource } from '../../../src/ingest/venues/coinbase/client.ts';
import { startTestServer, type TestRequest, type TestResponse, type TestServer } from '../../helpers/http-server.ts';
import { collect, failure, FAST_HTTP, q } from '../../helpers/source.ts';

const FIX = new URL('../../fixtures/coinbase/', import.meta.url).pathname;
const text = (name: string): string => readFileSync(FIX + name, 'utf8');
const CANDLES = 'candles_BTC-USD_3600_2024-08-04_05.json';
/** [time (s), low, high, open, close, volume], newest first, as recorded. */
const candles = JSON.parse(text(CANDLES)) as number[][];
const expected = JSON.parse(text(CANDLES.replace('.json', '.expected.json'))) as Bar[];

const HOUR = 3_600_000;
const T0 = 1722729600000; // 2024-08-04T00:00Z, the oldest recorded candle
const GRANULARITIES = [60, 300, 900, 3600, 21600, 86400];

/** Coinbase's semantics: ISO start/end (inclusive), at most 300 buckets per request, newest first, 404 for unknown products. */
function coinbaseRoute(req: TestRequest): TestResponse {
  const m = /^\/products\/([^/]+)\/candles$/.exec(req.path);
  if (!m) return { status: 404, body: text('error_not_found.json') };
  const product = decodeURIComponent(m[1]!);
  if (product !== 'BTC-USD' && product !== 'BTC-EUR') return { status: 404, body: text('error_not_found.json') };
  const granularity = Number(req.query.get('granularity'));
  if (!GRANULARITIES.includes(granularity)) return { status: 400, body: text('error_unsupported_granularity.json') };
  const start = Date.parse(req.query.get('start') ?? '');
  const end = Date.parse(req.query.get('end') ?? '');
  if ((end - start) / 1000 / granularity > COINBASE_MAX_CANDLES) return { status: 400, body: text('error_too_many_aggregations.json') };
  const page = granularity === 3600 ? candles.filter((c) => c[0]! * 1000 >= start && c[0]! * 1000 <= end) : [];
  // BTC-EUR answers a payload with a string where a number belongs (row 2, open).
  const body = product === 'BTC-EUR' ? page.map((c, i) => (i === 2 ? [c[0], c[1], c[2], String(c[3]), c[4], c[5]] : c)) : page;
  return { body: JSON.stringify(body) };
}

describe('coinbase source (golden, hand-recorded payloads over a real loopback server)', () => {
  let server: TestServer;
  const src = () => createCoinbaseSource({ baseUrl: server.url, http: FAST_HTTP });
  beforeAll(async () => { server = await startTestServer(coinbaseRoute); });
  afterAll(() => server.close());

  it('declares bars only, at Coinbase\'s six granularities', () => {
    const s = src();
    expect(s.venue).toBe('coinbase');
    expect(s.has).toEqual({ bars: true, funding: false, openInterest: false, impliedVol: false });
    expect(s.intervals).toEqual(['1m', '5m', '15m', '1h', '6h', '1d']);
  });

  it('maps newest-first candles to ascending bars across 300-bucket windows', async () => {
    const before = server.requests.length;
    const fromMs = T0 + 24 * HOUR - COINBASE_MAX_CANDLES * HOUR; // the window boundary falls at 2024-08-05T00:00Z
    const { rows, pages } = await collect(src().fetch('bars', q('BTC-USD', '1h', fromMs, T0 + 48 * HOUR)));
    expect(rows).toEqual(expected);
    expect(pages).toBe(2);
    const sent = server.requests.slice(before);
    expect(sent.map((r) => [r.query.get('granularity'), r.query.get('start'), r.query.get('end')])).toEqual([
      ['3600', '2024-07-23T12:00:00.000Z', '2024-08-04T23:59:59.999Z'],
      ['3600', '2024-08-05T00:00:00.000Z', '2024-08-05T23:59:59.999Z'],
    ]);
    expect(checkPage('bars', rows, { where: 'coinbase', fromMs, toMs: T0 + 48 * HOUR }).rows).toHaveLength(48);
  });

  it('reads the columns as [time, low, high, open, close, volume], not OHLC', async () => {
    const { rows } = await collect(src().fetch('bars', q('BTC-USD', '1h', T0, T0 + HOUR)));
    const oldest = candles[candles.length - 1]!;
    expect(oldest).toEqual([1722729600, 60659.33, 60847.86, 60731.12, 60715.2, 166.97071292]);
    expect(rows).toEqual([{ openTimeMs: 1722729600000, open: 60731.12, high: 60847.86, low: 60659.33, close: 60715.2, volume: 166.97071292 }]);
    // Every recorded bar is internally consistent only under the right column order.
    const all = await collect(src().fetch('bars', q('BTC-USD', '1h', T0, T0 + 48 * HOUR)));
    for (const b of all.rows) expect(b.low <= Math.min(b.open, b.close) && b.high >= Math.max(b.open, b.close)).toBe(true);
  });

  it('never asks for more than 300 buckets (1m over a day: five windows)', async () => {
    const before = server.requests.length;
    const { rows } = await collect(src().fetch('bars', q('BTC-USD', '1m', T0, T0 + 24 * HOUR)));
    expect(rows).toEqual([]);
    expect(server.requests.length - before).toBe(5);
  });

  it('names an unknown product as badSymbol (404 NotFound), without retrying', async () => {
    const before = server.requests.length;
    const err = await failure(src().fetch('bars', q('NOPE-USD', '1h', T0, T0 + HOUR)));
    expect(err.kind).toBe('badSymbol');
    expect(err.message).toContain('/products/NOPE-USD/candles');
    expect(server.requests.length - before).toBe(1);
  });

  it('names the field path of a schema violation', async () => {
    const err = await failure(src().fetch('bars', q('BTC-EUR', '1h', T0, T0 + 48 * HOUR)));
    expect(err.kind).toBe('schema');
    expect(err.message).toMatch(/coinbase GET \/products\/BTC-EUR\/candles: .*2\.3: /);
  });

  it('refuses unsupported kinds and intervals before any request', async () => {
    const before = server.requests.length;
    const e4h = await failure(src().fetch('bars', q('BTC-USD', '4h', T0, T0 + 8 * HOUR)));
    expect(e4h.kind).toBe('notSupported');
    expect(e4h.message).toContain('1m, 5m, 15m, 1h, 6h, 1d');
    expect((await failure(src().fetch('funding', q('BTC-USD', '1h', T0, T0 + HOUR)))).kind).toBe('notSupported');
    expect(server.requests.length).toBe(before);
  });

  it('maps other 4xx messages to badRequest', () => {
    const err = classifyCoinbaseError('coinbase')(400, JSON.parse(text('error_too_many_aggregations.json')), 'GET /products/BTC-USD/candles');
    expect(err?.kind).toBe('badRequest');
    expect(err?.message).toContain('exceeds 300');
    expect(classifyCoinbaseError('coinbase')(429, JSON.parse(text('error_rate_limited.json')), 'GET x')).toBeUndefined();
  });
});

describe('coinbase rate limiting', () => {
  it('retries a 429 "Public rate limit exceeded" as rateLimited', async () => {
    let calls = 0;
    const server = await startTestServer((req) => (++calls === 1 ? { status: 429, body: text('error_rate_limited.json') } : coinbaseRoute(req)));
    try {
      const kinds: string[] = [];
      const src = createCoinbaseSource({ baseUrl: server.url, http: { ...FAST_HTTP, onRetry: (i) => kinds.push(i.error.kind) } });
      const { rows } = await collect(src.fetch('bars', q('BTC-USD', '1h', T0, T0 + 3 * HOUR)));
      expect(rows).toEqual(expected.slice(0, 3));
      expect(kinds).toEqual(['rateLimited']);
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });
});
