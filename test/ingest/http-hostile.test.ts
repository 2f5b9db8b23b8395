/**
 * The HTTP client against a hostile venue (test/helpers/hostile-venue.ts, a real loopback server): trickled and slow
 * responses meet a whole-response deadline, Retry-After is capped and bounded by a retry budget (and never overflows
 * a timer), HTML and truncated bodies are refused naming venue and endpoint. Sleeps are injected and recorded where
 * the test is about the requested waits, so nothing here really waits minutes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, timerSafeMs } from '../../src/core/delay.ts';
import { AppError } from '../../src/core/errors.ts';
import type { EpochMs } from '../../src/core/time.ts';
import { HTTP_DEFAULTS, HttpClient, parseRetryAfter, type HttpOptions } from '../../src/ingest/http.ts';
import { createSource } from '../../src/ingest/source.ts';
import type { Bar } from '../../src/ingest/types.ts';
import { hostileBars, startHostileVenue, type HostileVenue, type HostileVenueOptions } from '../helpers/hostile-venue.ts';

let venue: HostileVenue | undefined;
afterEach(async () => { await venue?.close(); venue = undefined; });

async function start(opts: HostileVenueOptions): Promise<HostileVenue> {
  venue = await startHostileVenue(opts);
  return venue;
}

const KLINES = '/fapi/v1/klines';
const BARS = hostileBars();
const query = { symbol: 'BTCUSDT', interval: '1h', startTime: BARS[0]!.openTimeMs, endTime: BARS.at(-1)!.openTimeMs, limit: 1500 };

/** A Binance USD-M-named client on the venue; its sleeps are recorded and skipped unless `realSleep`. */
function client(url: string, extra: Partial<HttpOptions> = {}, realSleep = false): { http: HttpClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const http = new HttpClient({
    venue: 'binance-usdm', baseUrl: url, baseBackoffMs: 10, maxBackoffMs: 40,
    ...(realSleep ? {} : { sleep: async (ms: number) => { sleeps.push(ms); } }),
    ...extra,
  });
  return { http, sleeps };
}

const errorOf = async (p: Promise<unknown>): Promise<AppError> => {
  try { await p; } catch (e) { if (e instanceof AppError) return e; throw e; }
  throw new Error('expected an error');
};

/** Every bar of a source's bars fetch over the venue (the real Binance client, schema and mapper). */
async function fetchAll(url: string, http: Partial<HttpOptions> = {}): Promise<Bar[]> {
  const source = createSource('binance-usdm', { baseUrl: url, http: { sleep: async () => undefined, ...http } });
  const out: Bar[] = [];
  for await (const page of source.fetch('bars', { symbol: 'BTCUSDT', interval: '1h', fromMs: BARS[0]!.openTimeMs as EpochMs, toMs: (BARS.at(-1)!.openTimeMs + 3_600_000) as EpochMs })) out.push(...page);
  return out;
}

describe('the hostile venue (test helper)', () => {
  it('answers healthy requests in Binance klines format, paged by startTime/endTime/limit', async () => {
    const v = await start({});
    expect(await fetchAll(v.url)).toEqual(BARS);
    expect(v.requests[0]).toMatchObject({ index: 0, path: KLINES, mode: 'healthy' });
  });

  it('serves misaligned bars at HH:30 when asked', async () => {
    const v = await start({ modes: { kind: 'misaligned' } });
    const rows = await client(v.url).http.getJson(KLINES, { symbol: 'BTCUSDT', interval: '1h', startTime: 0, limit: 1500 }) as unknown[][];
    expect(rows.length).toBe(BARS.length);
    expect(rows.every((r) => (r[0] as number) % 3_600_000 === 1_800_000)).toBe(true);
  });
});

