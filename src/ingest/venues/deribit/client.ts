import type { z } from 'zod';
import { AppError } from '../../../core/errors.ts';
import { INTERVALS, intervalMs, type Interval } from '../../../core/time.ts';
import { HttpClient } from '../../http.ts';
import { pagesByWindow } from '../../paginate.ts';
import type { Bar, DataKind, FundingRow, ImpliedVolRow, MarketDataSource, RangeQuery, VenueId } from '../../types.ts';
import { parsePayload } from '../../validate.ts';
import { makeSource, notServed, type VenueSourceOptions } from '../common.ts';
import { mapChartData, mapFunding, mapVolatilityCandle } from './map.ts';
import { chartDataResponseSchema, errorEnvelopeSchema, fundingRateHistoryResponseSchema, volatilityIndexResponseSchema } from './schemas.ts';

/** Deribit's public base URL. */
export const DERIBIT_URL = 'https://www.deribit.com';

/**
 * Points per call. Chart data is capped at about 5000 bars per call and has no cursor, so it is
 * windowed; DVOL answers at most ~1000 candles and then hands back a `continuation`; funding history
 * answers at most 744 hourly entries (31 days).
 */
export const DERIBIT_LIMITS = { chartPoints: 5000, volIndexPoints: 1000, fundingEntries: 744 } as const;

/** Chart-data `resolution` per interval (minutes, or 1D). Deribit has no 4h or 8h bars. */
const CHART_RESOLUTIONS: Partial<Record<Interval, string>> = {
  '1m': '1', '3m': '3', '5m': '5', '15m': '15', '30m': '30', '1h': '60', '2h': '120', '6h': '360', '12h': '720', '1d': '1D',
};

/** Volatility-index `resolution` per interval (seconds, or 1D). */
const VOL_RESOLUTIONS: Partial<Record<Interval, string>> = { '1m': '60', '1h': '3600', '12h': '43200', '1d': '1D' };

const HOUR_MS = 3_600_000;
const venue: VenueId = 'deribit';

/**
 * Maps Deribit JSON-RPC error envelopes to AppErrors: 10028 `too_many_requests` is `rateLimited`
 * (retried); an `Invalid params` error whose `data.param` is `instrument_name` or `currency` is
 * `badSymbol`; any other RPC error is `badRequest`. 5xx and non-RPC bodies take the default path.
 */
export function classifyDeribitError(venueId: string) {
  return (status: number, body: unknown, endpoint: string): AppError | undefined => {
    if (status >= 500) return undefined;
    const e = errorEnvelopeSchema.safeParse(body);
    if (!e.success) return undefined;
    const { code, message, data } = e.data.error;
    const ctx = { venue: venueId, endpoint, status, code, reason: data?.reason, param: data?.param };
    if (code === 10028) {
      return new AppError('rateLimited', `${venueId} ${endpoint}: rate limited (error 10028 ${message}).`, { context: ctx });
    }
    if (data?.param === 'instrument_name' || data?.param === 'currency') {
      return new AppError('badSymbol', `${venueId} ${endpoint}: Deribit rejected ${data.param} (${data.reason ?? message}). Give a Deribit instrument name such as BTC-PERPETUAL, or the currency BTC or ETH for implied volatility.`, { context: ctx });
    }
    return new AppError('badRequest', `${venueId} ${endpoint}: rejected the request: ${code} ${message}${data?.reason ? ` (${data.param ?? ''} ${data.reason})` : ''}.`, { context: ctx });
  };
}

/**
 * Deribit public market data: perpetual and future bars (chart data), hourly funding of perpetuals,
 * and the DVOL implied-volatility index per currency (`symbol` = BTC or ETH). Open interest has no
 * history endpoint on Deribit, so it is not served. `opts.baseUrl` defaults to {@link DERIBIT_URL}.
 */
