import type { Bar, FundingRow, OpenInterestRow } from '../../types.ts';
import type { RawKline } from './schemas.ts';
import type { fundingRateSchema, openInterestHistSchema } from './schemas.ts';
import type { z } from 'zod';

/** Maps a Binance kline array to a normalised bar (prices and volumes parsed from decimal strings). */
export function mapKline(k: RawKline): Bar {
  return {
    openTimeMs: k[0],
    open: Number(k[1]),
    high: Number(k[2]),
    low: Number(k[3]),
    close: Number(k[4]),
    volume: Number(k[5]),
    quoteVolume: Number(k[7]),
    trades: k[8],
    takerBuyBaseVolume: Number(k[9]),
  };
}

/** Maps a Binance funding-rate entry: `fundingRate` is already a fraction per interval. */
export function mapFunding(f: z.output<typeof fundingRateSchema>[number]): FundingRow {
  return { fundingTimeMs: f.fundingTime, rate: Number(f.fundingRate), markPrice: f.markPrice ? Number(f.markPrice) : undefined };
}

/** Maps a Binance open-interest statistic: base units and USDT value. */
export function mapOpenInterest(o: z.output<typeof openInterestHistSchema>[number]): OpenInterestRow {
  return { timeMs: o.timestamp, openInterest: Number(o.sumOpenInterest), openInterestValue: Number(o.sumOpenInterestValue) };
}
