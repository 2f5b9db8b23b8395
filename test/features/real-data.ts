/**
 * Real-data slices for feature tests, read in place from shared/data (never copied into the repo).
 */
import { parseCsvFile } from '../../src/ingest/csv.ts';
import type { Bar, FundingRow, ImpliedVolRow } from '../../src/ingest/types.ts';
import type { BarColumns } from '../../src/store/market-data.ts';
import { SHARED_DATA } from '../helpers/http-server.ts';

const MARKET = `${SHARED_DATA}market/`;

/** Binance spot 1h kline files of `symbol` for the given years (shared/data/market/binance-spot__finom-static-klines). */
export function spotFiles(symbol: string, years: readonly number[]): string[] {
  return years.map((y) => `${MARKET}binance-spot__finom-static-klines/${symbol}/1h/${symbol}-1h-${y}.csv`);
}
/** BTCUSDT 8h funding events (percent per interval in the file; stored as fractions). */
export const BTC_FUNDING_FILE = `${MARKET}binance-funding-btcusdt__eth-dashboard/BTCUSDT-funding-8h-pct.csv`;
/** Deribit BTC DVOL daily closes, stamped at the UTC day start. */
export const BTC_DVOL_FILE = `${MARKET}deribit-dvol-btc__eth-dashboard/BTC-DVOL-1d-close.csv`;

/** Converts bars to columns (missing optional fields NaN), as MarketData.readBarColumns does. */
export function toBarColumns(bars: readonly Bar[]): BarColumns {
  const f = (g: (b: Bar) => number | undefined): Float64Array => Float64Array.from(bars, (b) => g(b) ?? Number.NaN);
  return {
    openTimeMs: f((b) => b.openTimeMs), open: f((b) => b.open), high: f((b) => b.high), low: f((b) => b.low), close: f((b) => b.close),
    volume: f((b) => b.volume), quoteVolume: f((b) => b.quoteVolume), trades: f((b) => b.trades), takerBuyBaseVolume: f((b) => b.takerBuyBaseVolume),
  };
}

/** Reads Binance spot 1h bars of `symbol` for `years` as columns. */
export async function readSpotBars(symbol: string, years: readonly number[]): Promise<BarColumns> {
  const rows: Bar[] = [];
  for (const file of spotFiles(symbol, years)) rows.push(...((await parseCsvFile(file, { interval: '1h', kind: 'bars' })).rows as Bar[]));
  return toBarColumns(rows);
}

/** Reads the BTCUSDT funding events as `{ timeMs, rate }` (rate as a fraction per 8h). */
export async function readBtcFunding(): Promise<{ timeMs: Float64Array; rate: Float64Array }> {
  const rows = (await parseCsvFile(BTC_FUNDING_FILE, { interval: '1h', kind: 'funding' })).rows as FundingRow[];
  return { timeMs: Float64Array.from(rows, (r) => r.fundingTimeMs), rate: Float64Array.from(rows, (r) => r.rate) };
}

/** Reads BTC DVOL daily closes as `{ timeMs, close }` (timeMs = day open). */
export async function readBtcDvol(): Promise<{ timeMs: Float64Array; close: Float64Array }> {
  const rows = (await parseCsvFile(BTC_DVOL_FILE, { interval: '1d', kind: 'impliedVol' })).rows as ImpliedVolRow[];
  return { timeMs: Float64Array.from(rows, (r) => r.timeMs), close: Float64Array.from(rows, (r) => r.close) };
}

/** Index of the first element of `a` that differs from `b` (Object.is) in [0, upto], or -1. */
export function firstMismatch(a: Float64Array, b: Float64Array, upto: number): number {
  for (let i = 0; i <= upto; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}
