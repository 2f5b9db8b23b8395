import { AppError } from '../core/errors.ts';
import { childLog } from '../core/log.ts';
import type { HttpOptions } from './http.ts';
import { VENUE_IDS, type MarketDataSource, type VenueId } from './types.ts';
import { BINANCE_SPOT_URL, BINANCE_USDM_URL, createBinanceSource } from './venues/binance/client.ts';
import { BYBIT_URL, createBybitSource } from './venues/bybit/client.ts';
import { COINBASE_URL, createCoinbaseSource } from './venues/coinbase/client.ts';
import { createDeribitSource, DERIBIT_URL } from './venues/deribit/client.ts';
import { createHyperliquidSource, HYPERLIQUID_URL } from './venues/hyperliquid/client.ts';
import { createOkxSource, OKX_URL } from './venues/okx/client.ts';

/** Options every venue factory accepts. */
export interface SourceOptions {
  /** Override the venue's public URL (a replay or simulator server on loopback, a proxy). */
  readonly baseUrl?: string;
  /** Client-side requests per second; defaults to the venue's documented budget on its public URL and to unlimited elsewhere. */
  readonly requestsPerSecond?: number;
  readonly http?: Partial<Omit<HttpOptions, 'venue' | 'baseUrl'>>;
}

interface VenueEntry {
  readonly publicUrl: string;
  readonly create: (o: { baseUrl?: string; http?: Partial<Omit<HttpOptions, 'venue' | 'baseUrl'>> }) => MarketDataSource;
}

const REGISTRY: Readonly<Record<VenueId, VenueEntry>> = {
  'binance-spot': { publicUrl: BINANCE_SPOT_URL, create: (o) => createBinanceSource({ market: 'spot', ...o }) },
  'binance-usdm': { publicUrl: BINANCE_USDM_URL, create: (o) => createBinanceSource({ market: 'usdm', ...o }) },
  // Bybit linear (USDT perpetuals) is what margin calibration needs; spot and inverse are library options.
  bybit: { publicUrl: BYBIT_URL, create: (o) => createBybitSource({ category: 'linear', ...o }) },
  okx: { publicUrl: OKX_URL, create: (o) => createOkxSource(o) },
  deribit: { publicUrl: DERIBIT_URL, create: (o) => createDeribitSource(o) },
  coinbase: { publicUrl: COINBASE_URL, create: (o) => createCoinbaseSource(o) },
  hyperliquid: { publicUrl: HYPERLIQUID_URL, create: (o) => createHyperliquidSource(o) },
};

/** True when `url` points at this machine (a replay or simulator server). */
export function isLoopbackUrl(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === 'localhost' || h === '[::1]' || h === '::1' || /^127\./.test(h);
  } catch {
    return false;
  }
}

/**
 * Creates the market-data source of a venue by id. On a loopback base URL (our own replay or
 * simulator) the client-side rate limit is lifted unless one is given, since the venue's budget
 * does not apply there; the server may still answer 429, which is honoured.
 */
export function createSource(venue: string, opts: SourceOptions = {}): MarketDataSource {
  const entry = (VENUE_IDS as readonly string[]).includes(venue) ? REGISTRY[venue as VenueId] : undefined;
  if (!entry) {
    throw new AppError('config', `Unknown venue "${venue}": use one of ${Object.keys(REGISTRY).join(', ')}.`, { context: { venue } });
  }
  if (opts.baseUrl !== undefined) {
    try { new URL(opts.baseUrl); } catch { throw new AppError('config', `--base-url "${opts.baseUrl}" is not a URL; give one such as http://127.0.0.1:8787.`, { context: { baseUrl: opts.baseUrl } }); }
  }
  const baseUrl = opts.baseUrl ?? entry.publicUrl;
  const rps = opts.requestsPerSecond ?? (isLoopbackUrl(baseUrl) ? 0 : undefined);
  const logger = childLog({ venue, baseUrl });
  const http: Partial<Omit<HttpOptions, 'venue' | 'baseUrl'>> = {
    // Every retry is logged once, with what failed and how long we wait (Retry-After or backoff).
    onRetry: ({ endpoint, attempt, delayMs, error }) => logger.warn({ endpoint, attempt, delayMs, kind: error.kind }, `retrying after: ${error.message}`),
    ...opts.http,
    ...(rps !== undefined ? { requestsPerSecond: rps } : {}),
  };
  return entry.create({ baseUrl, http });
}