describe('a whole-response deadline per attempt', () => {
  it('cuts a trickling body (headers, then a byte every 100 ms) at the deadline, retries, then gives up as a network error', async () => {
    const v = await start({ modes: { kind: 'trickle', byteEveryMs: 100 } });
    const { http, sleeps } = client(v.url, { timeoutMs: 400, maxRetries: 2 });
    const t0 = Date.now();
    const e = await errorOf(http.getJson(KLINES, query, `GET ${KLINES}`));
    const elapsed = Date.now() - t0;
    expect(e.kind).toBe('network');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/^binance-usdm GET \/fapi\/v1\/klines: no complete response within 400 ms .*Gave up after 3 attempts\.$/);
    expect(e.context).toMatchObject({ venue: 'binance-usdm', endpoint: `GET ${KLINES}`, deadlineMs: 400, attempts: 3 });
    expect(v.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    // Three attempts of 400 ms each (the backoff sleeps are skipped): far from the body's ~12 minutes at this pace.
    expect(elapsed).toBeGreaterThanOrEqual(3 * 380);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('succeeds on the retry once the venue answers normally again', async () => {
    const v = await start({ modes: [{ kind: 'trickle', byteEveryMs: 200 }], then: { kind: 'healthy' } });
    const rows = await client(v.url, { timeoutMs: 300 }).http.getJson(KLINES, query);
    expect(rows).toHaveLength(BARS.length);
    expect(v.requests.map((r) => r.mode)).toEqual(['trickle', 'healthy']);
  });

  it('times out headers that come too late (slow mode) the same way', async () => {
    const v = await start({ modes: [{ kind: 'slow', delayMs: 2_000 }], then: { kind: 'healthy' } });
    const rows = await client(v.url, { timeoutMs: 300 }).http.getJson(KLINES, query);
    expect(rows).toHaveLength(BARS.length);
    const slow = await start({ modes: { kind: 'slow', delayMs: 2_000 } });
    const e = await errorOf(client(slow.url, { timeoutMs: 300, maxRetries: 0 }).http.getJson(KLINES, query));
    expect(e).toMatchObject({ kind: 'network', context: { deadlineMs: 300 } });
  });

  it('defaults to a deadline of at most 60 s, and refuses a nonsensical one', () => {
    expect(HTTP_DEFAULTS.timeoutMs).toBeLessThanOrEqual(60_000);
    expect(() => new HttpClient({ venue: 'binance-usdm', baseUrl: 'http://127.0.0.1:1', timeoutMs: 0 })).toThrow(/timeoutMs is 0 ms; give a positive number of milliseconds/);
    expect(() => new HttpClient({ venue: 'binance-usdm', baseUrl: 'http://127.0.0.1:1', retryBudgetMs: 2 ** 40 })).toThrow(AppError);
  });

  it('cancels a request in flight, and does not retry it, when its signal aborts', async () => {
    const v = await start({ modes: { kind: 'trickle', byteEveryMs: 100 } });
    const ac = new AbortController();
    const { http } = client(v.url, { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    const e = await errorOf(http.getJson(KLINES, query));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(e).toMatchObject({ kind: 'network', context: { cancelled: true } });
    expect(e.message).toMatch(/cancelled in flight/);
    expect(v.requests).toHaveLength(1);
  });
});

describe('Retry-After is capped and retries are bounded by a budget', () => {
  it('Retry-After: 3600 waits the cap (2 min by default), and gives up when the next wait would exceed the 5-minute budget', async () => {
    const v = await start({ modes: { kind: 'retryAfter', retryAfter: 3600 } });
    const { http, sleeps } = client(v.url);
    const e = await errorOf(http.getJson(KLINES, query, `GET ${KLINES}`));
    expect(HTTP_DEFAULTS.maxRetryAfterMs).toBeLessThanOrEqual(120_000);
    expect(sleeps).toEqual([HTTP_DEFAULTS.maxRetryAfterMs, HTTP_DEFAULTS.maxRetryAfterMs]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(HTTP_DEFAULTS.retryBudgetMs);
    expect(v.requests).toHaveLength(3);
    expect(e.kind).toBe('rateLimited');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/^binance-usdm GET \/fapi\/v1\/klines: rate limited \(HTTP 429\), asked to retry after 1 h \(waits at most 2 min\)\./);
    expect(e.message).toMatch(/Gave up after 3 attempts in .*: the next wait of 2 min \(the server's Retry-After of 1 h, capped at 2 min\) would exceed what is left \(.*\) of this request's 5 min retry budget\./);
    expect(e.context).toMatchObject({ attempts: 3, nextDelayMs: 120_000, retryBudgetMs: 300_000 });
    // Passed on capped, so a stage retry above it does not wait an hour either.
    expect(e.retryAfterMs).toBe(120_000);
  });

  it('takes the cap and the budget from the options', async () => {
    const v = await start({ modes: { kind: 'retryAfter', retryAfter: '3600', status: 418 } });
    const { http, sleeps } = client(v.url, { maxRetryAfterMs: 1_000, retryBudgetMs: 3_500, maxRetries: 10 });
    const e = await errorOf(http.getJson(KLINES, query));
    expect(sleeps).toEqual([1_000, 1_000, 1_000]);
    expect(e).toMatchObject({ kind: 'rateLimited', context: { attempts: 4, retryBudgetMs: 3_500 } });
  });

  it('Retry-After: 99999999 (3 years, beyond the 2^31−1 ms a timer holds) neither overflows into 1 ms retries nor waits years', async () => {
    expect(parseRetryAfter('99999999')).toBe(99_999_999_000);
    expect(timerSafeMs(99_999_999_000)).toBe(MAX_TIMER_DELAY_MS);
    // Real sleeps and timers: with a 300 ms cap and a 1 s budget the client sends 4 requests about 300 ms apart.
    const v = await start({ modes: { kind: 'retryAfter', retryAfter: '99999999' } });
    const { http } = client(v.url, { maxRetryAfterMs: 300, retryBudgetMs: 1_000, maxRetries: 50 }, true);
    const e = await errorOf(http.getJson(KLINES, query));
    expect(e.kind).toBe('rateLimited');
    expect(e.message).toMatch(/retry budget/);
    expect(v.requests.length).toBeGreaterThanOrEqual(3);
    expect(v.requests.length).toBeLessThanOrEqual(4);
    const gaps = v.requests.slice(1).map((r, i) => r.atMs - v.requests[i]!.atMs);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(250);
  });

  it('bounds plain backoff by the budget too', async () => {
    const v = await start({ modes: { kind: 'html', status: 503 } });
    const { http, sleeps } = client(v.url, { baseBackoffMs: 1_000, maxBackoffMs: 60_000, maxRetries: 20, retryBudgetMs: 10_000 });
    const e = await errorOf(http.getJson(KLINES, query));
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
    expect(e.message).toMatch(/retry budget/);
  });
});

describe('bodies that are not the JSON asked for', () => {
  it('refuses a Cloudflare-like HTML page with HTTP 200 as a bad response naming venue and endpoint, without retrying', async () => {
    const v = await start({ modes: { kind: 'html' } });
    const e = await errorOf(fetchAll(v.url));
    expect(e.kind).toBe('badResponse');
    expect(e.message).toMatch(/^binance-usdm GET \/fapi\/v1\/klines: the response is an HTML page \("Just a moment\.\.\."\) with HTTP 200, not JSON .*Check --base-url/);
    expect(e.context).toMatchObject({ venue: 'binance-usdm', endpoint: 'GET /fapi/v1/klines', status: 200, html: true });
    expect(v.requests).toHaveLength(1);
  });

  it('retries an HTML 503 error page as unavailable and names it as an HTML page', async () => {
    const v = await start({ modes: [{ kind: 'html', status: 503 }], then: { kind: 'healthy' } });
    expect(await fetchAll(v.url)).toHaveLength(BARS.length);
    const down = await start({ modes: { kind: 'html', status: 503 } });
    const e = await errorOf(client(down.url, { maxRetries: 1 }).http.getJson(KLINES, query));
    expect(e.kind).toBe('unavailable');
    expect(e.message).toMatch(/server error HTTP 503: an HTML page \("Error 503 \| Service unavailable"\)/);
  });

  it('refuses a body cut short inside a complete HTTP message as a bad response, without retrying', async () => {
    const v = await start({ modes: { kind: 'truncated', keepBytes: 300 } });
    const e = await errorOf(fetchAll(v.url));
    expect(e.kind).toBe('badResponse');
    expect(e.message).toMatch(/^binance-usdm GET \/fapi\/v1\/klines: the response body is not valid JSON \(.*300 bytes, starts "\[\[1735689600000,/);
    expect(v.requests).toHaveLength(1);
  });

  it('retries a connection reset mid-body (truncated, cut: connection) as a network error', async () => {
    const v = await start({ modes: [{ kind: 'truncated', cut: 'connection' }], then: { kind: 'healthy' } });
    expect(await fetchAll(v.url)).toHaveLength(BARS.length);
    expect(v.requests.map((r) => r.mode)).toEqual(['truncated', 'healthy']);
  });
});
