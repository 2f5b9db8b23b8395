/**
 * Log returns and the O(n) rolling sums every realised measure is built on. Pure functions over
 * Float64Array; the value at index t reads inputs at indices ≤ t only.
 */
import { AppError } from '../core/errors.ts';

/**
 * Log returns of a close series: `r[0] = NaN`, `r[t] = ln(close[t] / close[t−1])`. Index t is the return
 * realised over bar t (from the close of bar t−1 to the close of bar t), so it is known at the close of
 * bar t. Bridged gaps (missing bars between t−1 and t) give one return across the gap.
 *
 * @param close - Closing prices, one per bar, ascending in time (any positive price unit).
 * @returns Log returns (dimensionless), same length as `close`.
 */
export function logReturns(close: Float64Array): Float64Array {
  const n = close.length;
  const r = new Float64Array(n);
  if (n > 0) r[0] = Number.NaN;
  for (let t = 1; t < n; t++) r[t] = Math.log(close[t]! / close[t - 1]!);
  return r;
}

/**
 * Throws a `config` error unless `window` is a positive integer; `what` names the caller in the message.
 * @internal Shared argument check of the rolling helpers.
 */
export function checkWindow(window: number, what: string): void {
  if (!Number.isInteger(window) || window < 1) {
    throw new AppError('config', `${what}: the window must be a positive whole number of bars, not ${window}.`, { context: { window } });
  }
}

/**
 * A Neumaier-compensated running sum: add and subtract in any order with an error of about one ulp of the
 * current total (plain `+=`/`−=` drifts, and after a spike leaves a window it can even turn a sum of
 * squares negative).
 */
export class CompensatedSum {
  private s = 0;
  private c = 0;

  /** Adds `v` (pass −v to remove it). */
  add(v: number): void {
    const t = this.s + v;
    if (Math.abs(this.s) >= Math.abs(v)) this.c += this.s - t + v;
    else this.c += v - t + this.s;
    this.s = t;
  }

  /** The compensated total. */
  get value(): number {
    return this.s + this.c;
  }
}

/**
 * Trailing rolling sum: `out[t] = Σ x[t−window+1 .. t]`, NaN until the window is full and whenever a
 * non-finite value lies inside it. O(n) with a compensated running sum, so the result does not depend
 * on how long the series is (no drift) and index t reads `x[0..t]` only.
 *
 * @param x - Values per bar.
 * @param window - Window length in bars (≥ 1).
 * @returns Sums, same length and units as `x`.
 */
export function rollingSum(x: Float64Array, window: number): Float64Array {
  checkWindow(window, 'rollingSum');
  const n = x.length;
  const out = new Float64Array(n);
  const acc = new CompensatedSum();
  let bad = 0;
  for (let t = 0; t < n; t++) {
    const v = x[t]!;
    if (Number.isFinite(v)) acc.add(v);
    else bad++;
    if (t >= window) {
      const old = x[t - window]!;
      if (Number.isFinite(old)) acc.add(-old);
      else bad--;
    }
    out[t] = t >= window - 1 && bad === 0 ? acc.value : Number.NaN;
  }
  return out;
}

/** `x[t]²` elementwise (NaN stays NaN). */
export function squared(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let t = 0; t < x.length; t++) out[t] = x[t]! * x[t]!;
  return out;
}

/** `x[t] × k` elementwise, in place; returns `x`. */
export function scaleInPlace(x: Float64Array, k: number): Float64Array {
  for (let t = 0; t < x.length; t++) x[t] = x[t]! * k;
  return x;
}

/** `max(x[t], 0)` elementwise, in place (NaN stays NaN); returns `x`. Sums of non-negative terms use it to drop −0-ish round-off. */
export function clampNonNegativeInPlace(x: Float64Array): Float64Array {
  for (let t = 0; t < x.length; t++) if (x[t]! < 0) x[t] = 0;
  return x;
}
