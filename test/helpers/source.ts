import { AppError } from '../../src/core/errors.ts';
import { epochMs, type Interval } from '../../src/core/time.ts';
import type { HttpOptions } from '../../src/ingest/http.ts';
import type { DataKind, MarketDataSource, RangeQuery, RowOf } from '../../src/ingest/types.ts';

/** A range query for `symbol` at `interval` over `[fromMs, toMs)`, from plain epoch-ms numbers. */
export const q = (symbol: string, interval: Interval, fromMs: number, toMs: number): RangeQuery => ({ symbol, interval, fromMs: epochMs(fromMs), toMs: epochMs(toMs) });

/** HTTP overrides for sources aimed at a loopback test server: no client-side rate limit, and retries that do not wait. */
export const FAST_HTTP = { requestsPerSecond: 0, sleep: async (): Promise<void> => {} } as const satisfies Partial<HttpOptions>;

/** Drains a source's pages: every row, in order, and how many pages carried them. */
export async function collect<R>(pages: AsyncIterable<readonly R[]>): Promise<{ rows: R[]; pages: number }> {
  const rows: R[] = [];
  let count = 0;
  for await (const page of pages) { rows.push(...page); count++; }
  return { rows, pages: count };
}

/** Fetches `kind` of `symbol` over `[fromMs, toMs)` from `src` and returns each page as it came (`.flat()` for the rows). */
export async function fetchPages<K extends DataKind>(src: MarketDataSource, kind: K, symbol: string, interval: Interval, fromMs: number, toMs: number): Promise<RowOf<K>[][]> {
  const pages: RowOf<K>[][] = [];
  for await (const page of src.fetch(kind, q(symbol, interval, fromMs, toMs))) pages.push([...page]);
  return pages;
}

/**
 * The AppError that a fetch fails with: `work` is a source's pages (drained here) or a promise (awaited).
 * Throws if it succeeds, and rethrows anything that is not an AppError, so a test gets a typed error back.
 */
export async function failure(work: AsyncIterable<unknown> | Promise<unknown>): Promise<AppError> {
  try {
    if (Symbol.asyncIterator in work) for await (const _ of work) void _;
    else await work;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected the fetch to fail');
}
