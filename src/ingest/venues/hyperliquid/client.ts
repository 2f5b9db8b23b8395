import { AppError } from '../../../core/errors.ts';
import { INTERVALS, intervalMs, type Interval } from '../../../core/time.ts';
import { HttpClient } from '../../http.ts';
import { pagesBySince } from '../../paginate.ts';
import type { Bar, DataKind, FundingRow, MarketDataSource, RangeQuery, VenueId } from '../../types.ts';
import { parsePayload } from '../../validate.ts';
import { makeSource, notServed, type VenueSourceOptions } from '../common.ts';
import { mapCandle, mapFunding } from './map.ts';
import { candlesSchema, errorSchema, fundingHistorySchema, universeSchema } from './schemas.ts';

/** Hyperliquid's public API base URL. */
export const HYPERLIQUID_URL = 'https://api.hyperliquid.xyz';

/** Page sizes as Hyperliquid documents them. */
export const HYPERLIQUID_LIMITS = { candles: 5000, funding: 500 } as const;

/** Candle intervals Hyperliquid serves, of those liqcal knows (it has no 6h candles). */
const HL_INTERVALS: readonly Interval[] = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '8h', '12h', '1d'];

/**
 * Requests per second within Hyperliquid's budget of 1200 weight per minute per IP: an info request
 * weighs 20, plus 1 per 60 candles returned (a full candle page weighs 20 + 84 = 104) or per 20
 * funding entries. Sized for the heaviest request.
 */
export const HYPERLIQUID_REQUESTS_PER_SECOND = 1200 / (20 + Math.ceil(HYPERLIQUID_LIMITS.candles / 60)) / 60;

const INFO_PATH = '/info';
const venue: VenueId = 'hyperliquid';

/**
 * Maps a Hyperliquid `{"status":"err","response":…}` body to `badRequest`. Anything else (the 422
 * plain-text deserialisation errors of /info, 429, 5xx) takes the default mapping, which quotes the body.
 */
export function classifyHyperliquidError(venueId: string) {
  return (status: number, body: unknown, endpoint: string): AppError | undefined => {
    if (status === 429 || status >= 500) return undefined;
    const e = errorSchema.safeParse(body);
    if (!e.success) return undefined;
    return new AppError('badRequest', `${venueId} ${endpoint}: rejected the request: HTTP ${status} ${e.data.response}.`, { context: { venue: venueId, endpoint, status, response: e.data.response } });
  };
}

/**
 * Hyperliquid public market data over POST /info: candles of perpetuals and spot pairs (coin names
 * such as "BTC", "PURR/USDC", "@107", or "dex:COIN" for builder-deployed perpetuals) and hourly
 * funding of perpetuals. Only the most recent 5000 candles of an interval exist; older ranges come
 * back empty. The /info endpoint does not say "unknown coin", so each coin is first checked against
 * the venue's asset universe (fetched once per source, refreshed on a miss) and refused as `badSymbol`.
 * `opts.baseUrl` defaults to {@link HYPERLIQUID_URL}.
 */
