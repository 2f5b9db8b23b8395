import { AppError } from '../../../core/errors.ts';
import { INTERVALS, intervalMs, type Interval } from '../../../core/time.ts';
import { HttpClient, RateLimiter } from '../../http.ts';
import { collectBackward, pagesByWindow } from '../../paginate.ts';
import type { Bar, DataKind, FundingRow, MarketDataSource, RangeQuery, VenueId } from '../../types.ts';
import { parsePayload } from '../../validate.ts';
import { makeSource, notServed, type VenueSourceOptions } from '../common.ts';
import { isConfirmed, isDerivativeInstId, isSwapInstId, mapCandle, mapFunding } from './map.ts';
import { candlesResponseSchema, envelopeSchema, fundingResponseSchema, type RawOkxCandle, type RawOkxFunding } from './schemas.ts';

/** OKX's public base URL. */
export const OKX_URL = 'https://www.okx.com';

/** Page sizes as OKX documents them (rows per request). */
export const OKX_LIMITS = { candles: 100, funding: 100 } as const;

/**
 * liqcal intervals as OKX spells them in `bar=`. From 6h up OKX's plain bars open on Hong Kong time
 * (UTC+8), so the `utc` variants are used to keep bars on UTC boundaries. OKX has no 8h bar.
 */
export const OKX_BARS: Readonly<Partial<Record<Interval, string>>> = {
  '1m': '1m', '3m': '3m', '5m': '5m', '15m': '15m', '30m': '30m', '1h': '1H', '2h': '2H', '4h': '4H', '6h': '6Hutc', '12h': '12Hutc', '1d': '1Dutc',
};

/** The funding interval assumed when sizing request windows; shorter intervals are caught by walking back inside a window. */
const FUNDING_STEP_MS = 8 * 3_600_000;

/**
 * Options for an OKX source: `baseUrl` defaults to {@link OKX_URL}; the HTTP defaults are 10 requests/s
 * (funding at half that) and OKX's error mapping. The instrument type follows from each query's instId
 * (BTC-USDT spot, BTC-USDT-SWAP perpetual). An alias of {@link VenueSourceOptions}.
 */
export type OkxSourceOptions = VenueSourceOptions;

/** Rate-limit codes: 50011 request rate, 50061 order rate. */
const RATE_LIMIT_CODES: ReadonlySet<string> = new Set(['50011', '50061']);
/** Server-side codes a retry may cure: 50001 service unavailable, 50004 endpoint timeout, 50013 busy, 50026 system error. */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(['50001', '50004', '50013', '50026']);

/**
 * Turns a non-"0" OKX `code` into an AppError: rate-limit codes → `rateLimited`, server codes →
 * `unavailable` (both retryable), 51001 (instrument does not exist) or a 51000 parameter error about
 * `instId` → `badSymbol`, anything else → `badRequest`.
 */
export function okxCodeError(venue: string, endpoint: string, status: number, body: { code: string; msg: string }, instId?: string): AppError {
  const { code, msg } = body;
  const context = { venue, endpoint, status, code, msg, ...(instId !== undefined ? { instId } : {}) };
  if (RATE_LIMIT_CODES.has(code)) return new AppError('rateLimited', `${venue} ${endpoint}: rate limited (${code} ${msg}); lower the request rate.`, { context });
  if (UNAVAILABLE_CODES.has(code)) return new AppError('unavailable', `${venue} ${endpoint}: server error ${code} ${msg}.`, { context });
  if (code === '51001' || (code === '51000' && /instId/i.test(msg))) {
    return new AppError('badSymbol', `${venue} ${endpoint}: unknown instrument${instId !== undefined ? ` "${instId}"` : ''} (${code} ${msg}). Check --symbols: OKX ids look like BTC-USDT (spot) or BTC-USDT-SWAP (perpetual).`, { context });
  }
  return new AppError('badRequest', `${venue} ${endpoint}: rejected the request: ${code} ${msg}`, { context });
}

/**
 * Maps OKX error responses that arrive with a non-2xx status (for HttpOptions.classifyError). 429
 * (whose body carries 50011) and 5xx take HttpClient's default, retryable path honouring Retry-After;
 * any other status with a v5 envelope is mapped by {@link okxCodeError}.
 */
export function classifyOkxError(venue: string) {
  return (status: number, body: unknown, endpoint: string): AppError | undefined => {
    if (status === 429 || status >= 500) return undefined;
    const env = envelopeSchema.safeParse(body);
    if (!env.success || env.data.code === '0') return undefined;
    return okxCodeError(venue, endpoint, status, env.data);
  };
}

