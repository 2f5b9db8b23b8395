/**
 * Cross-asset features against a reference asset (BTC): rolling beta and correlation of log returns.
 * Both series must already be on the same bar grid; index t reads indices ≤ t only.
 */
import { checkWindow, CompensatedSum } from './returns.ts';

/** Rolling regression statistics of `y` on `x`. */
export interface RollingBetaCorr {
  /** OLS slope of y on x over the window: cov(x, y) / var(x). */
  readonly beta: Float64Array;
  /** Pearson correlation of x and y over the window. */
  readonly corr: Float64Array;
}

/**
 * Rolling beta and correlation of `y` (the asset's returns) on `x` (the reference's returns) over the
 * trailing `window` bars `[t−window+1, t]`, using the pairs where both are finite. NaN before the window
 * is full (t < window − 1), when fewer than `minValidFraction × window` pairs are finite, or when a
 * variance is 0. O(n) with compensated running sums.
 *
 * @param y - Asset log returns per bar.
 * @param x - Reference log returns on the same grid (NaN where the reference has no bar).
 * @param window - Window in bars (e.g. 30 days of bars).
 * @param minValidFraction - Share of finite pairs required in a window (default 0.9).
 */
export function rollingBetaCorr(y: Float64Array, x: Float64Array, window: number, minValidFraction = 0.9): RollingBetaCorr {
  checkWindow(window, 'rollingBetaCorr');
  const n = y.length;
  const beta = new Float64Array(n).fill(Number.NaN);
  const corr = new Float64Array(n).fill(Number.NaN);
  const need = Math.max(2, Math.ceil(minValidFraction * window));
  const sx = new CompensatedSum();
  const sy = new CompensatedSum();
  const sxx = new CompensatedSum();
  const syy = new CompensatedSum();
  const sxy = new CompensatedSum();
  let count = 0;
  const update = (i: number, sign: 1 | -1): void => {
    const a = x[i]!;
    const b = y[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(b)) return;
    sx.add(sign * a);
    sy.add(sign * b);
    sxx.add(sign * a * a);
    syy.add(sign * b * b);
    sxy.add(sign * a * b);
    count += sign;
  };
  for (let t = 0; t < n; t++) {
    update(t, 1);
    if (t >= window) update(t - window, -1);
    if (t < window - 1 || count < need) continue;
    const mx = sx.value / count;
    const my = sy.value / count;
    const vx = sxx.value / count - mx * mx;
    const vy = syy.value / count - my * my;
    const cxy = sxy.value / count - mx * my;
    if (vx > 0) beta[t] = cxy / vx;
    if (vx > 0 && vy > 0) corr[t] = Math.max(-1, Math.min(1, cxy / Math.sqrt(vx * vy)));
  }
  return { beta, corr };
}
