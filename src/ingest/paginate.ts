/**
 * Pagination helpers shared by the venue clients. They only move the cursor; the backfill checks
 * every page (order, overlap, duplicates, sound rows) before writing it.
 */

/** Options for {@link pagesBySince}. */
export interface SincePagination<R> {
  readonly fromMs: number;
  /** Exclusive end; rows at or after it are dropped. */
  readonly toMs: number;
  /** The venue's page size: a shorter page means the range is exhausted. */
  readonly limit: number;
  readonly timeOf: (row: R) => number;
  /** Fetches up to `limit` rows with time ≥ `sinceMs`, ascending. */
  readonly fetchPage: (sinceMs: number) => Promise<readonly R[]>;
  /** Where the next page starts after a page ending at `lastMs` (last + interval for bars, last + 1 for events). */
  readonly nextSince: (lastMs: number) => number;
}

/** Walks a `since`+`limit` endpoint forward (Binance, Hyperliquid style). */
export async function* pagesBySince<R>(p: SincePagination<R>): AsyncGenerator<readonly R[]> {
  let since = p.fromMs;
  while (since < p.toMs) {
    const raw = await p.fetchPage(since);
    if (raw.length === 0) return;
    const rows = raw.filter((r) => p.timeOf(r) < p.toMs);
    if (rows.length > 0) yield rows;
    const last = p.timeOf(raw[raw.length - 1]!);
    const next = p.nextSince(last);
    if (raw.length < p.limit || rows.length < raw.length || next <= since) return;
    since = next;
  }
}

/** Options for {@link pagesByWindow}. */
export interface WindowPagination<R> {
  readonly fromMs: number;
  readonly toMs: number;
  /** Width of one request window in ms; at most `limit` rows must fit in it. */
  readonly windowMs: number;
  readonly timeOf: (row: R) => number;
  /** Fetches the rows with time in `[startMs, endMs)`, ascending (the client normalises venue order). */
  readonly fetchWindow: (startMs: number, endMs: number) => Promise<readonly R[]>;
}

/** Walks a venue that takes explicit `[start, end]` windows (Bybit, OKX, Coinbase, Deribit style). */
export async function* pagesByWindow<R>(p: WindowPagination<R>): AsyncGenerator<readonly R[]> {
  for (let start = p.fromMs; start < p.toMs; start += p.windowMs) {
    const end = Math.min(p.toMs, start + p.windowMs);
    const rows = (await p.fetchWindow(start, end)).filter((r) => p.timeOf(r) < p.toMs);
    if (rows.length > 0) yield rows;
  }
}

/**
 * Fetches every row in `[startMs, endMs)` from a newest-first endpoint that answers with the newest
 * `limit` rows at or before its end cursor (Bybit, OKX): walks the cursor back until a short page or
 * the window start, and returns the rows ascending. Used inside {@link pagesByWindow} when a window
 * may hold more rows than one page (e.g. funding more often than assumed).
 */
export async function collectBackward<R>(startMs: number, endMs: number, limit: number, timeOf: (r: R) => number, fetchPage: (startMs: number, endInclusiveMs: number) => Promise<readonly R[]>): Promise<R[]> {
  const pages: R[][] = [];
  let end = endMs - 1;
  for (;;) {
    const raw = await fetchPage(startMs, end);
    const rows = raw.filter((r) => timeOf(r) >= startMs && timeOf(r) <= end).sort((a, b) => timeOf(a) - timeOf(b));
    if (rows.length > 0) pages.unshift(rows);
    if (raw.length < limit || rows.length === 0) break;
    const oldest = timeOf(rows[0]!);
    if (oldest <= startMs) break;
    end = oldest - 1;
  }
  return pages.flat();
}
