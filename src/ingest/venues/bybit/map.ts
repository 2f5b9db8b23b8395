import type { Bar, FundingRow } from '../../types.ts';
import type { RawBybitFunding, RawBybitKline } from './schemas.ts';

/** Bybit v5 product categories. */
export type BybitCategory = 'linear' | 'spot' | 'inverse';

/**
 * Maps a Bybit kline to a normalised bar. Bybit reports no trade count or taker volume, so those stay
 * `undefined`. For linear and spot, `volume` is base coin and `turnover` quote coin; for inverse
 * contracts Bybit swaps them (`volume` in USD contracts, `turnover` in base coin), so they are swapped
 * back here to keep `Bar.volume` in base units.
 */
export function mapKline(k: RawBybitKline, category: BybitCategory): Bar {
  const inverse = category === 'inverse';
  return {
    openTimeMs: k[0],
    open: Number(k[1]),
    high: Number(k[2]),
    low: Number(k[3]),
    close: Number(k[4]),
    volume: Number(inverse ? k[6] : k[5]),
    quoteVolume: Number(inverse ? k[5] : k[6]),
    trades: undefined,
    takerBuyBaseVolume: undefined,
  };
}

/** Maps a Bybit funding entry: `fundingRate` is already a fraction per funding interval; no mark price is given. */
export function mapFunding(f: RawBybitFunding): FundingRow {
  return { fundingTimeMs: f.fundingRateTimestamp, rate: Number(f.fundingRate), markPrice: undefined };
}
