import { AppError } from '../core/errors.ts';
import { intervalMs, isInterval, iso } from '../core/time.ts';
import type { Bar, DataKind, FundingRow, ImpliedVolRow, OpenInterestRow, RowOf } from './types.ts';
import { rowTime } from './types.ts';

/** The earliest time liqcal stores, epoch ms: 2009-01-01T00:00:00Z (before any crypto market traded). */
export const EARLIEST_PLAUSIBLE_MS = Date.UTC(2009, 0, 1);
/** Funding events are 8-hourly on most venues: the step of funding series and their allowance into the future, ms. */
export const FUNDING_STEP_MS = 8 * 3_600_000;

/**
 * The time rules a stored row obeys. `stepMs` is the series' interval in ms (rows must sit on its grid:
 * `t % stepMs === 0`), or 0 for funding events, which are irregular. `nowMs` is the clock: a row may lie at most
 * one interval (funding: 8 h) after it. Build them with {@link timeRules}.
 */
export interface TimeRules {
  readonly stepMs: number;
  readonly nowMs: number;
}

/**
 * The time rules of a series of `kind` with `interval` (ignored for funding) as of `nowMs`. Throws a `config` error
 * when `interval` is not a bar interval liqcal knows (such a series can be neither checked nor read).
 */
export function timeRules(kind: DataKind, interval: string, nowMs: number): TimeRules {
  if (kind === 'funding') return { stepMs: 0, nowMs };
  if (!isInterval(interval)) throw new AppError('config', `"${safeText(interval)}" is not a bar interval liqcal knows, so ${kind} rows cannot be stored under it; use one of 1m, 5m, 15m, 1h, 4h, 1d….`, { context: { kind, interval } });
  return { stepMs: intervalMs(interval), nowMs };
}

/** The latest time a row may carry under `rules`, epoch ms. */
export function latestPlausibleMs(rules: TimeRules): number {
  return rules.nowMs + (rules.stepMs > 0 ? rules.stepMs : FUNDING_STEP_MS);
}

/**
 * What unit an implausible epoch-ms value looks like, as a phrase for messages: "seconds (2024-01-01T00:00:00.000Z
 * once × 1000)", "microseconds (… once ÷ 1000)", "nanoseconds (… once ÷ 1,000,000)", or undefined when no unit
 * puts it in the plausible window.
 */
export function likelyTimeUnit(t: number, latestMs: number): string | undefined {
  const fits = (x: number): boolean => x >= EARLIEST_PLAUSIBLE_MS && x <= latestMs;
  if (fits(t * 1000)) return `seconds (${iso(t * 1000)} once × 1000)`;
  if (fits(t / 1000)) return `microseconds (${iso(Math.floor(t / 1000))} once ÷ 1000)`;
  if (fits(t / 1e6)) return `nanoseconds (${iso(Math.floor(t / 1e6))} once ÷ 1,000,000)`;
  return undefined;
}

/**
 * Returns why a row time is not storable under `rules`, or undefined: not a safe integer of epoch ms, before
 * {@link EARLIEST_PLAUSIBLE_MS}, after the clock plus one interval, or off the interval grid. The message names the
 * value, the window, and the unit the value looks like when it is not milliseconds.
 */
export function timeProblem(t: number, field: string, rules: TimeRules): RowProblem | undefined {
  if (!Number.isSafeInteger(t)) return { field, message: `${field} ${String(t)} is not an integer of epoch milliseconds` };
  const latest = latestPlausibleMs(rules);
  if (t < EARLIEST_PLAUSIBLE_MS || t > latest) {
    const unit = likelyTimeUnit(t, latest);
    const asMs = Math.abs(t) > 8.64e15 ? 'beyond any date' : iso(t);
    const bound = t < EARLIEST_PLAUSIBLE_MS ? `before ${iso(EARLIEST_PLAUSIBLE_MS)}` : `after the clock plus one interval, ${iso(latest)}`;
    return { field, message: `${field} ${t} is not a plausible epoch-ms time (${asMs}, ${bound})${unit ? `; it looks like ${unit}` : `; times must be epoch milliseconds from ${iso(EARLIEST_PLAUSIBLE_MS)} to ${iso(latest)}`}` };
  }
  if (rules.stepMs > 0 && t % rules.stepMs !== 0) {
    return { field, message: `${field} ${t} (${iso(t)}) is not on the ${rules.stepMs / 60_000}-minute interval grid (open times must be multiples of ${rules.stepMs} ms); check the interval` };
  }
  return undefined;
}

