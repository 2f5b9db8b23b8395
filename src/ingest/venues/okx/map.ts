import type { Bar, FundingRow } from '../../types.ts';
import type { RawOkxCandle, RawOkxFunding } from './schemas.ts';

/** True for a derivative instrument id (BTC-USDT-SWAP, BTC-USD-240927), false for spot (BTC-USDT). */
export function isDerivativeInstId(instId: string): boolean {
  return instId.split('-').length > 2;
}

/** True for a perpetual swap (the only OKX instruments that pay funding). */
export function isSwapInstId(instId: string): boolean {
  return instId.endsWith('-SWAP');
}

/**
 * Maps a closed OKX candle to a normalised bar. Derivatives report `vol` in contracts, so base volume
 * comes from `volCcy`; spot reports base volume in `vol`. `volCcyQuote` is quote volume for both.
 * OKX reports no trade count or taker volume, so those stay `undefined`.
 */
export function mapCandle(c: RawOkxCandle, derivative: boolean): Bar {
  return {
    openTimeMs: c[0],
    open: Number(c[1]),
    high: Number(c[2]),
    low: Number(c[3]),
    close: Number(c[4]),
    volume: Number(derivative ? c[6] : c[5]),
    quoteVolume: Number(c[7]),
    trades: undefined,
    takerBuyBaseVolume: undefined,
  };
}

/** True once the candle has closed (`confirm` "1"); forming candles are dropped before mapping. */
export function isConfirmed(c: RawOkxCandle): boolean {
  return c[8] === '1';
}

/**
 * Maps an OKX funding event to the rate actually paid: `realizedRate`, falling back to `fundingRate`
 * when OKX leaves it empty. Both are fractions per funding interval; no mark price is given.
 */
export function mapFunding(f: RawOkxFunding): FundingRow {
  const rate = f.realizedRate !== undefined && f.realizedRate !== '' ? f.realizedRate : f.fundingRate;
  return { fundingTimeMs: f.fundingTime, rate: Number(rate), markPrice: undefined };
}
