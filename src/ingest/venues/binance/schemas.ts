import { z } from 'zod';
import { decimalString } from '../common.ts';

/**
 * One kline, GET /api/v3/klines and /fapi/v1/klines:
 * [openTime, open, high, low, close, volume, closeTime, quoteAssetVolume, trades, takerBuyBase, takerBuyQuote, ignore]
 * e.g. [1722470400000,"64628.01000000","64841.29000000","64316.55000000","64645.90000000","1271.22941000",1722473999999,"82114039.53563540",97642,"522.34659000","33757519.41775970","0"]
 */
export const klineSchema = z.tuple([
  z.number().int(),
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  z.number().int(),
  decimalString,
  z.number().int(),
  decimalString,
  decimalString,
]).rest(z.unknown());

/** The klines response: an array of klines, ascending by open time. */
export const klinesSchema = z.array(klineSchema);

/** GET /fapi/v1/fundingRate: [{"symbol":"BTCUSDT","fundingTime":1698019200000,"fundingRate":"0.00010000","markPrice":"29925.40000000"}] */
export const fundingRateSchema = z.array(z.object({
  symbol: z.string(),
  fundingTime: z.number().int(),
  fundingRate: decimalString,
  markPrice: z.union([decimalString, z.literal('')]).optional(),
}));

/** GET /futures/data/openInterestHist: [{"symbol":"BTCUSDT","sumOpenInterest":"20403.63700000","sumOpenInterestValue":"150570784.07809979","timestamp":1583127900000}] */
export const openInterestHistSchema = z.array(z.object({
  symbol: z.string(),
  sumOpenInterest: decimalString,
  sumOpenInterestValue: decimalString,
  timestamp: z.number().int(),
}).loose());

/** Binance's error body: {"code":-1121,"msg":"Invalid symbol."} */
export const errorSchema = z.object({ code: z.number(), msg: z.string() });

/** Raw kline tuple type. */
export type RawKline = z.output<typeof klineSchema>;