/**
 * OKX v5 public market data: history candles (spot and derivatives) and funding-rate history
 * (perpetual swaps; OKX serves about the last three months of it). Requests use OKX's exclusive
 * `before`/`after` bounds over windows of at most one page; newest-first pages are returned ascending,
 * and candles still forming (`confirm` "0") are dropped.
 *
 * Errors: non-2xx responses are mapped by {@link classifyOkxError} and retried by HttpClient when
 * retryable. An error `code` sent with HTTP 200 is checked inside each attempt (HttpOptions.checkBody),
 * so rate-limit and server codes are retried with the same policy; other codes (unknown instrument,
 * bad request) are thrown at once.
 */
export function createOkxSource(opts: OkxSourceOptions = {}): MarketDataSource & { readonly http: HttpClient } {
  const venue: VenueId = 'okx';
  const http = new HttpClient({
    venue,
    baseUrl: opts.baseUrl ?? OKX_URL,
    // history-candles allows 20 requests per 2 s per IP.
    requestsPerSecond: 10,
    classifyError: classifyOkxError(venue),
    // OKX sends most errors with HTTP 200 and a non-"0" code; checked inside each attempt so rate-limit and server codes are retried.
    checkBody: (body, endpoint, params) => {
      const env = envelopeSchema.safeParse(body);
      // A body without an envelope is left to the response schema, whose error names the missing field.
      return !env.success || env.data.code === '0' ? undefined : okxCodeError(venue, endpoint, 200, env.data, String(params.instId));
    },
    ...opts.http,
  });
  // funding-rate-history allows half the candles budget (10 requests per 2 s): a second bucket in front
  // of the client's, lifted with it (requestsPerSecond 0 or unset, e.g. a loopback replay server).
  const rps = http.opts.requestsPerSecond;
  const fundingLimiter = rps ? new RateLimiter(rps / 2) : undefined;
  const sleep = http.opts.sleep ?? ((ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)));
  const has: Record<DataKind, boolean> = { bars: true, funding: true, openInterest: false, impliedVol: false };
  const intervals = INTERVALS.filter((i) => OKX_BARS[i] !== undefined);

  const getOk = (path: string, params: Readonly<Record<string, string | number>>): Promise<unknown> => http.getJson(path, params, `GET ${path}`);

  async function* fetchKind(kind: DataKind, q: RangeQuery): AsyncGenerator<readonly unknown[]> {
    if (!has[kind]) throw notServed(venue, kind);
    switch (kind) {
      case 'bars': {
        const bar = OKX_BARS[q.interval];
        if (bar === undefined) throw new AppError('notSupported', `${venue} has no ${q.interval} bars; use one of ${intervals.join(', ')}.`, { context: { venue, interval: q.interval } });
        const path = '/api/v5/market/history-candles';
        const limit = OKX_LIMITS.candles;
        const derivative = isDerivativeInstId(q.symbol);
        yield* pagesByWindow<Bar>({
          fromMs: q.fromMs, toMs: q.toMs, windowMs: limit * intervalMs(q.interval), timeOf: (b) => b.openTimeMs,
          fetchWindow: async (startMs, endMs) => {
            const candles = await collectBackward(startMs, endMs, limit, (c: RawOkxCandle) => c[0], async (start, end) => {
              const raw = await getOk(path, { instId: q.symbol, bar, before: start - 1, after: end + 1, limit });
              return parsePayload(candlesResponseSchema, raw, { venue, endpoint: `GET ${path}` }).data;
            });
            return candles.filter(isConfirmed).map((c) => mapCandle(c, derivative));
          },
        });
        return;
      }
      case 'funding': {
        if (!isSwapInstId(q.symbol)) throw new AppError('notSupported', `${venue} pays funding only on perpetual swaps, not on "${q.symbol}"; use an id such as BTC-USDT-SWAP.`, { context: { venue, kind, instId: q.symbol } });
        const path = '/api/v5/public/funding-rate-history';
        const limit = OKX_LIMITS.funding;
        yield* pagesByWindow<FundingRow>({
          fromMs: q.fromMs, toMs: q.toMs, windowMs: limit * FUNDING_STEP_MS, timeOf: (f) => f.fundingTimeMs,
          fetchWindow: async (startMs, endMs) => {
            const entries = await collectBackward(startMs, endMs, limit, (f: RawOkxFunding) => f.fundingTime, async (start, end) => {
              await fundingLimiter?.take(sleep);
              const raw = await getOk(path, { instId: q.symbol, before: start - 1, after: end + 1, limit });
              return parsePayload(fundingResponseSchema, raw, { venue, endpoint: `GET ${path}` }).data;
            });
            return entries.map(mapFunding);
          },
        });
        return;
      }
      default:
        throw notServed(venue, kind);
    }
  }

  return makeSource({ venue, has, intervals, http, fetchKind });
}
