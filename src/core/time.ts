import { AppError } from './errors.ts';

/** Milliseconds since the Unix epoch, UTC. Branded so that plain numbers are not passed by mistake. */
export type EpochMs = number & { readonly __brand: 'EpochMs' };

/** Brands a number as epoch milliseconds (no runtime cost). */
export const epochMs = (n: number): EpochMs => n as EpochMs;

/** Bar intervals liqcal understands, as venues spell them in Binance's wire format. */
export const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'] as const;
/** A bar interval such as `1h`. */
export type Interval = (typeof INTERVALS)[number];

const MINUTE = 60_000;
const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '8h': 480 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': 1440 * MINUTE,
};

/** True when `s` is a supported interval. */
export function isInterval(s: string): s is Interval {
  return (INTERVALS as readonly string[]).includes(s);
}

/** Parses an interval, or throws a `config` error listing the valid ones. */
export function parseInterval(s: string): Interval {
  if (!isInterval(s)) throw new AppError('config', `Unknown interval "${s}": use one of ${INTERVALS.join(', ')}.`, { context: { interval: s } });
  return s;
}

/** Length of one bar of `interval`, in milliseconds. */
export function intervalMs(interval: Interval): number {
  return INTERVAL_MS[interval];
}

/** Parses an ISO-8601 instant (date-only means UTC midnight) or epoch ms digits; throws a `config` error otherwise. */
export function parseInstant(s: string, what = 'time'): EpochMs {
  const t = /^\d{10,14}$/.test(s) ? Number(s) : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  if (!Number.isFinite(t)) throw new AppError('config', `Cannot read ${what} "${s}": give an ISO-8601 UTC time such as 2024-08-01 or 2024-08-01T00:00:00Z, or epoch milliseconds.`, { context: { [what]: s } });
  return t as EpochMs;
}

/** The largest |epoch ms| a JavaScript Date can hold (±275,760 years around 1970). */
const DATE_LIMIT_MS = 8.64e15;

/**
 * Formats epoch ms as ISO-8601 UTC. Total: a value no Date can hold (NaN, ±Infinity, |t| > 8.64e15) is returned as
 * `invalid time <t>` instead of throwing, so a reader never crashes on what a store or a payload holds.
 */
export function iso(t: number): string {
  if (!Number.isFinite(t) || Math.abs(t) > DATE_LIMIT_MS) return `invalid time ${String(t)}`;
  return new Date(t).toISOString();
}

/** Rounds `t` down to the start of its bar. */
export function floorToInterval(t: number, interval: Interval): EpochMs {
  const ms = intervalMs(interval);
  return (Math.floor(t / ms) * ms) as EpochMs;
}

/** A source of the current time, injected so that pure code never calls `Date.now()`. */
export interface Clock {
  /** The current time. */
  now(): EpochMs;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() as EpochMs };

/** A clock fixed at `t` (tests, replays). */
export function fixedClock(t: number): Clock {
  return { now: () => t as EpochMs };
}
