/**
 * From predicted quantiles of log forward RV to the numbers a ForecastBatch carries (pure).
 *
 * Point forecast of a network without the QLIKE variance head (older artifacts; current networks predict
 * E[RV] directly, see network.ts). QLIKE(RV, v) = RV/v − log(RV/v) − 1 is minimised by v = E[RV | info], not by the median.
 * If log RV | info were normal N(m, σ²) then E[RV] = exp(m + σ²/2). We take m = the predicted median and σ from
 * the predicted spread (least squares of q_τ − m on Φ⁻¹(τ) over the trained levels other than 0.5), and then
 * multiply by one scale c fitted on the held-back calibration tail: c = mean(RV / exp(m + σ²/2)) — the closed-form
 * QLIKE minimiser over c — which absorbs the skew and fat tails of log RV that the normal shape misses.
 */

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : Number.NaN;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * The value at level `tau` from values at ascending trained `levels` (monotone in level), interpolated linearly
 * in normal scores Φ⁻¹(τ) and extrapolated from the two outermost levels (flat when only one level is trained).
 */
export function interpolateQuantile(levels: readonly number[], values: ArrayLike<number>, offset: number, tau: number): number {
  const n = levels.length;
  const exact = levels.indexOf(tau);
  if (exact >= 0) return values[offset + exact]!;
  if (n === 1) return values[offset]!;
  const z = normalQuantile(tau);
  let hi = levels.findIndex((l) => l > tau);
  if (hi <= 0) hi = hi === 0 ? 1 : n - 1;
  const lo = hi - 1;
  const z0 = normalQuantile(levels[lo]!);
  const z1 = normalQuantile(levels[hi]!);
  const v0 = values[offset + lo]!;
  const v1 = values[offset + hi]!;
  return v0 + ((z - z0) / (z1 - z0)) * (v1 - v0);
}

/** Normal scores of the trained levels, and their sum of squares over the levels other than the median. */
export interface SpreadBasis {
  readonly z: number[];
  readonly zz: number;
  readonly medianIndex: number;
}

/** Precomputes the basis used by {@link logSigma}. */
export function spreadBasis(levels: readonly number[]): SpreadBasis {
  const z = levels.map((l) => (l === 0.5 ? 0 : normalQuantile(l)));
  return { z, zz: z.reduce((s, v) => s + v * v, 0), medianIndex: levels.indexOf(0.5) };
}

/** σ of log RV implied by the quantiles at `values[offset…]`, or `fallback` when only the median is trained. */
export function logSigma(basis: SpreadBasis, values: ArrayLike<number>, offset: number, fallback: number): number {
  if (basis.zz === 0) return fallback;
  const m = values[offset + basis.medianIndex]!;
  let s = 0;
  for (let k = 0; k < basis.z.length; k++) s += (values[offset + k]! - m) * basis.z[k]!;
  return Math.max(s / basis.zz, 0);
}

/** Uncalibrated conditional mean of RV under a lognormal with median exp(m) and log-sd σ. */
export function lognormalMean(m: number, sigma: number): number {
  return Math.exp(m + 0.5 * sigma * sigma);
}

/** The QLIKE-optimal scale c of forecasts `v` for realised `rv`: mean(rv / v) over finite positive pairs (1 if none). */
export function qlikeScale(rv: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0; let n = 0;
  for (let i = 0; i < rv.length; i++) {
    const a = rv[i]!; const b = v[i]!;
    if (Number.isFinite(a) && Number.isFinite(b) && b > 0 && a >= 0) { s += a / b; n++; }
  }
  return n && s > 0 ? s / n : 1;
}

/** Mean QLIKE loss RV/v − log(RV/v) − 1 over finite positive pairs. */
export function meanQlike(rv: ArrayLike<number>, v: ArrayLike<number>): number {
  let s = 0; let n = 0;
  for (let i = 0; i < rv.length; i++) {
    const a = rv[i]!; const b = v[i]!;
    if (a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b)) { s += a / b - Math.log(a / b) - 1; n++; }
  }
  return n ? s / n : Number.NaN;
}
