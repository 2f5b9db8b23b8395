import type { Bar, FundingRow } from '../../types.ts';
import type { RawCandle, RawFundingEntry } from './schemas.ts';

/**
 * Maps a candleSnapshot candle to a normalised bar opening at `t`; prices and base volume are parsed
 * from decimal strings and `n` is the trade count. Hyperliquid reports no quote volume.
 */
export function mapCandle(c: RawCandle): Bar {
  return { openTimeMs: c.t, open: Number(c.o), high: Number(c.h), low: Number(c.l), close: Number(c.c), volume: Number(c.v), trades: c.n };
}

/**
 * Maps a fundingHistory entry: `rate` is `fundingRate`, already a fraction per one-hour funding
 * interval, paid at `time`. Hyperliquid reports no mark price with it.
 */
export function mapFunding(f: RawFundingEntry): FundingRow {
  return { fundingTimeMs: f.time, rate: Number(f.fundingRate) };
}
