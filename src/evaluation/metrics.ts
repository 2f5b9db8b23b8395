/**
 * Accuracy of variance forecasts and of quantile forecasts of log realised variance. Pure functions over
 * aligned Float64Array pairs: index i of `realised` is the forward realised variance (Σ of squared log
 * returns over the horizon) that `forecast[i]` predicted at the same origin. Pairs with a non-finite
 * value (or a non-positive forecast, for the losses that take its log) are skipped, and every result
 * says how many pairs it used (`n`) and how many it skipped.
 */
import { AppError } from '../core/errors.ts';

/**
 * Floor applied to the realised variance before it enters a log or a ratio (squared log-return units).
 * A realised variance of exactly zero happens only when every return over the horizon is zero (a stale
 * or halted feed); the log would be −∞. 1e-12 is a per-horizon volatility of 1e-6 (0.01 bp), far below
 * any traded market, so the floor changes no genuine observation yet keeps such pairs in the sample —
 * with a large loss, which is the right signal for a stale feed.
 */
export const REALISED_FLOOR = 1e-12;

/** A mean over the usable pairs of a sample. */
export interface SampleMean {
  /** The mean; NaN when no pair was usable. */
  readonly value: number;
  /** Pairs used. */
  readonly n: number;
  /** Pairs skipped (a non-finite value, or a non-positive forecast where a log is taken). */
  readonly skipped: number;
}

/** Options for the variance losses. */
export interface LossOptions {
  /** Floor for the realised variance (default {@link REALISED_FLOOR}). */
  readonly realisedFloor?: number;
}

/** Per-origin loss kinds, for {@link lossSeries} and the Diebold–Mariano test. */
export type LossKind = 'qlike' | 'mseLog';

function checkLengths(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new AppError('badRequest', `${what} needs two series of equal length, got ${a.length} and ${b.length}: align them by origin first.`, {
      context: { what, lengths: [a.length, b.length] },
    });
  }
}

function meanOf(values: Float64Array): SampleMean {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
  }
  return { value: n > 0 ? sum / n : Number.NaN, n, skipped: values.length - n };
}

/**
 * Per-origin losses of a variance forecast; NaN where the pair is unusable (realised not finite or
 * negative, forecast not finite or ≤ 0).
 *
 * - `qlike`: L = RV/F − ln(RV/F) − 1 (Patton 2011, J. Econometrics 160(1):246–256). Zero at RV = F,
 *   asymmetric (under-prediction costs more), and one of the two common losses that rank forecasts
 *   consistently when RV is a noisy proxy of the true variance.
 * - `mseLog`: L = (ln RV − ln F)². Not robust in Patton's sense (biased towards under-forecasts), kept
 *   as a readable secondary measure.
 *
 * @param realised forward realised variance at each origin (squared log-return units), floored at `realisedFloor`
 * @param forecast forecast of that variance, same units and alignment
 */
export function lossSeries(kind: LossKind, realised: Float64Array, forecast: Float64Array, opts: LossOptions = {}): Float64Array {
  checkLengths(kind, realised, forecast);
  const floor = opts.realisedFloor ?? REALISED_FLOOR;
  const out = new Float64Array(realised.length);
  for (let i = 0; i < realised.length; i++) {
    const rv = realised[i]!;
    const f = forecast[i]!;
    if (!Number.isFinite(rv) || rv < 0 || !Number.isFinite(f) || f <= 0) {
      out[i] = Number.NaN;
      continue;
    }
    const y = Math.max(rv, floor);
    if (kind === 'qlike') {
      const ratio = y / f;
      out[i] = ratio - Math.log(ratio) - 1;
    } else {
      const d = Math.log(y) - Math.log(f);
      out[i] = d * d;
    }
  }
  return out;
}

/** Mean QLIKE loss, mean over usable pairs of RV/F − ln(RV/F) − 1 (Patton 2011). Lower is better; 0 is perfect. */
export function qlike(realised: Float64Array, forecast: Float64Array, opts: LossOptions = {}): SampleMean {
  return meanOf(lossSeries('qlike', realised, forecast, opts));
}

/** Mean squared error of log variance, mean over usable pairs of (ln RV − ln F)². */
export function mseLog(realised: Float64Array, forecast: Float64Array, opts: LossOptions = {}): SampleMean {
  return meanOf(lossSeries('mseLog', realised, forecast, opts));
}

/** A Mincer–Zarnowitz regression y = α + β·x + ε. */
export interface MincerZarnowitz {
  readonly alpha: number;
  readonly beta: number;
  /** Coefficient of determination 1 − SSR/SST; NaN when y has no variance. */
  readonly r2: number;
  readonly n: number;
  readonly skipped: number;
}

