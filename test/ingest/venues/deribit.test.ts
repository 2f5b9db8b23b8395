import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { checkPage } from '../../../src/ingest/row-checks.ts';
import { createDeribitSource, DERIBIT_LIMITS } from '../../../src/ingest/venues/deribit/client.ts';
import { SHARED_DATA, startTestServer, type TestRequest, type TestResponse, type TestServer } from '../../helpers/http-server.ts';
import { collect, failure, FAST_HTTP, q } from '../../helpers/source.ts';

const FIX = new URL('../../fixtures/deribit/', import.meta.url).pathname;
const text = (name: string): string => readFileSync(FIX + name, 'utf8');
const json = <T>(name: string): T => JSON.parse(text(name)) as T;

interface Chart { status: string; ticks: number[]; open: number[]; high: number[]; low: number[]; close: number[]; volume: number[]; cost: number[] }
type Envelope<R> = { jsonrpc: '2.0'; result: R; usIn: number; usOut: number; usDiff: number; testnet: boolean };

const CHART = 'get_tradingview_chart_data_BTC-PERPETUAL_1_2024-08-05T06.json';
const DVOL = 'get_volatility_index_data_BTC_3600_2024-08-04_05.json';
const FUNDING = 'get_funding_rate_history_BTC-PERPETUAL_2024-08-04_05.json';
const chart = json<Envelope<Chart>>(CHART);
const dvol = json<Envelope<{ data: number[][]; continuation: null }>>(DVOL);
const funding = json<Envelope<{ timestamp: number }[]>>(FUNDING);

// ccxt's static fixture: a native get_tradingview_chart_data envelope (BTC_USDT, resolution 60) with ccxt's parse of it.
const ccxt = JSON.parse(readFileSync(`${SHARED_DATA}api-samples/deribit/ccxt-static-response_deribit.json`, 'utf8')) as {
  methods: { fetchOHLCV: { httpResponse: unknown; parsedResponse: number[][] }[] };
};
const ccxtOhlcv = ccxt.methods.fetchOHLCV[0]!;

const MIN = 60_000;
const HOUR = 3_600_000;
const T06 = 1722837600000; // 2024-08-05T06:00Z, first bar of the 1m fixture
const T0 = 1722729600000; // 2024-08-04T00:00Z, first row of the hourly fixtures
const RES_MS: Record<string, number> = { '1': MIN, '60': HOUR };
/** The fake's own cap on DVOL points per answer, below the client's window, so that `continuation` is exercised. */
const DVOL_CAP = 20;

/** Deribit's semantics: start and end inclusive; the bar containing an unaligned start is included. */
function chartRoute(q: URLSearchParams): TestResponse {
  const inst = q.get('instrument_name');
  if (inst === 'BTC_USDT' && q.get('resolution') === '60') return { body: JSON.stringify(ccxtOhlcv.httpResponse) };
  if (inst === 'RAGGED-PERPETUAL') return { body: JSON.stringify({ ...chart, result: { ...chart.result, close: chart.result.close.slice(1) } }) };
  if (inst === 'STRINGY-PERPETUAL') return { body: JSON.stringify({ ...chart, result: { ...chart.result, open: chart.result.open.map((o, i) => (i === 3 ? String(o) : o)) } }) };
  if (inst !== 'BTC-PERPETUAL') return { status: 400, body: text('error_instrument_not_found.json') };
  const step = RES_MS[q.get('resolution') ?? ''] ?? MIN;
  const start = Number(q.get('start_timestamp'));
  const end = Number(q.get('end_timestamp'));
  if (Math.floor((end - start) / step) + 1 > DERIBIT_LIMITS.chartPoints) {
    return { status: 400, body: JSON.stringify({ jsonrpc: '2.0', error: { message: 'Invalid params', data: { reason: 'too many points', param: 'end_timestamp' }, code: -32602 } }) };
  }
  const idx = chart.result.ticks.flatMap((t, i) => (q.get('resolution') === '1' && t + step > start && t <= end ? [i] : []));
  if (idx.length === 0) return { body: text('get_tradingview_chart_data_no_data.json') };
  const pick = (a: number[]) => idx.map((i) => a[i]!);
  const r = chart.result;
  return { body: JSON.stringify({ ...chart, result: { status: 'ok', ticks: pick(r.ticks), open: pick(r.open), high: pick(r.high), low: pick(r.low), close: pick(r.close), volume: pick(r.volume), cost: pick(r.cost) } }) };
}

