import { AppError } from '../../../core/errors.ts';
import { INTERVALS, intervalMs, type Interval } from '../../../core/time.ts';
import { HttpClient } from '../../http.ts';
import { collectBackward, pagesByWindow } from '../../paginate.ts';
import type { Bar, DataKind, FundingRow, MarketDataSource, RangeQuery, VenueId } from '../../types.ts';
import { parsePayload } from '../../validate.ts';
import { makeSource, notServed, type VenueSourceOptions } from '../common.ts';
import { mapFunding, mapKline, type BybitCategory } from './map.ts';
import { envelopeSchema, fundingResponseSchema, klineResponseSchema } from './schemas.ts';

export type { BybitCategory } from './map.ts';

/** Bybit's public base URL. */
export const BYBIT_URL = 'https://api.bybit.com';

/** Page sizes as Bybit documents them (rows per request). */
export const BYBIT_LIMITS = { klines: 1000, funding: 200 } as const;

/** liqcal intervals as Bybit spells them in `interval=`; Bybit has no 8h bar. */
export const BYBIT_INTERVALS: Readonly<Partial<Record<Interval, string>>> = {
  '1m': '1', '3m': '3', '5m': '5', '15m': '15', '30m': '30', '1h': '60', '2h': '120', '4h': '240', '6h': '360', '12h': '720', '1d': 'D',
};

/** The funding interval assumed when sizing request windows; shorter intervals are caught by walking back inside a window. */
const FUNDING_STEP_MS = 8 * 3_600_000;

/** Options for a Bybit source: `baseUrl` defaults to {@link BYBIT_URL}; the HTTP defaults are 10 requests/s and Bybit's error mapping. */
export interface BybitSourceOptions extends VenueSourceOptions {
  /** Product category: `linear` (USDT/USDC perpetuals, the default), `inverse` (coin-margined) or `spot`. */
  readonly category?: BybitCategory;
}

/** Rate-limit codes: 10006 per-UID/endpoint limit, 10018 IP limit, 10429 system-level frequency protection. */
const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([10006, 10018, 10429]);
/** Server-side codes a retry may cure: 10000 server timeout, 10016 internal server error. */
const UNAVAILABLE_CODES: ReadonlySet<number> = new Set([10000, 10016]);

/**
 * Turns a non-zero Bybit `retCode` into an AppError: rate-limit codes → `rateLimited`, server codes →
 * `unavailable` (both retryable), a message about the symbol (10001 "Not supported symbols", "Symbol Is
 * Invalid") → `badSymbol`, anything else → `badRequest`.
 */
export function bybitCodeError(venue: string, endpoint: string, status: number, body: { retCode: number; retMsg: string }, request: { symbol?: string; category?: string } = {}): AppError {
  const { retCode, retMsg } = body;
  const { symbol, category } = request;
  const context = { venue, endpoint, status, retCode, retMsg, ...request };
  if (RATE_LIMIT_CODES.has(retCode)) return new AppError('rateLimited', `${venue} ${endpoint}: rate limited (${retCode} ${retMsg}); lower the request rate.`, { context });
  if (UNAVAILABLE_CODES.has(retCode)) return new AppError('unavailable', `${venue} ${endpoint}: server error ${retCode} ${retMsg}.`, { context });
  if (/symbol/i.test(retMsg)) {
    return new AppError('badSymbol', `${venue} ${endpoint}: unknown symbol${symbol !== undefined ? ` "${symbol}"` : ''}${category !== undefined ? ` in category ${category}` : ''} (${retCode} ${retMsg}). Check --symbols against Bybit's instrument list for that category.`, { context });
  }
  return new AppError('badRequest', `${venue} ${endpoint}: rejected the request: ${retCode} ${retMsg}`, { context });
}

/**
 * Maps Bybit error responses that arrive with a non-2xx status (for HttpOptions.classifyError). 429 and
 * 5xx take HttpClient's default, retryable path; 403 is how Bybit answers a breached IP rate limit;
 * a v5 envelope with a non-zero `retCode` is mapped by {@link bybitCodeError}.
 */
export function classifyBybitError(venue: string) {
  return (status: number, body: unknown, endpoint: string): AppError | undefined => {
    if (status === 429 || status >= 500) return undefined;
    if (status === 403) {
      return new AppError('rateLimited', `${venue} ${endpoint}: HTTP 403. Bybit answers 403 when the IP rate limit is breached (the ban lasts at least 10 minutes) or when requests come from a blocked region; lower the request rate or check the network location.`, {
        context: { venue, endpoint, status },
      });
    }
    const env = envelopeSchema.safeParse(body);
    if (!env.success || env.data.retCode === 0) return undefined;
    return bybitCodeError(venue, endpoint, status, env.data);
  };
}

