/**
 * Multi-venue reference price: the median of fresh, valid quotes after rejecting outliers. One venue
 * printing a bad price (a thin book, a stuck feed, a wick) must not move the price liquidations use.
 */
import { AppError } from '../core/errors.ts';
import { intervalMs, isInterval, iso } from '../core/time.ts';
import type { MarketData, SeriesKey } from '../store/market-data.ts';
import type { Bar } from './types.ts';

/** One venue's price observation. `timeMs` is when the price was observed (epoch ms). */
export interface Quote {
  readonly source: string;
  readonly price: number;
  readonly timeMs: number;
}

/** Why a quote was left out. */
export type ExclusionReason = 'stale' | 'nonPositive' | 'notFinite' | 'outlier';

/** A quote left out, with a sentence saying why (e.g. "okx last update 312 s ago > max age 120 s"). */
export interface Exclusion {
  readonly source: string;
  readonly reason: ExclusionReason;
  readonly detail: string;
}

/** Options for {@link referencePrice}. */
export interface ReferencePriceOptions {
  /** The time the price is for, epoch ms. */
  readonly nowMs: number;
  /** A quote older than this (nowMs − timeMs, ms) is stale. Quotes stamped after `nowMs` (clock skew) count as fresh. */
  readonly maxAgeMs: number;
  /** Relative distance from the first-pass median beyond which a quote is an outlier (default 0.02 = 2 %). */
  readonly maxDeviation?: number;
  /** Fewest quotes that must survive for the price to be `ok` (default 1). */
  readonly minSources?: number;
}

/** A reference price and how it was reached. */
export interface ReferencePrice {
  /** The median of the quotes used; undefined when none survived. Set even when `ok` is false for lack of sources. */
  readonly price: number | undefined;
  /** The first-pass median over all fresh valid quotes, before outlier rejection (undefined when none). */
  readonly median: number | undefined;
  /** Sources whose quotes make up `price`, in input order. */
  readonly used: string[];
  readonly excluded: Exclusion[];
  /** True when at least `minSources` quotes were used. */
  readonly ok: boolean;
}

/**
 * Computes a robust reference price from venue quotes:
 * 1. drop quotes whose price is not finite, not positive, or whose time is not finite or older than `maxAgeMs`;
 * 2. m₀ = median of the remaining prices;
 * 3. reject every quote with |p − m₀| / m₀ > `maxDeviation`;
 * 4. price = median of the survivors (the mean of the two middle values for an even count).
 *
 * With two quotes further apart than ~2·maxDeviation both are rejected: with nothing to break the tie
 * there is no trustworthy price, so `ok` is false rather than a guess. Pure: time comes from `opts.nowMs`.
 */
export function referencePrice(quotes: readonly Quote[], opts: ReferencePriceOptions): ReferencePrice {
  const maxDeviation = opts.maxDeviation ?? 0.02;
  const minSources = opts.minSources ?? 1;
  checkOptions(opts.nowMs, opts.maxAgeMs, maxDeviation, minSources);
  const excluded: Exclusion[] = [];
  const fresh: Quote[] = [];
  for (const q of quotes) {
    if (!Number.isFinite(q.price)) excluded.push({ source: q.source, reason: 'notFinite', detail: `${q.source} price ${String(q.price)} is not a finite number` });
    else if (q.price <= 0) excluded.push({ source: q.source, reason: 'nonPositive', detail: `${q.source} price ${q.price} is not positive` });
    else if (!Number.isFinite(q.timeMs)) excluded.push({ source: q.source, reason: 'notFinite', detail: `${q.source} update time ${String(q.timeMs)} is not a finite epoch-ms time` });
    else if (opts.nowMs - q.timeMs > opts.maxAgeMs) {
      excluded.push({ source: q.source, reason: 'stale', detail: `${q.source} last update ${seconds(opts.nowMs - q.timeMs)} ago > max age ${seconds(opts.maxAgeMs)} (at ${iso(q.timeMs)})` });
    } else fresh.push(q);
  }
  if (fresh.length === 0) return { price: undefined, median: undefined, used: [], excluded, ok: false };
  const m0 = median(fresh.map((q) => q.price));
  const used: Quote[] = [];
  for (const q of fresh) {
    const dev = Math.abs(q.price - m0) / m0;
    if (dev > maxDeviation) {
      excluded.push({ source: q.source, reason: 'outlier', detail: `${q.source} price ${q.price} is ${pct(dev)} from the median ${m0} of ${fresh.length} fresh sources > max deviation ${pct(maxDeviation)}` });
    } else used.push(q);
  }
  const price = used.length ? median(used.map((q) => q.price)) : undefined;
  return { price, median: m0, used: used.map((q) => q.source), excluded, ok: price !== undefined && used.length >= minSources };
}

