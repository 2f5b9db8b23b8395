import type { Bar } from '../../src/ingest/types.ts';
import type { TestRequest, TestResponse } from './http-server.ts';

/** Formats a bar as a Binance kline array (decimal strings), as the venue sends it. */
export function toKline(b: Bar, stepMs = 3_600_000): unknown[] {
  return [b.openTimeMs, String(b.open), String(b.high), String(b.low), String(b.close), String(b.volume), b.openTimeMs + stepMs - 1, String(b.quoteVolume ?? 0), b.trades ?? 0, String(b.takerBuyBaseVolume ?? 0), '0', '0'];
}

/**
 * A minimal Binance klines route over in-memory bars with startTime/endTime/limit semantics, and a hook
 * that may rewrite each page (to inject faults: out of order, overlaps, duplicates, bad values).
 */
export function klinesRoute(bars: readonly Bar[], opts: { mutatePage?: (page: unknown[][], pageIndex: number) => unknown[][]; stepMs?: number } = {}): (req: TestRequest) => TestResponse {
  let pageIndex = 0;
  return (req) => {
    const start = Number(req.query.get('startTime') ?? 0);
    const end = Number(req.query.get('endTime') ?? Number.MAX_SAFE_INTEGER);
    const limit = Number(req.query.get('limit') ?? 500);
    let page = bars.filter((b) => b.openTimeMs >= start && b.openTimeMs <= end).slice(0, limit).map((b) => toKline(b, opts.stepMs));
    if (opts.mutatePage) page = opts.mutatePage(page, pageIndex);
    pageIndex++;
    return { body: JSON.stringify(page) };
  };
}
