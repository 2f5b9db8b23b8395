/**
 * A loopback HTTP server that speaks Binance's public REST wire format (spot `api/v3` and USDT-M
 * `fapi/v1`) over a pluggable {@link VenueDataProvider}: the replay of a liqcal store and the seeded
 * simulator both serve through it, so offline runs use the very client, schemas and mappers of the
 * live venue.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAppError } from '../../core/errors.ts';
import { intervalMs, type Interval } from '../../core/time.ts';
import type { Bar, FundingRow, OpenInterestRow } from '../types.ts';
import { RequestRejected, numberParam, parseLimit, requireSymbol } from './wire-params.ts';

/** One listed symbol, as `exchangeInfo` shows it. */
export interface VenueSymbol {
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
}

/**
 * The data behind a wire server. Ranges are half-open `[fromMs, toMs)` on the row time (bar open time,
 * funding time, open-interest timestamp); results are ascending. When `newestFirst` is true the
 * provider returns the *newest* `limit` rows of the range (still in ascending order), otherwise the
 * oldest `limit`. A provider leaves out a method for a kind it does not serve; the server then answers
 * 404 on that endpoint (the Binance client maps it to `notSupported`).
 */
export interface VenueDataProvider {
  /** Listed symbols. */
  symbols(): readonly VenueSymbol[];
  /** Intervals served for `kind` of `symbol` (bar intervals, or open-interest periods). */
  intervals(symbol: string, kind: 'bars' | 'openInterest'): readonly Interval[];
  /** The venue's current time in epoch ms (serverTime; the default end of "latest" queries). */
  nowMs(): number;
  /** Bars of `interval` whose open time is in `[fromMs, toMs)`, at most `limit` of them. */
  bars?(symbol: string, interval: Interval, fromMs: number, toMs: number, limit: number, newestFirst?: boolean): readonly Bar[];
  /** Funding events with funding time in `[fromMs, toMs)`, at most `limit`. */
  funding?(symbol: string, fromMs: number, toMs: number, limit: number, newestFirst?: boolean): readonly FundingRow[];
  /** Open-interest snapshots of `period` with timestamp in `[fromMs, toMs)`, at most `limit`. */
  openInterest?(symbol: string, period: Interval, fromMs: number, toMs: number, limit: number, newestFirst?: boolean): readonly OpenInterestRow[];
}

/** Options for {@link startVenueServer}. */
export interface VenueServerOptions {
  readonly provider: VenueDataProvider;
  /** Interface to bind; 127.0.0.1 by default (never leave loopback unless asked). */
  readonly host?: string;
  /** Port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Server-side limit in requests per fixed wall-clock minute; beyond it, 429 with Retry-After. Off by default. */
  readonly rateLimitPerMinute?: number;
}

/** A running venue server. */
export interface VenueServer {
  /** Base URL, e.g. http://127.0.0.1:40123 — pass it as `baseUrl` to `createBinanceSource`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops keep-alive connections. */
  close(): Promise<void>;
}

/** Intervals Binance accepts for klines (a superset of liqcal's). */
const BINANCE_KLINE_INTERVALS = new Set(['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M']);
/** Periods Binance accepts on /futures/data/openInterestHist. */
const BINANCE_OI_PERIODS = new Set(['5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d']);

const TWO_POW_26 = 2 ** 26;
const TWO_POW_38 = 2 ** 38;

/**
 * Formats a number as Binance does ("64628.01000000"), exactly: whenever eight decimals would change the
 * value (replayed data from venues with finer ticks, sums off the decimal grid) it prints the shortest
 * exact form instead, so replay is lossless. Hot path: avoids re-parsing the printed string.
 */
export function decimal8(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '0';
  if (x < 0) return '-' + decimal8(-x);
  if (x < TWO_POW_26) {
    // Below 2^26 half an ulp is < 5e-9, so toFixed(8) is exact iff x is the double nearest its 8-decimal rounding.
    const k = Math.round(x * 1e8);
    return k / 1e8 === x ? x.toFixed(8) : String(x);
  }
  if (x < TWO_POW_38) {
    // Large values on a 4-decimal grid (quote volumes) print from the integer, without toFixed's binary tail.
    const k = Math.round(x * 1e4);
    if (k / 1e4 === x) {
      const d = String(k);
      return d.slice(0, d.length - 4) + '.' + d.slice(d.length - 4) + '0000';
    }
  }
  // From 2^26 on half an ulp exceeds 5e-9: eight decimals always read back to x.
  return x < 1e21 ? x.toFixed(8) : String(x);
}
/** Serialises bars as a Binance klines body. A tight string loop: this is the hot path of offline ingestion. */
export function klinesBody(bars: readonly Bar[], stepMs: number): string {
  let s = '[';
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i]!;
    const v = b.volume;
    const qv = b.quoteVolume ?? 0;
    const tbb = b.takerBuyBaseVolume ?? 0;
    // Binance reports taker-buy quote volume; the normalised bar does not keep it, so estimate it at the bar's VWAP.
    const tbq = v > 0 ? (tbb * qv) / v : 0;
    if (i > 0) s += ',';
    s += '[' + b.openTimeMs + ',"' + decimal8(b.open) + '","' + decimal8(b.high) + '","' + decimal8(b.low) + '","' + decimal8(b.close)
      + '","' + decimal8(v) + '",' + (b.openTimeMs + stepMs - 1) + ',"' + decimal8(qv) + '",' + (b.trades ?? 0)
      + ',"' + decimal8(tbb) + '","' + tbq.toFixed(8) + '","0"]';
  }
  return s + ']';
}

