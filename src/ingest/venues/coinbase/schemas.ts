import { z } from 'zod';

/**
 * One candle of GET /products/{product_id}/candles, as JSON numbers. Note the column order, which
 * differs from the usual OHLC: [time (epoch **seconds**, bucket start), low, high, open, close, volume (base)].
 * e.g. [1722816000, 53650.01, 54380.5, 54012.33, 53892.17, 1180.66931417]
 */
export const candleSchema = z.tuple([
  z.number().int(),
  z.number(),
  z.number(),
  z.number(),
  z.number(),
  z.number(),
]);

/** The candles response: at most 300 candles, **newest first**; buckets without trades are omitted. */
export const candlesSchema = z.array(candleSchema);

/**
 * Coinbase Exchange's error body, e.g. {"message":"NotFound"} (404, unknown product),
 * {"message":"Unsupported granularity"} (400), {"message":"Public rate limit exceeded"} (429).
 */
export const errorSchema = z.object({ message: z.string() });

/** Raw candle tuple type. */
export type RawCandle = z.output<typeof candleSchema>;
