import type { EpochMs, Interval } from '../core/time.ts';

/** Venues with a live adapter (and `sim`, the built-in simulated venue, which speaks Binance's wire format). */
export const VENUE_IDS = ['binance-spot', 'binance-usdm', 'bybit', 'okx', 'deribit', 'coinbase', 'hyperliquid'] as const;
/** A venue adapter id, as given to `liqcal ingest --venue`. */
export type VenueId = (typeof VENUE_IDS)[number];

/** Kinds of market data a source may serve. */
export const DATA_KINDS = ['bars', 'funding', 'openInterest', 'impliedVol'] as const;
/** One kind of market data. */
export type DataKind = (typeof DATA_KINDS)[number];

/**
 * One OHLCV bar, normalised. `openTimeMs` is the bar's open; the bar covers `[openTimeMs, openTimeMs + interval)`.
 * Prices are in quote currency per unit of base; `volume` in base units. Optional fields are `undefined`
 * (never 0) when the venue does not report them.
 */
export interface Bar {
  readonly openTimeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly quoteVolume?: number | undefined;
  readonly trades?: number | undefined;
  readonly takerBuyBaseVolume?: number | undefined;
}

/**
 * One funding event: `rate` is a fraction per the venue's funding interval (0.0001 = 0.01 %), paid at
 * `fundingTimeMs`. Intervals differ by venue — 8 h on Binance, Bybit and OKX (shorter on some symbols),
 * 1 h on Deribit (`interest_1h`) and Hyperliquid — so compare venues on rates per hour, from the spacing
 * of consecutive events.
 */
export interface FundingRow {
  readonly fundingTimeMs: number;
  readonly rate: number;
  readonly markPrice?: number | undefined;
}

/** Open interest at `timeMs`: in base units (contracts converted to base), and in quote/USD where known. */
export interface OpenInterestRow {
  readonly timeMs: number;
  readonly openInterest: number;
  readonly openInterestValue?: number | undefined;
}

/** An implied-volatility index value (e.g. Deribit DVOL) in annualised volatility points (56.8 = 56.8 %), for the period opening at `timeMs`. */
export interface ImpliedVolRow {
  readonly timeMs: number;
  readonly open?: number | undefined;
  readonly high?: number | undefined;
  readonly low?: number | undefined;
  readonly close: number;
}

/** Maps each data kind to its normalised row type. */
export interface RowOfKind {
  bars: Bar;
  funding: FundingRow;
  openInterest: OpenInterestRow;
  impliedVol: ImpliedVolRow;
}
/** The normalised row type of data kind `K`. */
export type RowOf<K extends DataKind> = RowOfKind[K];

/** Time key of a normalised row, whatever its kind. */
export function rowTime(kind: DataKind, row: Bar | FundingRow | OpenInterestRow | ImpliedVolRow): number {
  switch (kind) {
    case 'bars': return (row as Bar).openTimeMs;
    case 'funding': return (row as FundingRow).fundingTimeMs;
    default: return (row as OpenInterestRow | ImpliedVolRow).timeMs;
  }
}

/** A half-open time range `[fromMs, toMs)` of one series. */
export interface RangeQuery {
  /** The venue's own symbol (BTCUSDT, BTC-USDT-SWAP, BTC-PERPETUAL, BTC…), or the currency for an IV index. */
  readonly symbol: string;
  /** Bar interval (also the sampling period for open interest and implied volatility). */
  readonly interval: Interval;
  readonly fromMs: EpochMs;
  readonly toMs: EpochMs;
}

/**
 * A venue's public market data. Pages come in ascending time order, each within `[fromMs, toMs)`.
 * Engines check `has[kind]` before asking, and refuse unsupported kinds up front.
 */
export interface MarketDataSource {
  readonly venue: VenueId;
  /** Which kinds this source serves. */
  readonly has: Readonly<Record<DataKind, boolean>>;
  /** Intervals the venue serves bars in. */
  readonly intervals: readonly Interval[];
  /** Fetches one kind of data as ascending pages. */
  fetch<K extends DataKind>(kind: K, q: RangeQuery): AsyncIterable<readonly RowOf<K>[]>;
}
