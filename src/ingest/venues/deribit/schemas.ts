import { z } from 'zod';

/**
 * Deribit speaks JSON-RPC 2.0 over HTTP. Numbers arrive as JSON numbers; the `usIn/usOut/usDiff`
 * server timings are microsecond integers (some recorders, e.g. ccxt's static fixtures, store them
 * as strings, so either is accepted: they are never used).
 */
const usTiming = z.union([z.number(), z.string()]).optional();

/** Wraps a `result` schema in Deribit's success envelope. */
export function envelope<S extends z.ZodType>(result: S) {
  return z.object({
    jsonrpc: z.literal('2.0'),
    result,
    usIn: usTiming,
    usOut: usTiming,
    usDiff: usTiming,
    testnet: z.boolean().optional(),
  });
}

const CHART_COLUMNS = ['open', 'high', 'low', 'close', 'volume', 'cost'] as const;

/**
 * GET /api/v2/public/get_tradingview_chart_data result: parallel arrays, one entry per bar, `ticks`
 * being bar open times in epoch ms. `volume` is in base currency (BTC for BTC-PERPETUAL), `cost` in
 * quote (USD). With nothing in range: `status: "no_data"` and empty (or absent) arrays.
 * e.g. {"status":"ok","ticks":[1722816000000,1722816060000],"open":[54012.5,53980],"high":[54040,54001.5],
 *       "low":[53950,53921],"close":[53980,53940.5],"volume":[12.4321,8.0551],"cost":[671010,434586.6]}
 */
export const chartDataSchema = z.object({
  status: z.enum(['ok', 'no_data']),
  ticks: z.array(z.number().int()).default([]),
  open: z.array(z.number()).default([]),
  high: z.array(z.number()).default([]),
  low: z.array(z.number()).default([]),
  close: z.array(z.number()).default([]),
  volume: z.array(z.number()).default([]),
  cost: z.array(z.number()).default([]),
}).superRefine((r, ctx) => {
  // A ragged set of columns would silently shift prices onto the wrong bar: refuse it, naming the column.
  for (const col of CHART_COLUMNS) {
    if (r[col].length !== r.ticks.length) {
      ctx.addIssue({ code: 'custom', path: [col], message: `has ${r[col].length} values but ticks has ${r.ticks.length}` });
    }
  }
});

/** The chart-data response envelope. */
export const chartDataResponseSchema = envelope(chartDataSchema);

/**
 * GET /api/v2/public/get_volatility_index_data result: candles `[timeMs, open, high, low, close]` of
 * the DVOL index (annualised volatility points) and a `continuation` timestamp: when not null, more
 * (older) data exists and is fetched by passing it as `end_timestamp`.
 * e.g. {"data":[[1722816000000,51.2,53.87,51.05,53.4],[1722819600000,53.4,58.02,53.1,57.66]],"continuation":null}
 */
export const volatilityIndexSchema = z.object({
  data: z.array(z.tuple([z.number().int(), z.number(), z.number(), z.number(), z.number()])),
  continuation: z.number().int().nullable(),
});

/** The volatility-index response envelope. */
export const volatilityIndexResponseSchema = envelope(volatilityIndexSchema);

/**
 * GET /api/v2/public/get_funding_rate_history result: one entry per hour for a perpetual.
 * `interest_1h` is the funding accrued over the hour ending at `timestamp` (a fraction), and
 * `interest_8h` the trailing 8-hour sum; prices are the index price in USD.
 * e.g. [{"timestamp":1722816000000,"index_price":54120.83,"prev_index_price":55210.12,"interest_8h":-0.00004132,"interest_1h":-0.00001875}]
 */
export const fundingRateHistorySchema = z.array(z.object({
  timestamp: z.number().int(),
  index_price: z.number(),
  prev_index_price: z.number().optional(),
  interest_8h: z.number(),
  interest_1h: z.number(),
}));

/** The funding-history response envelope. */
export const fundingRateHistoryResponseSchema = envelope(fundingRateHistorySchema);

/**
 * Deribit's error envelope (usually with HTTP 400; 10028 may come with 429):
 * {"jsonrpc":"2.0","error":{"message":"Invalid params","data":{"reason":"instrument not found","param":"instrument_name"},"code":-32602},"usIn":1722816000123456,"usOut":1722816000123789,"usDiff":333,"testnet":false}
 * {"jsonrpc":"2.0","error":{"message":"too_many_requests","code":10028},"testnet":false}
 */
export const errorEnvelopeSchema = z.object({
  jsonrpc: z.literal('2.0').optional(),
  error: z.object({
    code: z.number().int(),
    message: z.string(),
    data: z.object({ reason: z.string().optional(), param: z.string().optional() }).loose().optional(),
  }),
});

/** Parsed chart-data result. */
export type ChartData = z.output<typeof chartDataSchema>;
/** One parsed DVOL candle. */
export type RawVolatilityCandle = z.output<typeof volatilityIndexSchema>['data'][number];
/** One parsed funding-history entry. */
export type RawFundingEntry = z.output<typeof fundingRateHistorySchema>[number];
