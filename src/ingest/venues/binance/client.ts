import { AppError } from '../../../core/errors.ts';
import { INTERVALS, intervalMs, type Interval } from '../../../core/time.ts';
import { HttpClient } from '../../http.ts';
import { pagesBySince } from '../../paginate.ts';
import type { Bar, DataKind, FundingRow, MarketDataSource, OpenInterestRow, RangeQuery, VenueId } from '../../types.ts';
import { parsePayload } from '../../validate.ts';
import { makeSource, notServed, type VenueSourceOptions } from '../common.ts';
import { mapFunding, mapKline, mapOpenInterest } from './map.ts';
import { errorSchema, fundingRateSchema, klinesSchema, openInterestHistSchema } from './schemas.ts';

/** Binance public base URLs. */
export const BINANCE_SPOT_URL = 'https://api.binance.com';
export const BINANCE_USDM_URL = 'https://fapi.binance.com';

/** Page sizes as Binance documents them. */
export const BINANCE_LIMITS = { spotKlines: 1000, usdmKlines: 1500, funding: 1000, openInterest: 500 } as const;

/** Periods served by /futures/data/openInterestHist. */
const OI_PERIODS: readonly Interval[] = ['5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d'];

/** Options for a Binance source. */
export interface BinanceSourceOptions extends VenueSourceOptions {
  /** `spot` (api/v3) or `usdm` (USDT-M futures, fapi/v1). */
  readonly market: 'spot' | 'usdm';
}

/** Maps Binance error bodies: -1121 is an unknown symbol; 429/418 and 5xx take the default (retryable) path. */
export function classifyBinanceError(venue: string) {
  return (status: number, body: unknown, endpoint: string): AppError | undefined => {
    if (status === 429 || status === 418 || status >= 500) return undefined;
    const e = errorSchema.safeParse(body);
    if (!e.success) return undefined;
    const ctx = { venue, endpoint, status, code: e.data.code };
    if (e.data.code === -1121) return new AppError('badSymbol', `${venue} ${endpoint}: unknown symbol (${e.data.msg}). Check --symbols against the venue's listing.`, { context: ctx });
    return new AppError('badRequest', `${venue} ${endpoint}: rejected the request: ${e.data.code} ${e.data.msg}`, { context: ctx });
  };
}

/**
 * Binance spot or USDT-M futures public market data: klines (both), funding-rate history and
 * open-interest history (USDT-M only; Binance serves only the last 30 days of open interest).
 * The offline venues (replay, simulator) speak this same wire format.
 */
export function createBinanceSource(opts: BinanceSourceOptions): MarketDataSource & { readonly http: HttpClient } {
  const usdm = opts.market === 'usdm';
  const venue: VenueId = usdm ? 'binance-usdm' : 'binance-spot';
  const http = new HttpClient({
    venue,
    baseUrl: opts.baseUrl ?? (usdm ? BINANCE_USDM_URL : BINANCE_SPOT_URL),
    // Binance allows 6000 (spot) / 2400 (futures) request weight per minute; a klines call weighs 2–10.
    requestsPerSecond: 10,
    classifyError: classifyBinanceError(venue),
    ...opts.http,
  });
  const klinesPath = usdm ? '/fapi/v1/klines' : '/api/v3/klines';
  const klinesLimit = usdm ? BINANCE_LIMITS.usdmKlines : BINANCE_LIMITS.spotKlines;

  const has: Record<DataKind, boolean> = { bars: true, funding: usdm, openInterest: usdm, impliedVol: false };

  async function* fetchKind(kind: DataKind, q: RangeQuery): AsyncGenerator<readonly unknown[]> {
    if (!has[kind]) throw notServed(venue, kind);
    switch (kind) {
      case 'bars': {
        const step = intervalMs(q.interval);
        yield* pagesBySince<Bar>({
          fromMs: q.fromMs, toMs: q.toMs, limit: klinesLimit, timeOf: (b) => b.openTimeMs, nextSince: (t) => t + step,
          fetchPage: async (since) => {
            const raw = await http.getJson(klinesPath, { symbol: q.symbol, interval: q.interval, startTime: since, endTime: q.toMs - 1, limit: klinesLimit }, `GET ${klinesPath}`);
            return parsePayload(klinesSchema, raw, { venue, endpoint: `GET ${klinesPath}` }).map(mapKline);
          },
        });
        return;
      }
      case 'funding': {
        const path = '/fapi/v1/fundingRate';
        yield* pagesBySince<FundingRow>({
          fromMs: q.fromMs, toMs: q.toMs, limit: BINANCE_LIMITS.funding, timeOf: (f) => f.fundingTimeMs, nextSince: (t) => t + 1,
          fetchPage: async (since) => {
            const raw = await http.getJson(path, { symbol: q.symbol, startTime: since, endTime: q.toMs - 1, limit: BINANCE_LIMITS.funding }, `GET ${path}`);
            return parsePayload(fundingRateSchema, raw, { venue, endpoint: `GET ${path}` }).map(mapFunding);
          },
        });
        return;
      }
      case 'openInterest': {
        if (!OI_PERIODS.includes(q.interval)) throw new AppError('notSupported', `${venue} open interest is served for periods ${OI_PERIODS.join(', ')}, not ${q.interval}.`, { context: { venue, interval: q.interval } });
        const path = '/futures/data/openInterestHist';
        const step = intervalMs(q.interval);
        yield* pagesBySince<OpenInterestRow>({
          fromMs: q.fromMs, toMs: q.toMs, limit: BINANCE_LIMITS.openInterest, timeOf: (o) => o.timeMs, nextSince: (t) => t + step,
          fetchPage: async (since) => {
            const raw = await http.getJson(path, { symbol: q.symbol, period: q.interval, startTime: since, endTime: q.toMs - 1, limit: BINANCE_LIMITS.openInterest }, `GET ${path}`);
            return parsePayload(openInterestHistSchema, raw, { venue, endpoint: `GET ${path}` }).map(mapOpenInterest);
          },
        });
        return;
      }
      default:
        throw notServed(venue, kind);
    }
  }

  return makeSource({ venue, has, intervals: INTERVALS, http, fetchKind });
}
