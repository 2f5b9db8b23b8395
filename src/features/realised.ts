/**
 * Realised measures from log returns: realised variance, bipower variation and jumps, signed
 * semivariances, EWMA variance and the HAR daily/weekly/monthly aggregates. All values are in squared
 * log-return units (not annualised). Index t is known at the close of bar t: it reads `r[0..t]` only.
 */
import { AppError } from '../core/errors.ts';
import { checkWindow, clampNonNegativeInPlace, rollingSum, scaleInPlace, squared } from './returns.ts';

/** E|Z| for Z ~ N(0, 1) = √(2/π); bipower variation is scaled by μ1⁻² (Barndorff-Nielsen & Shephard 2004). */
export const MU1 = Math.sqrt(2 / Math.PI);

/**
 * Realised variance over a trailing window: `RV[t] = Σ_{j=t−w+1..t} r[j]²`.
 * @param r - Log returns per bar (r[0] NaN as from `logReturns`).
 * @param windowBars - Window in bars (e.g. bars per day).
 * @returns RV in squared log-return units; NaN until w finite returns are available.
 */
export function realisedVariance(r: Float64Array, windowBars: number): Float64Array {
  return clampNonNegativeInPlace(rollingSum(squared(r), windowBars));
}

/**
 * Bipower variation over a trailing window (Barndorff-Nielsen & Shephard 2004):
 * `BPV[t] = μ1⁻² Σ_{j=t−w+1..t} |r[j]|·|r[j−1]|`, a jump-robust estimate of the continuous part of RV.
 * The first product of a window reaches one bar back (r[t−w]); there is no small-sample factor w/(w−1).
 * @param r - Log returns per bar.
 * @param windowBars - Window in bars.
 * @returns BPV in squared log-return units; NaN until w products are available (index ≥ w+1 after r[0] = NaN).
 */
export function bipowerVariation(r: Float64Array, windowBars: number): Float64Array {
  checkWindow(windowBars, 'bipowerVariation');
  const n = r.length;
  const prod = new Float64Array(n);
  if (n > 0) prod[0] = Number.NaN;
  for (let t = 1; t < n; t++) prod[t] = Math.abs(r[t]!) * Math.abs(r[t - 1]!);
  return clampNonNegativeInPlace(scaleInPlace(rollingSum(prod, windowBars), 1 / (MU1 * MU1)));
}

/**
 * Jump component `max(RV − BPV, 0)` (Andersen, Bollerslev & Diebold 2007), elementwise over aligned RV
 * and BPV of the same window.
 * @returns Jump variation in squared log-return units; NaN where either input is NaN.
 */
export function jumpComponent(rv: Float64Array, bpv: Float64Array): Float64Array {
  const out = new Float64Array(rv.length);
  for (let t = 0; t < rv.length; t++) {
    const d = rv[t]! - bpv[t]!;
    out[t] = Number.isNaN(d) ? Number.NaN : d > 0 ? d : 0;
  }
  return out;
}

/**
 * Signed realised semivariances over a trailing window (Barndorff-Nielsen, Kinnebrock & Shephard 2010;
 * Patton & Sheppard 2015): `RS+[t] = Σ r[j]² 1[r[j] > 0]`, `RS−[t] = Σ r[j]² 1[r[j] < 0]`,
 * j ∈ [t−w+1, t]. RS+ + RS− = RV.
 * @param r - Log returns per bar.
 * @param windowBars - Window in bars.
 * @returns `{ pos, neg }` in squared log-return units; NaN until the window holds w finite returns.
 */
export function signedSemivariances(r: Float64Array, windowBars: number): { pos: Float64Array; neg: Float64Array } {
  const n = r.length;
  const up = new Float64Array(n);
  const down = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const v = r[t]!;
    const v2 = v * v;
    // NaN propagates into both, so both windows turn NaN together.
    up[t] = v > 0 || Number.isNaN(v) ? v2 : 0;
    down[t] = v < 0 || Number.isNaN(v) ? v2 : 0;
  }
  return { pos: clampNonNegativeInPlace(rollingSum(up, windowBars)), neg: clampNonNegativeInPlace(rollingSum(down, windowBars)) };
}

/**
 * EWMA (RiskMetrics 1996, ch. 5) variance per bar: `σ²[t] = λ·σ²[t−1] + (1−λ)·r[t]²`.
 *
 * Time alignment: `σ²[t]` includes r[t], so it is known at the close of bar t and is the forecast of the
 * variance of bar t+1's return (RiskMetrics' σ²_{t+1|t}). Seeding uses the past only: the recursion starts
 * from the mean of the first `warmupBars` finite squared returns, and the output is NaN until that many
 * have been seen. A non-finite return (never inside a bridged frame) leaves σ² unchanged.
 *
 * @param r - Log returns per bar.
 * @param lambda - Decay in (0, 1); 0.94 is RiskMetrics' daily value.
 * @param warmupBars - Finite returns averaged into the seed (default 30).
 * @returns Per-bar variance in squared log-return units.
 */
export function ewmaVariance(r: Float64Array, lambda = 0.94, warmupBars = 30): Float64Array {
  if (!(lambda > 0 && lambda < 1)) throw new AppError('config', `ewmaVariance: lambda must lie strictly between 0 and 1 (0.94 is RiskMetrics' daily value), not ${lambda}.`, { context: { lambda } });
  checkWindow(warmupBars, 'ewmaVariance warm-up');
  const n = r.length;
  const out = new Float64Array(n);
  let seen = 0;
  let seedSum = 0;
  let v = Number.NaN;
  for (let t = 0; t < n; t++) {
    const x = r[t]!;
    if (Number.isFinite(x)) {
      if (seen < warmupBars) {
        seedSum += x * x;
        seen++;
        if (seen === warmupBars) v = seedSum / warmupBars;
      } else {
        v = lambda * v + (1 - lambda) * x * x;
      }
    }
    out[t] = v;
  }
  return out;
}

/** The HAR regressors (Corsi 2009) on a 24/7 calendar: daily RV and the weekly and monthly averages of daily RV. */
export interface HarAggregates {
  /** Σ r² over the last D bars (one day). */
  readonly rv1d: Float64Array;
  /** Σ r² over the last 7D bars / 7: the average daily RV over the last week. */
  readonly rv1w: Float64Array;
  /** Σ r² over the last 30D bars / 30: the average daily RV over the last 30 days. */
  readonly rv1m: Float64Array;
}

/**
 * HAR aggregates from log returns: all three are per-day quantities in squared log-return units, known
 * at the close of bar t. The 7- and 30-day windows are a 24/7 design choice (equity HAR uses 5 and 22).
 * @param r - Log returns per bar.
 * @param barsPerDay - Bars in one day (D).
 */
export function harAggregates(r: Float64Array, barsPerDay: number): HarAggregates {
  const r2 = squared(r);
  return {
    rv1d: clampNonNegativeInPlace(rollingSum(r2, barsPerDay)),
    rv1w: clampNonNegativeInPlace(scaleInPlace(rollingSum(r2, 7 * barsPerDay), 1 / 7)),
    rv1m: clampNonNegativeInPlace(scaleInPlace(rollingSum(r2, 30 * barsPerDay), 1 / 30)),
  };
}
