import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import type { Interval } from '../../core/time.ts';
import type { HttpClient, HttpOptions } from '../http.ts';
import type { DataKind, MarketDataSource, RangeQuery, RowOf, VenueId } from '../types.ts';

/**
 * A decimal number as the venues send prices, sizes and rates in JSON: a string such as
 * "64628.01000000", "60718.4" or "-0.00002845" (an exponent, "1e-8", is accepted too).
 */
export const decimalString = z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'Expected a decimal string');

/** An epoch-ms timestamp sent as a string of digits (Bybit, OKX), such as "1722729600000", parsed to a number. */
export const epochMsString = z.string().regex(/^\d{1,16}$/, 'Expected epoch milliseconds as a string of digits').transform(Number);

/** Options shared by every venue source. */
export interface VenueSourceOptions {
  /** Override the venue's public base URL (a replay server on loopback in tests, a proxy). */
  readonly baseUrl?: string;
  /** HTTP overrides (rate limit, retries, sleep…) over the adapter's defaults; the venue and base URL are fixed by the adapter. */
  readonly http?: Partial<Omit<HttpOptions, 'venue' | 'baseUrl'>>;
}

/**
 * The `notSupported` error for a data kind a venue does not serve: "`venue` does not serve `kind`."
 * or, given `served`, "`venue` does not serve `kind`; it serves `served`.".
 */
export function notServed(venue: VenueId, kind: DataKind, served?: string): AppError {
  return new AppError('notSupported', `${venue} does not serve ${kind}${served !== undefined ? `; it serves ${served}` : ''}.`, { context: { venue, kind } });
}

/** What {@link makeSource} assembles a source from. */
export interface SourceParts<E extends object> {
  readonly venue: VenueId;
  /** Which kinds the source serves. */
  readonly has: Readonly<Record<DataKind, boolean>>;
  /** Intervals the venue serves bars in. */
  readonly intervals: readonly Interval[];
  /** The client the source fetches with, exposed on the source (tests and callers read its options). */
  readonly http: HttpClient;
  /** Fetches one kind as ascending pages of that kind's rows (typed loosely; {@link makeSource} types them by kind). */
  readonly fetchKind: (kind: DataKind, q: RangeQuery) => AsyncIterable<readonly unknown[]>;
  /** Venue-specific fields to expose on the source as well (e.g. Bybit's `category`). */
  readonly extra?: E;
}

/** Assembles a venue's {@link MarketDataSource} (plus its HttpClient and any `extra` fields) from its parts. */
export function makeSource<E extends object = Record<never, never>>(parts: SourceParts<E>): MarketDataSource & { readonly http: HttpClient } & E {
  const { venue, has, intervals, http, fetchKind, extra } = parts;
  return {
    venue,
    ...(extra as E),
    has,
    intervals,
    http,
    fetch: <K extends DataKind>(kind: K, q: RangeQuery) => fetchKind(kind, q) as AsyncIterable<readonly RowOf<K>[]>,
  };
}