export function createHyperliquidSource(opts: VenueSourceOptions = {}): MarketDataSource & { readonly http: HttpClient } {
  const http = new HttpClient({
    venue,
    baseUrl: opts.baseUrl ?? HYPERLIQUID_URL,
    requestsPerSecond: HYPERLIQUID_REQUESTS_PER_SECOND,
    classifyError: classifyHyperliquidError(venue),
    ...opts.http,
  });
  const has: Record<DataKind, boolean> = { bars: true, funding: true, openInterest: false, impliedVol: false };
  const universes = new Map<string, ReadonlySet<string>>();

  async function info(body: Record<string, unknown>, label: string): Promise<unknown> {
    return http.postJson(INFO_PATH, body, `POST ${INFO_PATH} ${label}`);
  }

  /** Refuses a coin the venue does not list, and funding of a spot pair, before any data request. */
  async function confirmCoin(coin: string, kind: DataKind): Promise<void> {
    const spot = coin.startsWith('@') || coin.includes('/');
    if (spot && kind === 'funding') {
      throw new AppError('notSupported', `${venue} pays funding on perpetuals only; "${coin}" is a spot pair. Give a perpetual's coin such as BTC.`, { context: { venue, coin, kind } });
    }
    const dex = !spot && coin.includes(':') ? coin.slice(0, coin.indexOf(':')) : undefined;
    const body = spot ? { type: 'spotMeta' } : dex !== undefined ? { type: 'meta', dex } : { type: 'meta' };
    const key = JSON.stringify(body);
    if (universes.get(key)?.has(coin)) return;
    const label = `${body.type}${dex !== undefined ? ` dex=${dex}` : ''}`;
    const parsed = parsePayload(universeSchema, await info(body, label), { venue, endpoint: `POST ${INFO_PATH} ${label}` });
    const names = new Set(parsed?.universe.map((a) => a.name) ?? []);
    universes.set(key, names);
    if (!names.has(coin)) {
      throw new AppError('badSymbol', `${venue}: unknown coin "${coin}" (not in the ${spot ? 'spot' : 'perpetuals'} universe${dex !== undefined ? ` of dex ${dex}` : ''}). Give a Hyperliquid coin name such as BTC, ETH, PURR/USDC or @107.`, { context: { venue, coin, kind } });
    }
  }

  function bars(q: RangeQuery): AsyncGenerator<readonly Bar[]> {
    const step = intervalMs(q.interval);
    return pagesBySince<Bar>({
      fromMs: q.fromMs, toMs: q.toMs, limit: HYPERLIQUID_LIMITS.candles, timeOf: (b) => b.openTimeMs, nextSince: (t) => t + step,
      fetchPage: async (since) => {
        const label = `candleSnapshot coin=${q.symbol}`;
        const raw = await info({ type: 'candleSnapshot', req: { coin: q.symbol, interval: q.interval, startTime: since, endTime: q.toMs - 1 } }, label);
        return parsePayload(candlesSchema, raw, { venue, endpoint: `POST ${INFO_PATH} ${label}` }).map(mapCandle).sort((a, b) => a.openTimeMs - b.openTimeMs);
      },
    });
  }

  function funding(q: RangeQuery): AsyncGenerator<readonly FundingRow[]> {
    return pagesBySince<FundingRow>({
      fromMs: q.fromMs, toMs: q.toMs, limit: HYPERLIQUID_LIMITS.funding, timeOf: (f) => f.fundingTimeMs, nextSince: (t) => t + 1,
      fetchPage: async (since) => {
        const label = `fundingHistory coin=${q.symbol}`;
        const raw = await info({ type: 'fundingHistory', coin: q.symbol, startTime: since, endTime: q.toMs - 1 }, label);
        return parsePayload(fundingHistorySchema, raw, { venue, endpoint: `POST ${INFO_PATH} ${label}` }).map(mapFunding).sort((a, b) => a.fundingTimeMs - b.fundingTimeMs);
      },
    });
  }

  async function* fetchKind(kind: DataKind, q: RangeQuery): AsyncGenerator<readonly unknown[]> {
    if (!has[kind]) throw notServed(venue, kind, 'bars and funding');
    if (kind === 'bars' && !HL_INTERVALS.includes(q.interval)) {
      throw new AppError('notSupported', `${venue} serves bars at intervals ${HL_INTERVALS.join(', ')}, not ${q.interval}; pick one of those.`, { context: { venue, interval: q.interval } });
    }
    if (q.fromMs >= q.toMs) return;
    await confirmCoin(q.symbol, kind);
    const pages = kind === 'bars' ? bars(q) : funding(q);
    const timeOf = kind === 'bars' ? (r: Bar | FundingRow) => (r as Bar).openTimeMs : (r: Bar | FundingRow) => (r as FundingRow).fundingTimeMs;
    // A page may open with the candle containing an unaligned `fromMs`; keep `[fromMs, toMs)` exactly.
    for await (const page of pages) {
      const rows = page.filter((r) => timeOf(r) >= q.fromMs);
      if (rows.length > 0) yield rows;
    }
  }

  return makeSource({ venue, has, intervals: INTERVALS.filter((i) => HL_INTERVALS.includes(i)), http, fetchKind });
}