function fundingBody(symbol: string, rows: readonly FundingRow[]): string {
  const sym = JSON.stringify(symbol);
  let s = '[';
  for (let i = 0; i < rows.length; i++) {
    const f = rows[i]!;
    if (i > 0) s += ',';
    s += '{"symbol":' + sym + ',"fundingTime":' + f.fundingTimeMs + ',"fundingRate":"' + decimal8(f.rate) + '","markPrice":"'
      + (f.markPrice === undefined ? '' : decimal8(f.markPrice)) + '"}';
  }
  return s + ']';
}

function openInterestBody(symbol: string, rows: readonly OpenInterestRow[]): string {
  const sym = JSON.stringify(symbol);
  let s = '[';
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i]!;
    if (i > 0) s += ',';
    s += '{"symbol":' + sym + ',"sumOpenInterest":"' + decimal8(o.openInterest) + '","sumOpenInterestValue":"'
      + decimal8(o.openInterestValue ?? 0) + '","timestamp":' + o.timeMs + '}';
  }
  return s + ']';
}

interface Reply { status: number; body: string; weight: number; headers?: Record<string, string>; ascii?: boolean }

const ok = (body: string, weight: number): Reply => ({ status: 200, body, weight });
const data = (body: string, weight: number): Reply => ({ status: 200, body, weight, ascii: true });
const NOT_FOUND: Reply = { status: 404, body: '', weight: 1 };

