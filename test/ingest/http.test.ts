import { afterEach, describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../../src/core/errors.ts';
import { HttpClient, parseRetryAfter, RateLimiter } from '../../src/ingest/http.ts';
import { startTestServer, type TestResponse, type TestServer } from '../helpers/http-server.ts';

let server: TestServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

/** A server that answers the queued responses in order, then `last` forever. */
async function scripted(responses: TestResponse[], last: TestResponse = { body: '[]' }): Promise<TestServer> {
  const queue = [...responses];
  server = await startTestServer(() => queue.shift() ?? last);
  return server;
}

/** A client whose sleeps are recorded and skipped, so backoff is observable without waiting. */
function client(url: string, extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): { http: HttpClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const http = new HttpClient({ venue: 'testvenue', baseUrl: url, timeoutMs: 500, maxRetries: 3, baseBackoffMs: 100, sleep: async (ms) => { sleeps.push(ms); }, ...extra });
  return { http, sleeps };
}

const errorOf = async (p: Promise<unknown>): Promise<AppError> => {
  try { await p; } catch (e) { if (e instanceof AppError) return e; throw e; }
  throw new Error('expected an error');
};

describe('HttpClient against a real loopback server', () => {
  it('honours Retry-After on 429 and then succeeds', async () => {
    const s = await scripted([{ status: 429, headers: { 'Retry-After': '3' }, body: '{"code":-1003,"msg":"Too many requests"}' }], { body: '[1,2]' });
    const { http, sleeps } = client(s.url);
    expect(await http.getJson('/x', {})).toEqual([1, 2]);
    expect(sleeps).toEqual([3000]);
    expect(s.requests).toHaveLength(2);
  });

  it('retries 5xx with growing backoff and gives up with an "unavailable" error naming venue and endpoint', async () => {
    const s = await scripted([], { status: 503, body: 'Service Unavailable' });
    const { http, sleeps } = client(s.url);
    const e = await errorOf(http.getJson('/api/v3/klines', { symbol: 'BTCUSDT' }));
    expect(e.kind).toBe('unavailable');
    expect(e.message).toMatch(/testvenue GET \/api\/v3\/klines: server error HTTP 503/);
    expect(e.message).toMatch(/Gave up after 4 attempts/);
    expect(s.requests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    // Full-jitter backoff within [base·2^k / 2, base·2^k].
    sleeps.forEach((ms, k) => { expect(ms).toBeGreaterThanOrEqual(50 * 2 ** k); expect(ms).toBeLessThanOrEqual(100 * 2 ** k); });
  });

  it('recovers from a 5xx followed by success', async () => {
    const s = await scripted([{ status: 502, body: '<html>bad gateway</html>' }], { body: '{"ok":true}' });
    expect(await client(s.url).http.getJson('/x', {})).toEqual({ ok: true });
  });

  it('times out a slow answer as a retryable network error', async () => {
    const s = await scripted([{ delayMs: 1500, body: '[]' }], { body: '"fast"' });
    const { http } = client(s.url, { timeoutMs: 200 });
    expect(await http.getJson('/x', {})).toBe('fast');
    const always = await scripted([], { delayMs: 1500, body: '[]' });
    const e = await errorOf(client(always.url, { timeoutMs: 200, maxRetries: 1 }).http.getJson('/x', {}));
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(/timed out/);
  });

  it('treats a connection cut mid-body as a network error and retries it', async () => {
    const s = await scripted([{ body: '[[1,"2"],[3,"4"]]', cutAfterBytes: 7 }], { body: '[]' });
    expect(await client(s.url).http.getJson('/x', {})).toEqual([]);
    expect(s.requests).toHaveLength(2);
  });

  it('rejects a complete but malformed JSON body without retrying', async () => {
    const s = await scripted([], { body: '[[1722470400000,"64628.01","64841.29"' });
    const e = await errorOf(client(s.url).http.getJson('/api/v3/klines', {}));
    expect(e.kind).toBe('badResponse');
    expect(e.message).toMatch(/testvenue GET \/api\/v3\/klines: the response body is not valid JSON/);
    expect(s.requests).toHaveLength(1);
  });

  it('does not retry a 400', async () => {
    const s = await scripted([], { status: 400, body: '{"code":-1100,"msg":"Illegal characters found in parameter \'startTime\'"}' });
    const e = await errorOf(client(s.url).http.getJson('/x', {}));
    expect(e.kind).toBe('badRequest');
    expect(e.retryable).toBe(false);
    expect(s.requests).toHaveLength(1);
  });

  it('reports a refused connection as a network error', async () => {
    const s = await scripted([]);
    const url = s.url;
    await s.close(); server = undefined;
    const e = await errorOf(client(url, { maxRetries: 1 }).http.getJson('/x', {}));
    expect(isAppError(e, 'network')).toBe(true);
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it('POSTs JSON bodies', async () => {
    const s = await scripted([], { body: '{"ok":1}' });
    await client(s.url).http.postJson('/info', { type: 'candleSnapshot' });
    expect(s.requests[0]).toMatchObject({ method: 'POST', path: '/info', body: '{"type":"candleSnapshot"}' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('RateLimiter', () => {
  it('spaces requests beyond the burst at the configured rate', async () => {
    const limiter = new RateLimiter(20, 1);
    const t0 = Date.now();
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 5; i++) await limiter.take(sleep);
    // 1 immediate + 4 spaced at 50 ms ≥ ~200 ms; generous lower bound only (this is not a timing benchmark).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });
});