/** Newest `DVOL_CAP` points of `[start, end]`; `continuation` = the oldest returned time (an overlapping boundary, as a cursor). */
function dvolRoute(q: URLSearchParams): TestResponse {
  if (q.get('currency') !== 'BTC') return { status: 400, body: text('error_currency_invalid.json') };
  const start = Number(q.get('start_timestamp'));
  const end = Number(q.get('end_timestamp'));
  const inRange = dvol.result.data.filter((c) => q.get('resolution') === '3600' && c[0]! >= start && c[0]! <= end);
  const data = inRange.slice(-DVOL_CAP);
  const continuation = inRange.length > DVOL_CAP ? data[0]![0]! : null;
  return { body: JSON.stringify({ ...dvol, result: { data, continuation } }) };
}

function fundingRoute(q: URLSearchParams): TestResponse {
  if (q.get('instrument_name') !== 'BTC-PERPETUAL') return { status: 400, body: text('error_instrument_not_found.json') };
  const start = Number(q.get('start_timestamp'));
  const end = Number(q.get('end_timestamp'));
  const rows = funding.result.filter((f) => f.timestamp >= start && f.timestamp <= end).slice(0, DERIBIT_LIMITS.fundingEntries);
  return { body: JSON.stringify({ ...funding, result: rows }) };
}

function deribitRoute(req: TestRequest): TestResponse {
  switch (req.path) {
    case '/api/v2/public/get_tradingview_chart_data': return chartRoute(req.query);
    case '/api/v2/public/get_volatility_index_data': return dvolRoute(req.query);
    case '/api/v2/public/get_funding_rate_history': return fundingRoute(req.query);
    default: return { status: 400, body: JSON.stringify({ jsonrpc: '2.0', error: { message: 'Method not found', code: -32601 } }) };
  }
}