/** The normalised time field of `kind` (`openTimeMs`, `fundingTimeMs`, `timeMs`). */
export function timeField(kind: DataKind): string {
  return kind === 'bars' ? 'openTimeMs' : kind === 'funding' ? 'fundingTimeMs' : 'timeMs';
}

/** Where rows came from, for error messages: a venue endpoint or a file and line. */
export interface RowOrigin {
  readonly where: string;
  readonly symbol?: string;
}

const finite = (x: number | undefined): boolean => x === undefined || Number.isFinite(x);

/** What is wrong with a row: the normalised field at fault (e.g. `high`, `fundingTimeMs`) and a sentence about it. */
export interface RowProblem {
  readonly field: string;
  readonly message: string;
}

/** Returns why a bar is invalid (non-finite or non-positive prices, high < low, OHLC inconsistent, negative volume), or undefined when it is sound. */
export function barProblem(b: Bar): RowProblem | undefined {
  if (!Number.isFinite(b.openTimeMs) || !Number.isInteger(b.openTimeMs) || b.openTimeMs < 0) return { field: 'openTimeMs', message: `open time ${String(b.openTimeMs)} is not a valid epoch-ms integer` };
  for (const k of ['open', 'high', 'low', 'close'] as const) {
    const v = b[k];
    if (!Number.isFinite(v)) return { field: k, message: `${k} is ${String(v)}, not a finite number` };
    if (v <= 0) return { field: k, message: `${k} is ${v}, not positive` };
  }
  if (b.high < b.low) return { field: 'high', message: `high ${b.high} < low ${b.low}` };
  if (b.high < Math.max(b.open, b.close)) return { field: 'high', message: `high ${b.high} is below max(open ${b.open}, close ${b.close})` };
  if (b.low > Math.min(b.open, b.close)) return { field: 'low', message: `low ${b.low} is above min(open ${b.open}, close ${b.close})` };
  if (!Number.isFinite(b.volume) || b.volume < 0) return { field: 'volume', message: `volume is ${b.volume}, not a finite non-negative number` };
  if (!finite(b.quoteVolume) || (b.quoteVolume ?? 0) < 0) return { field: 'quoteVolume', message: `quote volume is ${String(b.quoteVolume)}` };
  if (!finite(b.trades) || (b.trades ?? 0) < 0) return { field: 'trades', message: `trades is ${String(b.trades)}` };
  if (!finite(b.takerBuyBaseVolume) || (b.takerBuyBaseVolume ?? 0) < 0) return { field: 'takerBuyBaseVolume', message: `taker-buy volume is ${String(b.takerBuyBaseVolume)}` };
  return undefined;
}

/**
 * Returns why a row of any kind is invalid, or undefined. With `rules`, its time must also be storable
 * ({@link timeProblem}: plausible window and interval grid) — the check every path into the store shares.
 */