export function createDeribitSource(opts: VenueSourceOptions = {}): MarketDataSource & { readonly http: HttpClient } {
  const classify = classifyDeribitError(venue);
  const http = new HttpClient({
    venue,
    baseUrl: opts.baseUrl ?? DERIBIT_URL,
    // Non-matching-engine calls cost 500 of a 50 000-credit pool refilled at 10 000/s (20 req/s); keep half.
    requestsPerSecond: 10,
    classifyError: classify,
    ...opts.http,
  });
  const has: Record<DataKind, boolean> = { bars: true, funding: true, openInterest: false, impliedVol: true };
  const intervals = INTERVALS.filter((i) => CHART_RESOLUTIONS[i] !== undefined);

  /** Calls a public method; an error envelope that slips through with HTTP 200 is classified all the same. */
  async function rpc<S extends z.ZodType<{ result: unknown }>>(method: string, params: Record<string, string | number>, schema: S, label: string): Promise<z.output<S>['result']> {
    const path = `/api/v2/public/${method}`;
    const endpoint = `GET ${path}?${label}`;
    const raw = await http.getJson(path, params, endpoint);
    if (errorEnvelopeSchema.safeParse(raw).success) {
      throw classify(400, raw, endpoint) ?? new AppError('badResponse', `${venue} ${endpoint}: error envelope with HTTP 200.`, { context: { venue, endpoint } });
    }
    return parsePayload(schema, raw, { venue, endpoint }).result;
  }

  function resolutionOf(table: Partial<Record<Interval, string>>, interval: Interval, what: string): string {
    const r = table[interval];
    if (r === undefined) {
      const served = INTERVALS.filter((i) => table[i] !== undefined).join(', ');
      throw new AppError('notSupported', `${venue} serves ${what} at intervals ${served}, not ${interval}; pick one of those.`, { context: { venue, interval, kind: what } });
    }
    return r;
  }

  function bars(q: RangeQuery): AsyncGenerator<readonly Bar[]> {
    const resolution = resolutionOf(CHART_RESOLUTIONS, q.interval, 'bars');
    return pagesByWindow<Bar>({
      fromMs: q.fromMs, toMs: q.toMs, windowMs: DERIBIT_LIMITS.chartPoints * intervalMs(q.interval), timeOf: (b) => b.openTimeMs,
      fetchWindow: async (start, end) => {
        const r = await rpc('get_tradingview_chart_data', { instrument_name: q.symbol, start_timestamp: start, end_timestamp: end - 1, resolution }, chartDataResponseSchema, `instrument_name=${q.symbol}`);
        return inWindow(mapChartData(r), (b) => b.openTimeMs, start, end);
      },
    });
  }

  function funding(q: RangeQuery): AsyncGenerator<readonly FundingRow[]> {
    return pagesByWindow<FundingRow>({
      fromMs: q.fromMs, toMs: q.toMs, windowMs: DERIBIT_LIMITS.fundingEntries * HOUR_MS, timeOf: (f) => f.fundingTimeMs,
      fetchWindow: async (start, end) => {
        const r = await rpc('get_funding_rate_history', { instrument_name: q.symbol, start_timestamp: start, end_timestamp: end - 1 }, fundingRateHistoryResponseSchema, `instrument_name=${q.symbol}`);
        return inWindow(r.map(mapFunding), (f) => f.fundingTimeMs, start, end);
      },
    });
  }

  function impliedVol(q: RangeQuery): AsyncGenerator<readonly ImpliedVolRow[]> {
    const resolution = resolutionOf(VOL_RESOLUTIONS, q.interval, 'impliedVol');
    return pagesByWindow<ImpliedVolRow>({
      fromMs: q.fromMs, toMs: q.toMs, windowMs: DERIBIT_LIMITS.volIndexPoints * intervalMs(q.interval), timeOf: (v) => v.timeMs,
      fetchWindow: async (start, end) => {
        // Within a window, `continuation` walks backwards (newest chunk first); collect, then sort ascending.
        const byTime = new Map<number, ImpliedVolRow>();
        let endTs = end - 1;
        for (;;) {
          const r = await rpc('get_volatility_index_data', { currency: q.symbol, start_timestamp: start, end_timestamp: endTs, resolution }, volatilityIndexResponseSchema, `currency=${q.symbol}`);
          for (const c of r.data) if (c[0] >= start && c[0] < end && !byTime.has(c[0])) byTime.set(c[0], mapVolatilityCandle(c));
          if (r.continuation === null || r.data.length === 0 || r.continuation < start) break;
          if (r.continuation >= endTs) {
            throw new AppError('badResponse', `${venue} get_volatility_index_data ${q.symbol}: continuation ${r.continuation} does not move back from end_timestamp ${endTs}; stopping rather than looping.`, { context: { venue, continuation: r.continuation, endTs } });
          }
          endTs = r.continuation;
        }
        return [...byTime.values()].sort((a, b) => a.timeMs - b.timeMs);
      },
    });
  }

  async function* fetchKind(kind: DataKind, q: RangeQuery): AsyncGenerator<readonly unknown[]> {
    if (!has[kind]) throw notServed(venue, kind, DATA_SERVED);
    if (kind === 'bars') yield* bars(q);
    else if (kind === 'funding') yield* funding(q);
    else yield* impliedVol(q);
  }

  return makeSource({ venue, has, intervals, http, fetchKind });
}

const DATA_SERVED = 'bars, funding and impliedVol';

/** Keeps rows in `[start, end)`, ascending (the venue may include the bar containing an unaligned start). */
function inWindow<R>(rows: readonly R[], timeOf: (r: R) => number, start: number, end: number): R[] {
  return rows.filter((r) => timeOf(r) >= start && timeOf(r) < end).sort((a, b) => timeOf(a) - timeOf(b));
}