describe('deribit source (golden, hand-recorded payloads over a real loopback server)', () => {
  let server: TestServer;
  const src = () => createDeribitSource({ baseUrl: server.url, http: FAST_HTTP });
  beforeAll(async () => { server = await startTestServer(deribitRoute); });
  afterAll(() => server.close());

  it('declares its capabilities and bar intervals', () => {
    const s = src();
    expect(s.venue).toBe('deribit');
    expect(s.has).toEqual({ bars: true, funding: true, openInterest: false, impliedVol: true });
    expect(s.intervals).toEqual(['1m', '3m', '5m', '15m', '30m', '1h', '2h', '6h', '12h', '1d']);
  });

  it('maps chart data to bars across 5000-bar windows (no_data window, window boundary mid-fixture)', async () => {
    const before = server.requests.length;
    // Three windows: the first is before the fixture (no_data), the boundary of the 2nd and 3rd falls at 06:30.
    const fromMs = T06 + 30 * MIN - 2 * DERIBIT_LIMITS.chartPoints * MIN;
    const { rows, pages } = await collect(src().fetch('bars', q('BTC-PERPETUAL', '1m', fromMs, T06 + 60 * MIN)));
    expect(rows).toEqual(json(CHART.replace('.json', '.expected.json')));
    expect(rows[0]).toEqual({ openTimeMs: T06, open: 52718, high: 52720.5, low: 52619.5, close: 52628.5, volume: 1.0577, quoteVolume: 55710 });
    expect(pages).toBe(2);
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(3);
    expect(sent.map((r) => r.query.get('resolution'))).toEqual(['1', '1', '1']);
    // end_timestamp is inclusive at Deribit: each window stops 1 ms before the next one starts.
    expect(Number(sent[1]!.query.get('end_timestamp')) + 1).toBe(Number(sent[2]!.query.get('start_timestamp')));
    expect(checkPage('bars', rows, { where: 'deribit', fromMs, toMs: T06 + 60 * MIN }).rows).toHaveLength(60);
  });

  it('drops the bar containing an unaligned start, keeping [fromMs, toMs) exactly', async () => {
    const { rows } = await collect(src().fetch('bars', q('BTC-PERPETUAL', '1m', T06 + 10 * MIN + 30_000, T06 + 20 * MIN + 1)));
    expect(rows.map((b) => b.openTimeMs)).toEqual(Array.from({ length: 10 }, (_, i) => T06 + (11 + i) * MIN));
  });

  it('matches the ccxt-recorded get_tradingview_chart_data response and ccxt\'s own parse of it', async () => {
    const t = ccxtOhlcv.parsedResponse[0]![0]!;
    const { rows } = await collect(src().fetch('bars', q('BTC_USDT', '1h', t, t + HOUR)));
    expect(rows).toEqual([{ openTimeMs: 1710327600000, open: 73427.75, high: 73448.39, low: 73427.75, close: 73448.39, volume: 0.008, quoteVolume: 587.580928 }]);
    expect(rows.map((b) => [b.openTimeMs, b.open, b.high, b.low, b.close, b.volume])).toEqual(ccxtOhlcv.parsedResponse);
  });

  it('follows DVOL continuation backwards and yields ascending, de-duplicated implied-vol rows', async () => {
    const before = server.requests.length;
    const { rows } = await collect(src().fetch('impliedVol', q('BTC', '1h', T0, T0 + 48 * HOUR)));
    expect(rows).toEqual(json(DVOL.replace('.json', '.expected.json')));
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(3); // 20 + 20 + 10 points, newest first, each boundary point sent twice
    expect(sent.map((r) => r.query.get('resolution'))).toEqual(['3600', '3600', '3600']);
    expect(sent[1]!.query.get('end_timestamp')).toBe(String(T0 + 28 * HOUR));
    expect(checkPage('impliedVol', rows, { where: 'deribit', fromMs: T0, toMs: T0 + 48 * HOUR }).duplicates).toBe(0);
  });

  it('maps hourly funding (rate = interest_1h, markPrice = index_price) across 744-hour windows', async () => {
    const before = server.requests.length;
    const fromMs = T0 + 24 * HOUR - DERIBIT_LIMITS.fundingEntries * HOUR;
    const { rows, pages } = await collect(src().fetch('funding', q('BTC-PERPETUAL', '1h', fromMs, T0 + 48 * HOUR)));
    expect(rows).toEqual(json(FUNDING.replace('.json', '.expected.json')));
    expect(rows[0]).toEqual({ fundingTimeMs: T0, rate: 9.5800503e-6, markPrice: 60701.34 });
    expect(pages).toBe(2);
    expect(server.requests.length - before).toBe(2);
  });

  it('names an unknown instrument or currency as badSymbol, without retrying', async () => {
    const before = server.requests.length;
    const e1 = await failure(src().fetch('bars', q('NOPE-PERPETUAL', '1h', T06, T06 + HOUR)));
    expect(e1.kind).toBe('badSymbol');
    expect(e1.message).toContain('instrument_name=NOPE-PERPETUAL');
    expect(e1.message).toContain('instrument not found');
    const e2 = await failure(src().fetch('impliedVol', q('XRP', '1h', T0, T0 + HOUR)));
    expect(e2.kind).toBe('badSymbol');
    expect(e2.message).toContain('currency');
    expect(server.requests.length - before).toBe(2);
  });

  it('names the field path of a schema violation (ragged columns, wrong type)', async () => {
    const ragged = await failure(src().fetch('bars', q('RAGGED-PERPETUAL', '1m', T06, T06 + HOUR)));
    expect(ragged.kind).toBe('schema');
    expect(ragged.message).toContain('result.close: has 59 values but ticks has 60');
    const stringy = await failure(src().fetch('bars', q('STRINGY-PERPETUAL', '1m', T06, T06 + HOUR)));
    expect(stringy.kind).toBe('schema');
    expect(stringy.message).toMatch(/get_tradingview_chart_data.*result\.open\.3/);
  });

  it('refuses unsupported kinds and intervals before any request', async () => {
    const before = server.requests.length;
    const bars4h = await failure(src().fetch('bars', q('BTC-PERPETUAL', '4h', T0, T0 + 8 * HOUR)));
    expect(bars4h.kind).toBe('notSupported');
    expect(bars4h.message).toContain('not 4h');
    expect((await failure(src().fetch('impliedVol', q('BTC', '5m', T0, T0 + HOUR)))).kind).toBe('notSupported');
    expect((await failure(src().fetch('openInterest', q('BTC-PERPETUAL', '1h', T0, T0 + HOUR)))).kind).toBe('notSupported');
    expect(server.requests.length).toBe(before);
  });
});

describe('deribit rate limiting', () => {
  it('maps error 10028 too_many_requests to rateLimited and retries it', async () => {
    let calls = 0;
    const server = await startTestServer((req) => (++calls === 1 ? { status: 429, body: text('error_too_many_requests.json') } : deribitRoute(req)));
    try {
      const kinds: string[] = [];
      const src = createDeribitSource({ baseUrl: server.url, http: { ...FAST_HTTP, onRetry: (i) => kinds.push(i.error.kind) } });
      const { rows } = await collect(src.fetch('funding', q('BTC-PERPETUAL', '1h', T0, T0 + 4 * HOUR)));
      expect(rows).toHaveLength(4);
      expect(kinds).toEqual(['rateLimited']);
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('treats an error envelope sent with HTTP 200 as the error it names', async () => {
    const server = await startTestServer(() => ({ body: text('error_instrument_not_found.json') }));
    try {
      const err = await failure(createDeribitSource({ baseUrl: server.url, http: { requestsPerSecond: 0 } }).fetch('bars', q('BTC-PERPETUAL', '1h', T0, T0 + HOUR)));
      expect(isAppError(err, 'badSymbol')).toBe(true);
    } finally {
      await server.close();
    }
  });
});
