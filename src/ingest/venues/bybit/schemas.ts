import { z } from 'zod';
import { decimalString, epochMsString } from '../common.ts';

/**
 * The v5 envelope, read first to find venue errors (which Bybit mostly sends with HTTP 200):
 * {"retCode":10001,"retMsg":"Not supported symbols","result":{},"retExtInfo":{},"time":1722902412345}
 * `retCode` 0 means success; anything else is an error whatever the HTTP status.
 */
export const envelopeSchema = z.object({ retCode: z.number().int(), retMsg: z.string() }).loose();

/**
 * One kline, GET /v5/market/kline: [startTime, open, high, low, close, volume, turnover], all strings.
 * `volume` is in base coin for linear and spot but in contracts (USD) for inverse; `turnover` is the reverse.
 * e.g. ["1722729600000","60718.4","60839.1","60617.4","60767.6","1531.266","93041231.2516"]
 */
export const klineSchema = z.tuple([
  epochMsString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
  decimalString,
]).rest(z.unknown());

/**
 * GET /v5/market/kline, a success body; `result.list` is newest first:
 * {"retCode":0,"retMsg":"OK","result":{"symbol":"BTCUSDT","category":"linear","list":[["1722902400000","54012.1",…],…]},"retExtInfo":{},"time":1722902412345}
 */
export const klineResponseSchema = z.object({
  retCode: z.literal(0),
  retMsg: z.string(),
  result: z.object({
    symbol: z.string(),
    category: z.string(),
    list: z.array(klineSchema),
  }).loose(),
}).loose();

/**
 * One funding event, GET /v5/market/funding/history:
 * {"symbol":"BTCUSDT","fundingRate":"0.00008208","fundingRateTimestamp":"1722470400000"}
 */
export const fundingEntrySchema = z.object({
  symbol: z.string(),
  fundingRate: decimalString,
  fundingRateTimestamp: epochMsString,
}).loose();

/**
 * GET /v5/market/funding/history, a success body; `result.list` is newest first:
 * {"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","fundingRate":"-0.00001949","fundingRateTimestamp":"1723305600000"},…]},"retExtInfo":{},"time":1723306000000}
 */
export const fundingResponseSchema = z.object({
  retCode: z.literal(0),
  retMsg: z.string(),
  result: z.object({
    category: z.string(),
    list: z.array(fundingEntrySchema),
  }).loose(),
}).loose();

/** Raw kline tuple type (time already parsed to a number). */
export type RawBybitKline = z.output<typeof klineSchema>;
/** Raw funding entry type (time already parsed to a number). */
export type RawBybitFunding = z.output<typeof fundingEntrySchema>;
