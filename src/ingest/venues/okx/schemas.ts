import { z } from 'zod';
import { decimalString, epochMsString } from '../common.ts';

/**
 * The v5 envelope, read first to find venue errors (which OKX may send with HTTP 200 or 4xx):
 * {"code":"51001","data":[],"msg":"Instrument ID, Instrument ID code, or Spread ID doesn't exist."}
 * `code` "0" means success; anything else is an error whatever the HTTP status.
 */
export const envelopeSchema = z.object({ code: z.string(), msg: z.string() }).loose();

/**
 * One candle, GET /api/v5/market/history-candles: [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm], all strings.
 * For SWAP/FUTURES `vol` is in contracts and `volCcy` in base currency; for SPOT `vol` is base and `volCcy` quote.
 * `volCcyQuote` is always quote currency. `confirm` is "0" while the candle is still forming, "1" once closed.
 * e.g. ["1722729600000","60718.4","60839.1","60617.4","60767.6","83412.5","834.125","50664892.3177","1"]
 */
export const candleSchema = z.tuple([
  epochMsString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  z.enum(['0', '1']),
]).rest(z.unknown());

/**
 * GET /api/v5/market/history-candles, a success body; `data` is newest first:
 * {"code":"0","msg":"","data":[["1722902400000","54012.1","56060.2","53948.3","56031.9","301512.44","3015.1244","168833114.1082","0"],…]}
 */
export const candlesResponseSchema = z.object({
  code: z.literal('0'),
  msg: z.string(),
  data: z.array(candleSchema),
}).loose();

/**
 * One funding event, GET /api/v5/public/funding-rate-history. `fundingRate` is the predicted rate and
 * `realizedRate` the rate actually paid:
 * {"formulaType":"noRate","fundingRate":"0.0000820812","fundingTime":"1722470400000","instId":"BTC-USDT-SWAP","instType":"SWAP","method":"current_period","realizedRate":"0.0000820812"}
 */
export const fundingEntrySchema = z.object({
  instId: z.string(),
  fundingRate: decimalString,
  realizedRate: z.union([decimalString, z.literal('')]).optional(),
  fundingTime: epochMsString,
}).loose();

/**
 * GET /api/v5/public/funding-rate-history, a success body; `data` is newest first:
 * {"code":"0","msg":"","data":[{"fundingRate":"-0.0000194912",…,"fundingTime":"1723305600000",…},…]}
 */
export const fundingResponseSchema = z.object({
  code: z.literal('0'),
  msg: z.string(),
  data: z.array(fundingEntrySchema),
}).loose();

/** Raw candle tuple type (time already parsed to a number). */
export type RawOkxCandle = z.output<typeof candleSchema>;
/** Raw funding entry type (time already parsed to a number). */
export type RawOkxFunding = z.output<typeof fundingEntrySchema>;