export function rowProblem<K extends DataKind>(kind: K, row: RowOf<K>, rules?: TimeRules): RowProblem | undefined {
  if (rules) {
    const bad = timeProblem(rowTime(kind, row), timeField(kind), rules);
    if (bad) return bad;
  }
  switch (kind) {
    case 'bars': return barProblem(row as Bar);
    case 'funding': {
      const f = row as FundingRow;
      if (!Number.isFinite(f.fundingTimeMs) || f.fundingTimeMs < 0) return { field: 'fundingTimeMs', message: `funding time ${String(f.fundingTimeMs)} is invalid` };
      if (!Number.isFinite(f.rate) || Math.abs(f.rate) > 1) return { field: 'rate', message: `funding rate ${String(f.rate)} is not a finite fraction in [-1, 1]` };
      if (f.markPrice !== undefined && !(Number.isFinite(f.markPrice) && f.markPrice > 0)) return { field: 'markPrice', message: `mark price ${String(f.markPrice)} is not positive` };
      return undefined;
    }
    case 'openInterest': {
      const o = row as OpenInterestRow;
      if (!Number.isFinite(o.timeMs) || o.timeMs < 0) return { field: 'timeMs', message: `time ${String(o.timeMs)} is invalid` };
      if (!Number.isFinite(o.openInterest) || o.openInterest < 0) return { field: 'openInterest', message: `open interest ${String(o.openInterest)} is not a finite non-negative number` };
      if (!finite(o.openInterestValue) || (o.openInterestValue ?? 0) < 0) return { field: 'openInterestValue', message: `open-interest value ${String(o.openInterestValue)} is invalid` };
      return undefined;
    }
    case 'impliedVol': {
      const v = row as ImpliedVolRow;
      if (!Number.isFinite(v.timeMs) || v.timeMs < 0) return { field: 'timeMs', message: `time ${String(v.timeMs)} is invalid` };
      for (const k of ['open', 'high', 'low', 'close'] as const) {
        const x = v[k];
        if (x !== undefined && !(Number.isFinite(x) && x > 0)) return { field: k, message: `${k} ${String(x)} is not a positive number` };
      }
      return undefined;
    }
    default: return { field: 'kind', message: `unknown kind ${String(kind)}` };
  }
}

/**
 * Checks a page of rows before anything is written: every row sound (with `interval`: on its grid; always: inside
 * the plausible time window as of `nowMs`, default the wall clock), strictly ascending time, inside
 * `[fromMs, toMs)`, and after `prevLastMs` (the last time of the previous page) when given. Throws a
 * `dataQuality` error naming where, which row and what; the caller then writes nothing of the page.
 * Exact duplicate rows are dropped and counted; duplicates that differ are an error.
 */
export function checkPage<K extends DataKind>(
  kind: K,
  rows: readonly RowOf<K>[],
  opts: RowOrigin & { fromMs?: number; toMs?: number; prevLastMs?: number; interval?: string; nowMs?: number },
): { rows: RowOf<K>[]; duplicates: number } {
  const rules: TimeRules = opts.interval !== undefined ? timeRules(kind, opts.interval, opts.nowMs ?? Date.now()) : { stepMs: 0, nowMs: opts.nowMs ?? Date.now() };
  const out: RowOf<K>[] = [];
  let duplicates = 0;
  let last = opts.prevLastMs ?? -Infinity;
  const sym = opts.symbol ? ` ${opts.symbol}` : '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const t = rowTime(kind, row);
    const problem = rowProblem(kind, row, rules);
    if (problem) throw new AppError('dataQuality', `${opts.where}${sym}: ${kind} row ${i} at ${safeIso(t)} is invalid: ${problem.message}. Nothing of this page was stored.`, { context: { where: opts.where, symbol: opts.symbol, index: i, time: t, field: problem.field, problem: problem.message } });
    if (opts.fromMs !== undefined && t < opts.fromMs) throw new AppError('dataQuality', `${opts.where}${sym}: ${kind} row ${i} at ${safeIso(t)} is before the requested start ${safeIso(opts.fromMs)}.`, { context: { where: opts.where, index: i, time: t } });
    if (opts.toMs !== undefined && t >= opts.toMs) throw new AppError('dataQuality', `${opts.where}${sym}: ${kind} row ${i} at ${safeIso(t)} is at or after the requested end ${safeIso(opts.toMs)}.`, { context: { where: opts.where, index: i, time: t } });
    if (t === last) {
      const prev = out[out.length - 1];
      if (prev !== undefined && sameRow(prev, row)) { duplicates++; continue; }
      throw new AppError('dataQuality', `${opts.where}${sym}: two different ${kind} rows share the time ${safeIso(t)} (row ${i}).`, { context: { where: opts.where, index: i, time: t } });
    }
    if (t < last) throw new AppError('dataQuality', `${opts.where}${sym}: ${kind} rows are out of order: row ${i} at ${safeIso(t)} comes after ${safeIso(last)}.`, { context: { where: opts.where, index: i, time: t, previous: last } });
    out.push(row);
    last = t;
  }
  return { rows: out, duplicates };
}

function sameRow(a: object, b: object): boolean {
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function safeIso(t: number): string {
  return iso(t);
}

/** `s` with control characters shown as escapes (for a name that came from outside, inside a message). */
function safeText(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