/** Binance's klines weight by limit (USDT-M table; spot charges a flat 2). */
function klinesWeight(futures: boolean, limit: number): number {
  if (!futures) return 2;
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

/**
 * Resolves Binance's time-window semantics: rows with time in [startTime, endTime] (inclusive);
 * without startTime, the newest `limit` up to endTime (or now).
 */
function window(q: URLSearchParams, nowMs: number): { fromMs: number; toMs: number; newestFirst: boolean } {
  const start = numberParam(q, 'startTime');
  const end = numberParam(q, 'endTime');
  if (start !== undefined && end !== undefined && start > end) throw new RequestRejected(-1023, 'Start time is greater than end time.');
  return { fromMs: start ?? 0, toMs: (end ?? nowMs) + 1, newestFirst: start === undefined };
}

function checkInterval(provider: VenueDataProvider, symbol: string, raw: string | null, kind: 'bars' | 'openInterest'): Interval {
  const name = kind === 'bars' ? 'interval' : 'period';
  if (raw === null || raw === '') throw RequestRejected.mandatory(name);
  const served = provider.intervals(symbol, kind);
  if (kind === 'bars' && !BINANCE_KLINE_INTERVALS.has(raw)) throw new RequestRejected(-1120, 'Invalid interval.');
  if (kind === 'openInterest' && !BINANCE_OI_PERIODS.has(raw)) throw new RequestRejected(-1130, "Data sent for parameter 'period' is not valid.");
  if (!(served as readonly string[]).includes(raw)) {
    // Binance would serve it; this offline venue does not hold it, so say which ones it does.
    const msg = `${kind === 'bars' ? 'Invalid interval.' : "Data sent for parameter 'period' is not valid."} This offline venue serves ${symbol} ${kind === 'bars' ? 'klines' : 'open interest'} in ${served.join(', ') || 'no interval'}.`;
    throw new RequestRejected(kind === 'bars' ? -1120 : -1130, msg);
  }
  return raw as Interval;
}

function route(provider: VenueDataProvider, path: string, q: URLSearchParams): Reply {
  switch (path) {
    case '/api/v3/ping':
    case '/fapi/v1/ping':
      return ok('{}', 1);
    case '/api/v3/time':
    case '/fapi/v1/time':
      return ok(`{"serverTime":${Math.floor(provider.nowMs())}}`, 1);
    case '/api/v3/exchangeInfo':
    case '/fapi/v1/exchangeInfo': {
      const futures = path.startsWith('/fapi');
      const symbols = provider.symbols().map((s) => ({
        symbol: s.symbol, status: 'TRADING', baseAsset: s.baseAsset, quoteAsset: s.quoteAsset, ...(futures ? { contractType: 'PERPETUAL' } : {}),
      }));
      return ok(JSON.stringify({ timezone: 'UTC', serverTime: Math.floor(provider.nowMs()), rateLimits: [], symbols }), futures ? 1 : 20);
    }
    case '/api/v3/klines':
    case '/fapi/v1/klines': {
      if (!provider.bars) return NOT_FOUND;
      const futures = path.startsWith('/fapi');
      const symbol = requireSymbol(q, provider);
      const interval = checkInterval(provider, symbol, q.get('interval'), 'bars');
      const limit = parseLimit(q, 500, futures ? 1500 : 1000);
      const w = window(q, provider.nowMs());
      const bars = provider.bars(symbol, interval, w.fromMs, w.toMs, limit, w.newestFirst);
      return data(klinesBody(bars, intervalMs(interval)), klinesWeight(futures, limit));
    }
    case '/fapi/v1/fundingRate': {
      if (!provider.funding) return NOT_FOUND;
      const symbol = requireSymbol(q, provider);
      const limit = parseLimit(q, 100, 1000);
      const w = window(q, provider.nowMs());
      return data(fundingBody(symbol, provider.funding(symbol, w.fromMs, w.toMs, limit, w.newestFirst)), 1);
    }
    case '/futures/data/openInterestHist': {
      if (!provider.openInterest) return NOT_FOUND;
      const symbol = requireSymbol(q, provider);
      const period = checkInterval(provider, symbol, q.get('period'), 'openInterest');
      const limit = parseLimit(q, 30, 500);
      const w = window(q, provider.nowMs());
      return data(openInterestBody(symbol, provider.openInterest(symbol, period, w.fromMs, w.toMs, limit, w.newestFirst)), 1);
    }
    default:
      return NOT_FOUND;
  }
}

/**
 * Maps a failure to a Binance error reply: parameter checks → 400 with their code; a provider's final
 * AppError (e.g. a range it refuses to generate) → 400, so the client does not retry it; anything else → 500.
 */
function errorReply(e: unknown): Reply {
  if (e instanceof RequestRejected) return { status: 400, body: JSON.stringify({ code: e.code, msg: e.message }), weight: 1 };
  if (isAppError(e) && e.kind === 'badSymbol') return { status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}', weight: 1 };
  const msg = `An unknown error occurred while processing the request: ${(e as Error).message}`;
  return { status: isAppError(e) && !e.retryable ? 400 : 500, body: JSON.stringify({ code: -1000, msg }), weight: 1 };
}

/** A fixed one-minute window counter, as Binance's x-mbx-used-weight-1m. */
class MinuteCounter {
  private minute = -1;
  requests = 0;
  weight = 0;
  roll(nowMs: number): void {
    const m = Math.floor(nowMs / 60_000);
    if (m !== this.minute) { this.minute = m; this.requests = 0; this.weight = 0; }
  }
}

/**
 * Starts a Binance-compatible market-data server over `provider`, bound to 127.0.0.1 on a free port by
 * default. Endpoints: ping, time, exchangeInfo, klines (spot and USDT-M), fundingRate, openInterestHist,
 * with Binance's parameter checks, limits, error codes and weight header.
 */
export async function startVenueServer(opts: VenueServerOptions): Promise<VenueServer> {
  const { provider } = opts;
  const counter = new MinuteCounter();
  const server = http.createServer((req, res) => {
    const now = Date.now();
    counter.roll(now);
    counter.requests++;
    let reply: Reply;
    if (opts.rateLimitPerMinute !== undefined && counter.requests > opts.rateLimitPerMinute) {
      const retryAfterS = Math.max(1, Math.ceil((60_000 - (now % 60_000)) / 1000));
      reply = {
        status: 429, weight: 0, headers: { 'Retry-After': String(retryAfterS) },
        body: JSON.stringify({ code: -1003, msg: `Too many requests; current limit is ${opts.rateLimitPerMinute} requests per minute. Please use WebSocket Streams for live updates to avoid polling the API.` }),
      };
    } else {
      const raw = req.url ?? '/';
      const qi = raw.indexOf('?');
      const path = qi < 0 ? raw : raw.slice(0, qi);
      const q = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
      try {
        reply = req.method === 'GET' || req.method === 'HEAD' ? route(provider, path, q) : { status: 405, body: '', weight: 1 };
      } catch (e) {
        reply = errorReply(e);
      }
    }
    counter.weight += reply.weight;
    // Data bodies are pure ASCII (validated symbols, digits), so their length is their byte count.
    const length = reply.ascii ? reply.body.length : Buffer.byteLength(reply.body);
    res.writeHead(reply.status, {
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': length,
      'x-mbx-used-weight-1m': String(counter.weight),
      ...reply.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : reply.body, reply.ascii ? 'latin1' : 'utf8');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
