import { z } from 'zod';
import { decimalString } from '../common.ts';

/**
 * One candle of POST /info {"type":"candleSnapshot"}: `t` open time and `T` close time (ms, `T` =
 * `t` + interval − 1), `s` coin, `i` interval, o/c/h/l prices and `v` base volume as decimal strings,
 * `n` trades. Responses are ascending, at most 5000 candles, and reach back only 5000 candles.
 * e.g. {"t":1722816000000,"T":1722819599999,"s":"BTC","i":"1h","o":"53912.0","c":"53125.0","h":"54180.0","l":"52740.0","v":"2314.56821","n":31877}
 */
export const candleSchema = z.object({
  t: z.number().int(),
  T: z.number().int(),
  s: z.string(),
  i: z.string(),
  o: decimalString,
  c: decimalString,
  h: decimalString,
  l: decimalString,
  v: decimalString,
  n: z.number().int(),
}).loose();

/** The candleSnapshot response. */
export const candlesSchema = z.array(candleSchema);

/**
 * One entry of POST /info {"type":"fundingHistory"}: the hourly funding rate (a fraction per hour)
 * and premium, at `time` (ms, a few ms after the hour). Ascending, at most 500 per response.
 * e.g. {"coin":"BTC","fundingRate":"0.0000125","premium":"-0.0003127841","time":1722816000047}
 */
export const fundingEntrySchema = z.object({
  coin: z.string(),
  fundingRate: decimalString,
  premium: decimalString,
  time: z.number().int(),
});

/** The fundingHistory response. */
export const fundingHistorySchema = z.array(fundingEntrySchema);

/**
 * The asset universe of POST /info {"type":"meta"} (perpetuals, optionally of a builder `dex`) and
 * {"type":"spotMeta"} (spot pairs, named "PURR/USDC" or "@107"); only `name` is read. `null` is what
 * an unknown dex answers.
 * e.g. {"universe":[{"szDecimals":5,"name":"BTC","maxLeverage":40,"marginTableId":56},{"szDecimals":4,"name":"ETH","maxLeverage":25,"marginTableId":55}],"marginTables":[],"collateralToken":0}
 */
export const universeSchema = z.union([
  z.object({ universe: z.array(z.object({ name: z.string() }).loose()) }).loose(),
  z.null(),
]);

/** An error body in Hyperliquid's exchange-API convention: {"status":"err","response":"Unknown coin NOPE"}. */
export const errorSchema = z.object({ status: z.literal('err'), response: z.string() });

/** One parsed candle. */
export type RawCandle = z.output<typeof candleSchema>;
/** One parsed funding entry. */
export type RawFundingEntry = z.output<typeof fundingEntrySchema>;
