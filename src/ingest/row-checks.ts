import { AppError } from '../core/errors.ts';
import { iso } from '../core/time.ts';
import type { Bar, DataKind, FundingRow, ImpliedVolRow, OpenInterestRow, RowOf } from './types.ts';
import { rowTime } from './types.ts';

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

/** Returns why a row of any kind is invalid, or undefined. */
export function rowProblem<K extends DataKind>(kind: K, row: RowOf<K>): RowProblem | undefined {
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
 * Checks a page of rows before anything is written: every row sound, strictly ascending time, inside
 * `[fromMs, toMs)`, and after `prevLastMs` (the last time of the previous page) when given. Throws a
 * `dataQuality` error naming where, which row and what; the caller then writes nothing of the page.
 * Exact duplicate rows are dropped and counted; duplicates that differ are an error.
 */
export function checkPage<K extends DataKind>(
  kind: K,
  rows: readonly RowOf<K>[],
  opts: RowOrigin & { fromMs?: number; toMs?: number; prevLastMs?: number },
): { rows: RowOf<K>[]; duplicates: number } {
  const out: RowOf<K>[] = [];
  let duplicates = 0;
  let last = opts.prevLastMs ?? -Infinity;
  const sym = opts.symbol ? ` ${opts.symbol}` : '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const t = rowTime(kind, row);
    const problem = rowProblem(kind, row);
    if (problem) throw new AppError('dataQuality', `${opts.where}${sym}: ${kind} row ${i} at ${safeIso(t)} is invalid: ${problem.message}.`, { context: { where: opts.where, symbol: opts.symbol, index: i, time: t, field: problem.field, problem: problem.message } });
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
  return Number.isFinite(t) ? iso(t) : String(t);
}
