import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage } from '../../../src/ingest/row-checks.ts';
import { createHyperliquidSource, HYPERLIQUID_LIMITS, HYPERLIQUID_REQUESTS_PER_SECOND } from '../../../src/ingest/venues/hyperliquid/client.ts';
import { startTestServer, type TestRequest, type TestResponse, type TestServer } from '../../helpers/http-server.ts';
import { collect, failure, FAST_HTTP, q } from '../../helpers/source.ts';

const FIX = new URL('../../fixtures/hyperliquid/', import.meta.url).pathname;
const text = (name: string): string => readFileSync(FIX + name, 'utf8');
const CANDLES = 'candleSnapshot_BTC_1h_2024-08-04_05.json';
const FUNDING = 'fundingHistory_BTC_2024-08-04_05.json';
interface Candle { t: number; T: number; s: string; i: string; o: string; c: string; h: string; l: string; v: string; n: number }
const candles = JSON.parse(text(CANDLES)) as Candle[];
const funding = JSON.parse(text(FUNDING)) as { coin: string; fundingRate: string; premium: string; time: number }[];
const expected = (name: string): unknown => JSON.parse(text(name.replace('.json', '.expected.json')));

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = 1722729600000; // 2024-08-04T00:00Z

interface InfoBody { type: string; dex?: string; coin?: string; startTime?: number; endTime?: number; req?: { coin: string; interval: string; startTime: number; endTime: number } }
const bodyOf = (r: TestRequest): InfoBody => JSON.parse(r.body) as InfoBody;
const ok = (v: unknown): TestResponse => ({ body: JSON.stringify(v) });

/** Serves the universe lookups; a builder dex "xyz" exists, any other dex answers null. */
function metaRoute(b: InfoBody): TestResponse | undefined {
  if (b.type === 'meta' && b.dex === undefined) return { body: text('meta.json') };
  if (b.type === 'meta') return ok(b.dex === 'xyz' ? { universe: [{ szDecimals: 4, name: 'xyz:XYZ100', maxLeverage: 20 }] } : null);
  if (b.type === 'spotMeta') return { body: text('spotMeta.json') };
  return undefined;
}

/** Hyperliquid's semantics: JSON body by `type`; candles overlapping [startTime, endTime], first 5000; funding in range, first 500. */
function hyperliquidRoute(req: TestRequest): TestResponse {
  if (req.method !== 'POST' || req.path !== '/info') return { status: 404, body: '' };
  const b = bodyOf(req);
  const meta = metaRoute(b);
  if (meta) return meta;
  if (b.type === 'candleSnapshot' && b.req) {
    const { coin, interval, startTime, endTime } = b.req;
    // ETH answers a payload with a number where a decimal string belongs (row 0, field o).
    if (coin === 'ETH') return ok([{ ...candles[0]!, s: 'ETH', o: 2650.5 }]);
    if (coin !== 'BTC' || interval !== '1h') return ok([]);
    return ok(candles.filter((c) => c.t <= endTime && c.T >= startTime).slice(0, HYPERLIQUID_LIMITS.candles));
  }
  if (b.type === 'fundingHistory') {
    if (b.coin !== 'BTC') return ok([]);
    return ok(funding.filter((f) => f.time >= b.startTime! && f.time <= (b.endTime ?? Infinity)).slice(0, HYPERLIQUID_LIMITS.funding));
  }
  return { status: 422, body: text('error_422_deserialize.txt') };
}