/**
 * Bybit v5 public market data for one category: klines (all categories) and funding-rate history
 * (linear and inverse). Request windows hold at most one page, and Bybit's newest-first pages are
 * returned ascending.
 *
 * Errors: non-2xx responses are mapped by {@link classifyBybitError} and retried by HttpClient when
 * retryable. Bybit sends most errors with HTTP 200 and a non-zero `retCode`; those are checked inside
 * each attempt (HttpOptions.checkBody), so rate-limit and server codes are retried with the same
 * policy; other codes (bad symbol, bad request) are thrown at once.
 */
export function createBybitSource(opts: BybitSourceOptions = {}): MarketDataSource & { readonly http: HttpClient; readonly category: BybitCategory } {
  const category = opts.category ?? 'linear';
  const venue: VenueId = 'bybit';
  const http = new HttpClient({
    venue,
    baseUrl: opts.baseUrl ?? BYBIT_URL,
    // Bybit allows 600 requests per 5 s per IP on public market endpoints; 10/s stays far below it.
    requestsPerSecond: 10,
    classifyError: classifyBybitError(venue),
    // Bybit sends most errors with HTTP 200 and a non-zero retCode; checked inside each attempt so rate-limit and server codes are retried.
    checkBody: (body, endpoint, params) => {
      const env = envelopeSchema.safeParse(body);
      // A body without an envelope is left to the response schema, whose error names the missing field.
      return !env.success || env.data.retCode === 0 ? undefined : bybitCodeError(venue, endpoint, 200, env.data, { symbol: String(params.symbol), category });
    },
    ...opts.http,
  });
  const has: Record<DataKind, boolean> = { bars: true, funding: category !== 'spot', openInterest: false, impliedVol: false };
  const intervals = INTERVALS.filter((i) => BYBIT_INTERVALS[i] !== undefined);

  const getOk = (path: string, params: Readonly<Record<string, string | number>>): Promise<unknown> => http.getJson(path, params, `GET ${path}`);

  async function* fetchKind(kind: DataKind, q: RangeQuery): AsyncGenerator<readonly unknown[]> {
    if (!has[kind]) throw new AppError('notSupported', `${venue} (${category}) does not serve ${kind}.`, { context: { venue, category, kind } });
    switch (kind) {
      case 'bars': {
        const interval = BYBIT_INTERVALS[q.interval];
        if (interval === undefined) throw new AppError('notSupported', `${venue} has no ${q.interval} bars; use one of ${intervals.join(', ')}.`, { context: { venue, interval: q.interval } });
        const path = '/v5/market/kline';
        const limit = BYBIT_LIMITS.klines;
        yield* pagesByWindow<Bar>({
          fromMs: q.fromMs, toMs: q.toMs, windowMs: limit * intervalMs(q.interval), timeOf: (b) => b.openTimeMs,
          fetchWindow: (startMs, endMs) => collectBackward(startMs, endMs, limit, (b: Bar) => b.openTimeMs, async (start, end) => {
            const raw = await getOk(path, { category, symbol: q.symbol, interval, start, end, limit });
            return parsePayload(klineResponseSchema, raw, { venue, endpoint: `GET ${path}` }).result.list.map((k) => mapKline(k, category));
          }),
        });
        return;
      }
      case 'funding': {
        const path = '/v5/market/funding/history';
        const limit = BYBIT_LIMITS.funding;
        yield* pagesByWindow<FundingRow>({
          fromMs: q.fromMs, toMs: q.toMs, windowMs: limit * FUNDING_STEP_MS, timeOf: (f) => f.fundingTimeMs,
          fetchWindow: (startMs, endMs) => collectBackward(startMs, endMs, limit, (f: FundingRow) => f.fundingTimeMs, async (startTime, endTime) => {
            const raw = await getOk(path, { category, symbol: q.symbol, startTime, endTime, limit });
            return parsePayload(fundingResponseSchema, raw, { venue, endpoint: `GET ${path}` }).result.list.map(mapFunding);
          }),
        });
        return;
      }
      default:
        throw notServed(venue, kind);
    }
  }

  return makeSource({ venue, has, intervals, http, fetchKind, extra: { category } });
}
