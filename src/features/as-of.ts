/**
 * As-of joins of irregular or coarser series (funding events, open interest, implied-vol bars) onto a
 * bar grid, without look-ahead.
 *
 * The rule: a row stamped `timeMs` becomes known at `timeMs + knownAfterMs`, where `knownAfterMs` is 0 for
 * events and point-in-time snapshots (a funding payment, an open-interest reading) and the row's period
 * for period bars (a daily implied-vol bar stamped at its open, 00:00, closes — and its close value is
 * known — only at 24:00). A bar is joined at its close `openTimeMs + intervalMs`: it takes the last row
 * already known then (`timeMs + knownAfterMs ≤ closeMs`, ties included), never a later one.
 */
import { AppError } from '../core/errors.ts';

/** Options of {@link asOfJoin}. */
export interface AsOfOptions {
  /** Delay between a row's stamp and the moment its value is known, ms (0 for events and snapshots, the period for period bars). */
  readonly knownAfterMs?: number;
  /** A value known longer ago than this (ms, measured from when it became known) is stale and gives NaN; default: never stale. */
  readonly maxAgeMs?: number;
  /** Names the series in error messages (e.g. `funding binance-usdm/BTCUSDT`). */
  readonly what?: string;
}

/**
 * Joins `values` (stamped `rowTimeMs`) onto the instants `atMs`: `out[i]` is the last finite value whose
 * row is known at or before `atMs[i]` (see the module rule), NaN when there is none or it is stale.
 * O(n + m) two-pointer scan.
 *
 * @param atMs - Join instants, epoch ms, ascending (bar close times).
 * @param rowTimeMs - Row stamps, epoch ms, ascending (ties allowed: the later row wins).
 * @param values - Row values, aligned with `rowTimeMs`.
 * @throws AppError `dataQuality` when rows are out of order or the arrays differ in length.
 */
export function asOfJoin(atMs: Float64Array, rowTimeMs: Float64Array, values: Float64Array, opts: AsOfOptions = {}): Float64Array {
  const knownAfter = opts.knownAfterMs ?? 0;
  const maxAge = opts.maxAgeMs ?? Number.POSITIVE_INFINITY;
  const what = opts.what ?? 'series';
  if (rowTimeMs.length !== values.length) {
    throw new AppError('dataQuality', `As-of join of ${what}: ${rowTimeMs.length} times but ${values.length} values; pass aligned arrays.`, { context: { what } });
  }
  for (let k = 1; k < rowTimeMs.length; k++) {
    if (!(rowTimeMs[k]! >= rowTimeMs[k - 1]!)) {
      throw new AppError('dataQuality', `As-of join of ${what}: row ${k} (time ${rowTimeMs[k]}) comes before row ${k - 1} (time ${rowTimeMs[k - 1]}); rows must be ascending in time.`, { context: { what, row: k } });
    }
  }
  const n = atMs.length;
  const m = rowTimeMs.length;
  const out = new Float64Array(n);
  let k = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    const at = atMs[i]!;
    while (k < m && rowTimeMs[k]! + knownAfter <= at) {
      if (Number.isFinite(values[k]!)) last = k;
      k++;
    }
    out[i] = last >= 0 && at - (rowTimeMs[last]! + knownAfter) <= maxAge ? values[last]! : Number.NaN;
  }
  return out;
}

/**
 * Exact-time alignment: `out[i]` = `values[j]` where `srcTimeMs[j] === atMs[i]`, NaN where the source
 * has no row at that instant. Both time arrays ascending; O(n + m).
 */
export function alignExact(atMs: Float64Array, srcTimeMs: Float64Array, values: Float64Array): Float64Array {
  const n = atMs.length;
  const out = new Float64Array(n).fill(Number.NaN);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const at = atMs[i]!;
    while (j < srcTimeMs.length && srcTimeMs[j]! < at) j++;
    if (j < srcTimeMs.length && srcTimeMs[j] === at) out[i] = values[j]!;
  }
  return out;
}