describe('hyperliquid source (golden, hand-recorded payloads over a real loopback server)', () => {
  let server: TestServer;
  const src = () => createHyperliquidSource({ baseUrl: server.url, http: FAST_HTTP });
  const sentSince = (n: number) => server.requests.slice(n).map(bodyOf);
  beforeAll(async () => { server = await startTestServer(hyperliquidRoute); });
  afterAll(() => server.close());

  it('declares bars and funding, at every interval but 6h, within the weight budget', () => {
    const s = src();
    expect(s.venue).toBe('hyperliquid');
    expect(s.has).toEqual({ bars: true, funding: true, openInterest: false, impliedVol: false });
    expect(s.intervals).toEqual(['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '8h', '12h', '1d']);
    expect(HYPERLIQUID_REQUESTS_PER_SECOND * 60 * 104).toBeLessThanOrEqual(1200);
  });

  it('maps candleSnapshot candles to bars, posting the documented body', async () => {
    const before = server.requests.length;
    const { rows } = await collect(src().fetch('bars', q('BTC', '1h', T0, T0 + 48 * HOUR)));
    expect(rows).toEqual(expected(CANDLES));
    expect(rows[30]).toEqual({ openTimeMs: 1722837600000, open: 52674, high: 52795, low: 51142, close: 51654, volume: 2447.09643, trades: 29553 });
    expect(sentSince(before)).toEqual([
      { type: 'meta' },
      { type: 'candleSnapshot', req: { coin: 'BTC', interval: '1h', startTime: T0, endTime: T0 + 48 * HOUR - 1 } },
    ]);
    expect(server.requests.slice(before).every((r) => r.method === 'POST' && r.path === '/info')).toBe(true);
  });

  it('maps fundingHistory entries (hourly fundingRate as the rate)', async () => {
    const before = server.requests.length;
    const { rows } = await collect(src().fetch('funding', q('BTC', '1h', T0, T0 + 48 * HOUR)));
    expect(rows).toEqual(expected(FUNDING));
    expect(rows[0]).toEqual({ fundingTimeMs: 1722729600066, rate: 0.0000125 });
    expect(sentSince(before)[1]).toEqual({ type: 'fundingHistory', coin: 'BTC', startTime: T0, endTime: T0 + 48 * HOUR - 1 });
    expect(checkPage('funding', rows, { where: 'hyperliquid', fromMs: T0, toMs: T0 + 48 * HOUR }).rows).toHaveLength(48);
  });

  it('keeps [fromMs, toMs) exactly when the venue includes the candle containing an unaligned start', async () => {
    const { rows } = await collect(src().fetch('bars', q('BTC', '1h', T0 + 30 * MIN, T0 + 4 * HOUR)));
    expect(rows.map((b) => b.openTimeMs)).toEqual([T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]);
  });

  it('looks the universe up once per source, and again only on a miss', async () => {
    const s = src();
    const before = server.requests.length;
    await collect(s.fetch('bars', q('BTC', '1h', T0, T0 + 2 * HOUR)));
    await collect(s.fetch('funding', q('BTC', '1h', T0, T0 + 2 * HOUR)));
    expect(sentSince(before).map((b) => b.type)).toEqual(['meta', 'candleSnapshot', 'fundingHistory']);
  });

  it('names an unknown coin as badSymbol before any data request', async () => {
    const before = server.requests.length;
    const err = await failure(src().fetch('bars', q('NOPE', '1h', T0, T0 + HOUR)));
    expect(err.kind).toBe('badSymbol');
    expect(err.message).toContain('"NOPE"');
    expect(sentSince(before)).toEqual([{ type: 'meta' }]);
    expect((await failure(src().fetch('bars', q('abc:FOO', '1h', T0, T0 + HOUR)))).kind).toBe('badSymbol');
  });

  it('checks spot pairs and builder-dex perpetuals against their own universes', async () => {
    const before = server.requests.length;
    expect((await collect(src().fetch('bars', q('PURR/USDC', '1h', T0, T0 + HOUR)))).rows).toEqual([]);
    expect((await collect(src().fetch('bars', q('xyz:XYZ100', '1h', T0, T0 + HOUR)))).rows).toEqual([]);
    expect(sentSince(before).map((b) => [b.type, b.dex])).toEqual([['spotMeta', undefined], ['candleSnapshot', undefined], ['meta', 'xyz'], ['candleSnapshot', undefined]]);
    const spotFunding = await failure(src().fetch('funding', q('@107', '1h', T0, T0 + HOUR)));
    expect(spotFunding.kind).toBe('notSupported');
  });

  it('names the field path of a schema violation', async () => {
    const err = await failure(src().fetch('bars', q('ETH', '1h', T0, T0 + HOUR)));
    expect(err.kind).toBe('schema');
    expect(err.message).toMatch(/hyperliquid POST \/info candleSnapshot coin=ETH: .*0\.o: /);
  });

  it('refuses unsupported kinds and intervals before any request', async () => {
    const before = server.requests.length;
    const e6h = await failure(src().fetch('bars', q('BTC', '6h', T0, T0 + 12 * HOUR)));
    expect(e6h.kind).toBe('notSupported');
    expect(e6h.message).toContain('not 6h');
    expect((await failure(src().fetch('openInterest', q('BTC', '1h', T0, T0 + HOUR)))).kind).toBe('notSupported');
    expect((await failure(src().fetch('impliedVol', q('BTC', '1h', T0, T0 + HOUR)))).kind).toBe('notSupported');
    expect(server.requests.length).toBe(before);
  });
});

describe('hyperliquid errors and pagination', () => {
  it('reports the plain-text 422 of /info as badRequest, quoting it, without retrying', async () => {
    const server = await startTestServer((req) => metaRoute(bodyOf(req)) ?? { status: 422, body: text('error_422_deserialize.txt') });
    try {
      const err = await failure(createHyperliquidSource({ baseUrl: server.url, http: FAST_HTTP }).fetch('bars', q('BTC', '1h', T0, T0 + HOUR)));
      expect(err.kind).toBe('badRequest');
      expect(err.message).toContain('Failed to deserialize the JSON body');
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('walks 5000-candle and 500-entry pages forward until a short page', async () => {
    const N_CANDLES = 12_000;
    const N_FUNDING = 1_234;
    const px = (i: number) => (60000 + 50 * Math.sin(i / 30)).toFixed(1);
    const synth = (i: number): Candle => ({ t: T0 + i * MIN, T: T0 + (i + 1) * MIN - 1, s: 'BTC', i: '1m', o: px(i), c: px(i + 1), h: (Number(px(i)) + 20).toFixed(1), l: (Number(px(i)) - 20).toFixed(1), v: '1.25', n: 40 });
    const server = await startTestServer((req) => {
      const b = bodyOf(req);
      const meta = metaRoute(b);
      if (meta) return meta;
      if (b.type === 'candleSnapshot') {
        const first = Math.max(0, Math.ceil((b.req!.startTime - T0) / MIN));
        const last = Math.min(N_CANDLES - 1, Math.floor((b.req!.endTime - T0) / MIN));
        return ok(Array.from({ length: Math.max(0, Math.min(last - first + 1, HYPERLIQUID_LIMITS.candles)) }, (_, k) => synth(first + k)));
      }
      const first = Math.max(0, Math.ceil((b.startTime! - T0 - 50) / HOUR));
      const rows = [];
      for (let i = first; i < N_FUNDING && rows.length < HYPERLIQUID_LIMITS.funding; i++) {
        if (T0 + i * HOUR + 50 >= b.startTime! && T0 + i * HOUR + 50 <= b.endTime!) rows.push({ coin: 'BTC', fundingRate: '0.0000125', premium: '0.0001', time: T0 + i * HOUR + 50 });
      }
      return ok(rows);
    });
    try {
      const s = createHyperliquidSource({ baseUrl: server.url, http: FAST_HTTP });
      const bars = await collect(s.fetch('bars', q('BTC', '1m', T0, T0 + 20_000 * MIN)));
      expect(bars.rows).toHaveLength(N_CANDLES);
      expect(bars.pages).toBe(3);
      expect(checkPage('bars', bars.rows, { where: 'hyperliquid', fromMs: T0, toMs: T0 + 20_000 * MIN }).duplicates).toBe(0);
      const fund = await collect(s.fetch('funding', q('BTC', '1h', T0, T0 + 2000 * HOUR)));
      expect(fund.rows).toHaveLength(N_FUNDING);
      expect(fund.pages).toBe(3);
      expect(checkPage('funding', fund.rows, { where: 'hyperliquid', fromMs: T0, toMs: T0 + 2000 * HOUR }).duplicates).toBe(0);
      expect(server.requests.map((r) => bodyOf(r).type)).toEqual(['meta', 'candleSnapshot', 'candleSnapshot', 'candleSnapshot', 'fundingHistory', 'fundingHistory', 'fundingHistory']);
    } finally {
      await server.close();
    }
  });
});
