import { AppError } from '../../../core/errors.ts';
import { INTERVALS, intervalMs, iso, type Interval } from '../../../core/time.ts';
import { HttpClient } from '../../http.ts';
import { pagesByWindow } from '../../paginate.ts';
import type { Bar, DataKind, MarketDataSource, RangeQuery, VenueId } from '../../types.ts';
import { parsePayload } from '../../validate.ts';
import { makeSource, notServed, type VenueSourceOptions } from '../common.ts';
import { mapCandle } from './map.ts';
import { candlesSchema, errorSchema } from './schemas.ts';

/** Coinbase Exchange's public REST base URL. */
export const COINBASE_URL = 'https://api.exchange.coinbase.com';

/** Candles per request: Coinbase refuses a range that spans more than 300 buckets. */
export const COINBASE_MAX_CANDLES = 300;

/** `granularity` (seconds) per interval; Coinbase serves only these six. */
const GRANULARITIES: Partial<Record<Interval, number>> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 };

const venue: VenueId = 'coinbase';

/**
 * Maps Coinbase error bodies: `{"message":"NotFound"}` with 404 on a product path is an unknown
 * product (`badSymbol`); other 4xx messages are `badRequest`. 429 and 5xx take the default
 * (retryable) path.
 */
export function classifyCoinbaseError(venueId: string) {
  return (status: number, body: unknown, endpoint: string): AppError | undefined => {
    if (status === 429 || status >= 500) return undefined;
    const e = errorSchema.safeParse(body);
    if (!e.success) return undefined;
    const ctx = { venue: venueId, endpoint, status, message: e.data.message };
    if (status === 404 && /not ?found/i.test(e.data.message)) {
      return new AppError('badSymbol', `${venueId} ${endpoint}: unknown product (${e.data.message}). Give a Coinbase product id such as BTC-USD.`, { context: ctx });
    }
    return new AppError('badRequest', `${venueId} ${endpoint}: rejected the request: HTTP ${status} ${e.data.message}.`, { context: ctx });
  };
}

/**
 * Coinbase Exchange public candles (spot only: no funding, open interest or implied volatility).
 * The endpoint takes explicit `[start, end]` windows of at most 300 buckets and answers newest
 * first; pages here come ascending within `[fromMs, toMs)`. Buckets without trades are absent.
 * `opts.baseUrl` defaults to {@link COINBASE_URL}.
 */
export function createCoinbaseSource(opts: VenueSourceOptions = {}): MarketDataSource & { readonly http: HttpClient } {
  const http = new HttpClient({
    venue,
    baseUrl: opts.baseUrl ?? COINBASE_URL,
    // Public endpoints allow 10 requests/s per IP (bursts of 15); leave headroom for other callers.
    requestsPerSecond: 8,
    classifyError: classifyCoinbaseError(venue),
    ...opts.http,
  });
  const has: Record<DataKind, boolean> = { bars: true, funding: false, openInterest: false, impliedVol: false };
  const intervals = INTERVALS.filter((i) => GRANULARITIES[i] !== undefined);

  async function* fetchKind(kind: DataKind, q: RangeQuery): AsyncGenerator<readonly unknown[]> {
    if (!has[kind]) throw notServed(venue, kind, 'bars only');
    const granularity = GRANULARITIES[q.interval];
    if (granularity === undefined) {
      throw new AppError('notSupported', `${venue} serves bars at intervals ${intervals.join(', ')}, not ${q.interval}; pick one of those.`, { context: { venue, interval: q.interval } });
    }
    const path = `/products/${encodeURIComponent(q.symbol)}/candles`;
    const endpoint = `GET ${path}`;
    yield* pagesByWindow<Bar>({
      fromMs: q.fromMs, toMs: q.toMs, windowMs: COINBASE_MAX_CANDLES * intervalMs(q.interval), timeOf: (b) => b.openTimeMs,
      fetchWindow: async (start, end) => {
        // `end` is inclusive at Coinbase: stop 1 ms short so that the bucket opening at `end` belongs to the next window.
        const raw = await http.getJson(path, { granularity, start: iso(start), end: iso(end - 1) }, endpoint);
        return parsePayload(candlesSchema, raw, { venue, endpoint })
          .map(mapCandle)
          .filter((b) => b.openTimeMs >= start && b.openTimeMs < end)
          .sort((a, b) => a.openTimeMs - b.openTimeMs);
      },
    });
  }

  return makeSource({ venue, has, intervals, http, fetchKind });
}