/**
 * Mincer–Zarnowitz (1969) regression of the realised variance on its forecast by OLS: RV = α + β·F + ε.
 * An unbiased forecast has α = 0, β = 1; R² measures the share of RV's variation the forecast explains.
 * With `log`, regresses ln RV on ln F (RV floored at `realisedFloor`, non-positive forecasts skipped),
 * which tempers the influence of the largest spikes.
 */
export function mincerZarnowitz(realised: Float64Array, forecast: Float64Array, opts: LossOptions & { readonly log?: boolean } = {}): MincerZarnowitz {
  checkLengths('mincerZarnowitz', realised, forecast);
  const floor = opts.realisedFloor ?? REALISED_FLOOR;
  const log = opts.log ?? false;
  let n = 0;
  let sx = 0;
  let sy = 0;
  const xs = new Float64Array(realised.length);
  const ys = new Float64Array(realised.length);
  for (let i = 0; i < realised.length; i++) {
    const rv = realised[i]!;
    const f = forecast[i]!;
    if (!Number.isFinite(rv) || !Number.isFinite(f) || (log && (rv < 0 || f <= 0))) continue;
    const x = log ? Math.log(f) : f;
    const y = log ? Math.log(Math.max(rv, floor)) : rv;
    xs[n] = x;
    ys[n] = y;
    sx += x;
    sy += y;
    n++;
  }
  const skipped = realised.length - n;
  if (n < 2) return { alpha: Number.NaN, beta: Number.NaN, r2: Number.NaN, n, skipped };
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { alpha: Number.NaN, beta: Number.NaN, r2: Number.NaN, n, skipped };
  const beta = sxy / sxx;
  const alpha = my - beta * mx;
  // For OLS with an intercept, SSR = Syy − β·Sxy, so R² = β·Sxy / Syy (the squared correlation).
  const r2 = syy > 0 ? (beta * sxy) / syy : Number.NaN;
  return { alpha, beta, r2, n, skipped };
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) {
    throw new AppError('badRequest', `Quantile level ${level} is outside (0, 1): give a probability such as 0.9.`, { context: { level } });
  }
}

/**
 * Mean pinball (quantile) loss of a quantile forecast at `level` τ: ρ_τ(u) = max(τ·u, (τ − 1)·u) with
 * u = y − q (Koenker & Bassett 1978). It is minimised in expectation by the true τ-quantile.
 *
 * @param yLog realised log forward variance at each origin (ln RV, RV floored by the caller)
 * @param qLog forecast τ-quantile of ln RV at each origin
 */
export function pinballLoss(yLog: Float64Array, qLog: Float64Array, level: number): SampleMean {
  checkLengths('pinballLoss', yLog, qLog);
  checkLevel(level);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < yLog.length; i++) {
    const y = yLog[i]!;
    const q = qLog[i]!;
    if (!Number.isFinite(y) || !Number.isFinite(q)) continue;
    const u = y - q;
    sum += u >= 0 ? level * u : (level - 1) * u;
    n++;
  }
  return { value: n > 0 ? sum / n : Number.NaN, n, skipped: yLog.length - n };
}

/**
 * Empirical coverage of a quantile forecast: the share of usable origins with y ≤ q. A calibrated
 * τ-quantile covers a share τ; the exceptions (y > q) are what VaR-style coverage tests count.
 */
export function coverage(yLog: Float64Array, qLog: Float64Array): SampleMean {
  checkLengths('coverage', yLog, qLog);
  let hits = 0;
  let n = 0;
  for (let i = 0; i < yLog.length; i++) {
    const y = yLog[i]!;
    const q = qLog[i]!;
    if (Number.isNaN(y) || Number.isNaN(q)) continue;
    if (y <= q) hits++;
    n++;
  }
  return { value: n > 0 ? hits / n : Number.NaN, n, skipped: yLog.length - n };
}

/** ln(max(RV, floor)) elementwise: the target of log-variance quantile forecasts; NaN stays NaN, negative RV gives NaN. */
export function logRealised(realised: Float64Array, opts: LossOptions = {}): Float64Array {
  const floor = opts.realisedFloor ?? REALISED_FLOOR;
  const out = new Float64Array(realised.length);
  for (let i = 0; i < realised.length; i++) {
    const rv = realised[i]!;
    out[i] = Number.isNaN(rv) || rv < 0 ? Number.NaN : Math.log(Math.max(rv, floor));
  }
  return out;
}