/** One stored bar series to read a price from. */
export type StoreSource = SeriesKey;

/** Options for {@link referencePriceFromStore}. */
export interface StoreReferenceOptions extends Omit<ReferencePriceOptions, 'nowMs'> {
  /** Bar series to take closes from; each is named `venue:symbol:interval` in the result. */
  readonly sources: readonly StoreSource[];
  /** The time the price is for, epoch ms. */
  readonly atMs: number;
}

/** {@link ReferencePrice} plus the quote taken from each source (closes of completed bars). */
export interface StoreReferencePrice extends ReferencePrice {
  readonly atMs: number;
  readonly quotes: (Quote & { readonly openTimeMs: number })[];
}

/**
 * Reference price from stored bars as of `atMs`: for each source, the close of the latest bar that had
 * closed by `atMs` (open time + interval ≤ atMs), observed at its close time, so its age is
 * `atMs − (openTime + interval)`. A bar still open at `atMs` is not used: its close lies in the future
 * of `atMs` (look-ahead). A source with no such bar within `maxAgeMs` is excluded as stale.
 */
export function referencePriceFromStore(md: MarketData, opts: StoreReferenceOptions): StoreReferencePrice {
  checkOptions(opts.atMs, opts.maxAgeMs, opts.maxDeviation ?? 0.02, opts.minSources ?? 1);
  const quotes: (Quote & { openTimeMs: number })[] = [];
  const missing: Exclusion[] = [];
  for (const s of opts.sources) {
    if (!isInterval(s.interval)) throw new AppError('config', `Source ${s.venue}:${s.symbol} has interval "${s.interval}", which is not a bar interval.`, { context: { ...s } });
    const step = intervalMs(s.interval);
    const name = `${s.venue}:${s.symbol}:${s.interval}`;
    // Bars that closed within the max age: open in [atMs − maxAge − step, atMs − step].
    const rows = md.readRows('bars', { venue: s.venue, symbol: s.symbol, interval: s.interval }, { fromMs: Math.max(0, opts.atMs - opts.maxAgeMs - step), toMs: opts.atMs - step + 1 });
    const bar: Bar | undefined = rows[rows.length - 1];
    if (bar === undefined) {
      missing.push({ source: name, reason: 'stale', detail: `${name} has no bar that closed between ${iso(opts.atMs - opts.maxAgeMs)} and ${iso(opts.atMs)} (max age ${seconds(opts.maxAgeMs)})` });
      continue;
    }
    quotes.push({ source: name, price: bar.close, timeMs: bar.openTimeMs + step, openTimeMs: bar.openTimeMs });
  }
  const r = referencePrice(quotes, { nowMs: opts.atMs, maxAgeMs: opts.maxAgeMs, ...(opts.maxDeviation !== undefined ? { maxDeviation: opts.maxDeviation } : {}), ...(opts.minSources !== undefined ? { minSources: opts.minSources } : {}) });
  return { ...r, excluded: [...missing, ...r.excluded], atMs: opts.atMs, quotes };
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new AppError('internal', 'median of an empty list.');
  const s = Float64Array.from(xs).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function checkOptions(nowMs: number, maxAgeMs: number, maxDeviation: number, minSources: number): void {
  const bad = (what: string, v: number, want: string): AppError => new AppError('config', `Reference price: ${what} is ${v}; it must be ${want}.`, { context: { [what]: v } });
  if (!Number.isFinite(nowMs)) throw bad('the time', nowMs, 'a finite epoch-ms time');
  if (!(Number.isFinite(maxAgeMs) && maxAgeMs >= 0)) throw bad('maxAgeMs', maxAgeMs, 'a non-negative number of ms');
  if (!(Number.isFinite(maxDeviation) && maxDeviation > 0)) throw bad('maxDeviation', maxDeviation, 'a positive fraction such as 0.02');
  if (!(Number.isInteger(minSources) && minSources >= 1)) throw bad('minSources', minSources, 'a whole number ≥ 1');
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}
