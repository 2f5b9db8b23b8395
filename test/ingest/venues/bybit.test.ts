import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { createBybitSource, type BybitSourceOptions } from '../../../src/ingest/venues/bybit/client.ts';
import { startTestServer, type TestResponse, type TestServer } from '../../helpers/http-server.ts';
import { failure, fetchPages } from '../../helpers/source.ts';

// Hand-recorded payloads in Bybit's v5 wire format (test/fixtures/bybit/).
const fixture = (name: string): { result: { list: unknown[] } } & Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/bybit/${name}`, import.meta.url), 'utf8'));
const linearKlines = fixture('v5-market-kline_linear_BTCUSDT_60_2024-08-04.json').result.list as string[][];
const inverseKlines = fixture('v5-market-kline_inverse_BTCUSD_60_2024-08-05.json').result.list as string[][];
const funding = fixture('v5-market-funding-history_linear_BTCUSDT_2024-08-01.json').result.list as { fundingRateTimestamp: string }[];
const badSymbolBody = readFileSync(new URL('../../fixtures/bybit/error-bad-symbol.json', import.meta.url), 'utf8');
const rateLimitBody = readFileSync(new URL('../../fixtures/bybit/error-rate-limit.json', import.meta.url), 'utf8');

const H = 3_600_000;
const AUG4 = Date.UTC(2024, 7, 4);
// A symbol with hourly funding (synthetic): 300 events fit one 200×8h window but not one 200-row page.
const hourlyFunding = Array.from({ length: 300 }, (_, i) => ({ symbol: 'HOURLYUSDT', fundingRate: (i % 2 ? '0.0000125' : '-0.00000375'), fundingRateTimestamp: String(Date.UTC(2024, 7, 1) + i * H) }));
// A payload that breaks the schema: the newest kline's close is a number instead of a decimal string.
const brokenKlines = [['1722898800000', '54686.8', '55072.9', '53867.4', 54009.7, '4187.98', '227864641.416']];

const KLINES: Record<string, unknown[][]> = { 'linear:BTCUSDT:60': linearKlines, 'inverse:BTCUSD:60': inverseKlines, 'linear:BROKENUSDT:60': brokenKlines };
const FUNDING: Record<string, { fundingRateTimestamp: string }[]> = { 'linear:BTCUSDT': funding, 'linear:HOURLYUSDT': hourlyFunding };

/** Answers queued ahead of the fixture routes (rate limits, 403s). */
let script: TestResponse[] = [];
const envelope = (result: unknown): TestResponse => ({ body: JSON.stringify({ retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: 1722902465117 }) });
const paramsError = (msg: string): TestResponse => ({ body: JSON.stringify({ retCode: 10001, retMsg: msg, result: {}, retExtInfo: {}, time: 1722902465117 }) });

/** Bybit v5 semantics over the fixture rows: inclusive [start, end], the newest `limit` rows, newest first. */
function newestFirst<R>(rows: readonly R[], timeOf: (r: R) => number, start: number, end: number, limit: number): R[] {
  return rows.filter((r) => timeOf(r) >= start && timeOf(r) <= end).sort((a, b) => timeOf(b) - timeOf(a)).slice(0, limit);
}

function bybitRoute(req: { path: string; query: URLSearchParams }): TestResponse {
  const next = script.shift();
  if (next) return next;
  const q = req.query;
  const category = q.get('category') ?? '';
  const symbol = q.get('symbol') ?? '';
  const limit = Number(q.get('limit') ?? 200);
  if (req.path === '/v5/market/kline') {
    if (limit < 1 || limit > 1000) return paramsError('params error: limit must be in [1, 1000]');
    const rows = KLINES[`${category}:${symbol}:${q.get('interval')}`];
    if (!rows) return { body: badSymbolBody };
    const list = newestFirst(rows, (r) => Number(r[0]), Number(q.get('start') ?? 0), Number(q.get('end') ?? Number.MAX_SAFE_INTEGER), limit);
    return envelope({ symbol, category, list });
  }
  if (req.path === '/v5/market/funding/history') {
    if (limit < 1 || limit > 200) return paramsError('params error: limit must be in [1, 200]');
    if (q.has('startTime') && !q.has('endTime')) return paramsError('params error: endTime is required with startTime');
    const rows = FUNDING[`${category}:${symbol}`];
    if (!rows) return paramsError('params error: Symbol Is Invalid');
    const list = newestFirst(rows, (r) => Number(r.fundingRateTimestamp), Number(q.get('startTime') ?? 0), Number(q.get('endTime') ?? Number.MAX_SAFE_INTEGER), limit);
    return envelope({ category, list });
  }
  return { status: 404, body: '' };
}

let server: TestServer;
beforeAll(async () => { server = await startTestServer(bybitRoute); });
afterAll(() => server.close());
beforeEach(() => { script = []; server.requests.length = 0; });

const delays: number[] = [];
const source = (o: Omit<BybitSourceOptions, 'baseUrl'> = {}): ReturnType<typeof createBybitSource> =>
  createBybitSource({ ...o, baseUrl: server.url, http: { requestsPerSecond: 0, sleep: async (ms) => { delays.push(ms); }, ...o.http } });

describe('bybit klines (golden, fixture over a real loopback server)', () => {
  it('maps every kline to an ascending bar across two 1000-bar request windows', async () => {
    // From 2024-06-25 the first 1000 h window ends at 2024-08-05 16:00, inside the fixture.
    const from = Date.UTC(2024, 5, 25);
    const pages = await fetchPages(source(), 'bars', 'BTCUSDT', '1h', from, Date.UTC(2024, 7, 6));
    expect(pages.map((p) => p.length)).toEqual([40, 8]);
    const bars = pages.flat();
    expect(bars.map((b) => b.openTimeMs)).toEqual(Array.from({ length: 48 }, (_, i) => AUG4 + i * H));
    expect(bars[0]).toEqual({ openTimeMs: 1722729600000, open: 60691.8, high: 60808, low: 60591.1, close: 60740.8, volume: 1163.47, quoteVolume: 70631849.4998, trades: undefined, takerBuyBaseVolume: undefined });
    expect(bars.find((b) => b.openTimeMs === 1722837600000)).toEqual({ openTimeMs: 1722837600000, open: 52711.8, high: 52988.1, low: 48993.8, close: 51581.8, volume: 44284.092, quoteVolume: 2283680804.8365 });
    expect(bars[47]).toEqual({ openTimeMs: 1722898800000, open: 54686.8, high: 55072.9, low: 53867.4, close: 54009.7, volume: 4187.98, quoteVolume: 227864641.416 });
    expect(server.requests.map((r) => Object.fromEntries(r.query))).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', interval: '60', start: String(from), end: String(from + 1000 * H - 1), limit: '1000' },
      { category: 'linear', symbol: 'BTCUSDT', interval: '60', start: String(from + 1000 * H), end: String(Date.UTC(2024, 7, 6) - 1), limit: '1000' },
    ]);
  });

  it('keeps the range half-open: the bar at toMs is not returned', async () => {
    const bars = (await fetchPages(source(), 'bars', 'BTCUSDT', '1h', AUG4, AUG4 + 3 * H)).flat();
    expect(bars.map((b) => b.openTimeMs)).toEqual([AUG4, AUG4 + H, AUG4 + 2 * H]);
  });

  it('swaps volume and turnover back for inverse contracts, so volume stays in base coin', async () => {
    const bars = (await fetchPages(source({ category: 'inverse' }), 'bars', 'BTCUSD', '1h', Date.UTC(2024, 7, 5), Date.UTC(2024, 7, 5, 6))).flat();
    expect(bars).toHaveLength(6);
    expect(bars[0]).toEqual({ openTimeMs: 1722816000000, open: 58172.5, high: 58317, low: 55712.5, close: 56185.5, volume: 2630.61682448, quoteVolume: 150200000 });
    expect(server.requests[0]!.query.get('category')).toBe('inverse');
  });
});

describe('bybit funding history (golden)', () => {
  it('returns every event ascending across two 200×8h request windows', async () => {
    // From 2024-06-01 the first 1600 h window ends at 2024-08-06 16:00, inside the fixture.
    const from = Date.UTC(2024, 5, 1);
    const pages = await fetchPages(source(), 'funding', 'BTCUSDT', '1h', from, Date.UTC(2024, 7, 11));
    expect(pages.map((p) => p.length)).toEqual([17, 13]);
    const rows = pages.flat();
    expect(rows.map((f) => f.fundingTimeMs)).toEqual(Array.from({ length: 30 }, (_, i) => Date.UTC(2024, 7, 1) + i * 8 * H));
    expect(rows[0]).toEqual({ fundingTimeMs: 1722470400000, rate: 0.00008208, markPrice: undefined });
    expect(rows[29]).toEqual({ fundingTimeMs: 1723305600000, rate: -0.00002023 });
    expect(server.requests.map((r) => Object.fromEntries(r.query))).toEqual([
      { category: 'linear', symbol: 'BTCUSDT', startTime: String(from), endTime: String(from + 1600 * H - 1), limit: '200' },
      { category: 'linear', symbol: 'BTCUSDT', startTime: String(from + 1600 * H), endTime: String(Date.UTC(2024, 7, 11) - 1), limit: '200' },
    ]);
  });

  it('walks back inside a window when a symbol funds more often than every 8 h', async () => {
    const from = Date.UTC(2024, 7, 1);
    const rows = (await fetchPages(source(), 'funding', 'HOURLYUSDT', '1h', from, from + 300 * H)).flat();
    expect(rows.map((f) => f.fundingTimeMs)).toEqual(hourlyFunding.map((f) => Number(f.fundingRateTimestamp)));
    expect(server.requests.map((r) => r.query.get('endTime'))).toEqual([String(from + 300 * H - 1), String(from + 100 * H - 1)]);
  });
});

describe('bybit errors', () => {
  it('names an unknown symbol (retCode 10001 with HTTP 200) as badSymbol, without retrying', async () => {
    const err = await failure(fetchPages(source(), 'bars', 'NOPEUSDT', '1h', AUG4, AUG4 + H));
    expect(isAppError(err, 'badSymbol')).toBe(true);
    expect((err as Error).message).toContain('"NOPEUSDT"');
    expect(server.requests).toHaveLength(1);
    const errFunding = await failure(fetchPages(source(), 'funding', 'NOPEUSDT', '1h', AUG4, AUG4 + H));
    expect(isAppError(errFunding, 'badSymbol')).toBe(true);
  });

  it('retries a rate-limit envelope (retCode 10006 with HTTP 200) and then succeeds', async () => {
    script = [{ body: rateLimitBody }, { body: rateLimitBody }];
    const retries: string[] = [];
    const bars = (await fetchPages(source({ http: { onRetry: (i) => retries.push(i.error.kind) } }), 'bars', 'BTCUSDT', '1h', AUG4, AUG4 + 2 * H)).flat();
    expect(bars).toHaveLength(2);
    expect(retries).toEqual(['rateLimited', 'rateLimited']);
    expect(server.requests).toHaveLength(3);
  });

  it('gives up on a persistent rate limit after maxRetries, as rateLimited', async () => {
    script = [{ body: rateLimitBody }, { body: rateLimitBody }, { body: rateLimitBody }];
    const err = await failure(fetchPages(source({ http: { maxRetries: 2 } }), 'bars', 'BTCUSDT', '1h', AUG4, AUG4 + H));
    expect(isAppError(err, 'rateLimited')).toBe(true);
    expect((err as Error).message).toContain('Gave up after 3 attempts');
    expect(server.requests).toHaveLength(3);
  });

  it('treats HTTP 403 (Bybit\'s IP rate-limit answer) as rateLimited and retries it', async () => {
    script = [{ status: 403, body: '403 Forbidden' }];
    const bars = (await fetchPages(source(), 'bars', 'BTCUSDT', '1h', AUG4, AUG4 + H)).flat();
    expect(bars).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('names the offending field path when a payload breaks the schema', async () => {
    const err = await failure(fetchPages(source(), 'bars', 'BROKENUSDT', '1h', Date.UTC(2024, 7, 5, 23), Date.UTC(2024, 7, 6)));
    expect(isAppError(err, 'schema')).toBe(true);
    expect((err as Error).message).toMatch(/^bybit GET \/v5\/market\/kline: .*result\.list\.0\.4: /);
  });
});

describe('bybit capabilities', () => {
  it('declares what it serves and refuses the rest before any request', async () => {
    const linear = source();
    expect(linear.venue).toBe('bybit');
    expect(linear.has).toEqual({ bars: true, funding: true, openInterest: false, impliedVol: false });
    expect(linear.intervals).toEqual(['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d']);
    expect(source({ category: 'spot' }).has.funding).toBe(false);
    expect(isAppError(await failure(fetchPages(linear, 'bars', 'BTCUSDT', '8h', AUG4, AUG4 + 8 * H)), 'notSupported')).toBe(true);
    expect(isAppError(await failure(fetchPages(source({ category: 'spot' }), 'funding', 'BTCUSDT', '1h', AUG4, AUG4 + 8 * H)), 'notSupported')).toBe(true);
    expect(isAppError(await failure(fetchPages(linear, 'openInterest', 'BTCUSDT', '1h', AUG4, AUG4 + 8 * H)), 'notSupported')).toBe(true);
    expect(server.requests).toHaveLength(0);
  });
});
