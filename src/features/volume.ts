/**
 * Activity features: log volume and its z-score against a trailing window. The z-score at t compares
 * bar t with the `window` bars before it (t−window … t−1), so it reads bars ≤ t only.
 */
import { AppError } from '../core/errors.ts';
import { checkWindow, CompensatedSum } from './returns.ts';

/**
 * `ln(1 + x)` elementwise: a log scale for volumes, quote volumes and trade counts that stays finite on
 * zero-activity bars. Negative or non-finite inputs give NaN.
 */
export function logActivity(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let t = 0; t < x.length; t++) {
    const v = x[t]!;
    out[t] = v >= 0 && Number.isFinite(v) ? Math.log1p(v) : Number.NaN;
  }
  return out;
}

/**
 * Trailing z-score: `z[t] = (x[t] − mean) / sd`, mean and sample sd (n − 1) over `x[t−window .. t−1]`
 * (the window before bar t, excluding it). NaN until `window` prior values exist, when x[t] or any value
 * of the window is non-finite; 0 when the window is constant (sd = 0). O(n): shifted running sums
 * (shifted by the series' first finite value, which precedes every defined output, so that Σx² does not
 * cancel).
 *
 * @param x - Values per bar (e.g. `logActivity(volume)`).
 * @param window - Trailing window in bars (e.g. 30 days of bars).
 * @returns Dimensionless z-scores.
 */
export function trailingZScore(x: Float64Array, window: number): Float64Array {
  checkWindow(window, 'trailingZScore');
  if (window < 2) throw new AppError('config', `trailingZScore: the window must hold at least 2 bars for a standard deviation, not ${window}.`, { context: { window } });
  const n = x.length;
  const out = new Float64Array(n).fill(Number.NaN);
  let pivot = Number.NaN;
  for (let t = 0; t < n; t++) {
    if (Number.isFinite(x[t]!)) {
      pivot = x[t]!;
      break;
    }
  }
  if (Number.isNaN(pivot)) return out;
  const s1 = new CompensatedSum();
  const s2 = new CompensatedSum();
  let bad = 0;
  // Invariant at the top of iteration t: the sums cover x[t−window .. t−1] (clipped at 0).
  for (let t = 0; t < n; t++) {
    if (t >= window && bad === 0) {
      const v = x[t]!;
      if (Number.isFinite(v)) {
        const mean = s1.value / window;
        const varS = Math.max(0, (s2.value - window * mean * mean) / (window - 1));
        const sd = Math.sqrt(varS);
        out[t] = sd > 0 ? (v - pivot - mean) / sd : 0;
      }
    }
    const v = x[t]!;
    if (Number.isFinite(v)) {
      const d = v - pivot;
      s1.add(d);
      s2.add(d * d);
    } else bad++;
    if (t >= window) {
      const old = x[t - window]!;
      if (Number.isFinite(old)) {
        const d = old - pivot;
        s1.add(-d);
        s2.add(-d * d);
      } else bad--;
    }
  }
  return out;
}
