/**
 * Ordinary least squares by Householder QR (no normal equations: HAR regressors in logs are strongly
 * collinear, and forming XᵀX would square their condition number).
 */
import { AppError } from '../core/errors.ts';

/** Result of {@link ols}. */
export interface OlsResult {
  /** Coefficients, one per column of X, in column order. */
  readonly beta: Float64Array;
  /** y − Xβ, one per row. */
  readonly residuals: Float64Array;
  /** Coefficient of determination 1 − SSR/SST (SST about the mean of y; NaN when y is constant). */
  readonly r2: number;
}

/**
 * Least-squares fit of `y ≈ X β`. No intercept is added: pass a column of ones for one.
 * @param X - Design matrix as columns, each of length n (all finite).
 * @param y - Response, length n (finite).
 * @throws AppError `dataQuality` when there are fewer rows than columns, lengths differ, a value is not
 *   finite, or a column is (numerically) a linear combination of the others.
 */
export function ols(X: Float64Array[], y: Float64Array): OlsResult {
  const p = X.length;
  const n = y.length;
  if (p === 0) throw new AppError('dataQuality', 'OLS needs at least one regressor column.');
  if (n < p) throw new AppError('dataQuality', `OLS has ${n} observations for ${p} coefficients; it needs at least as many rows as columns.`, { context: { rows: n, columns: p } });
  const A = X.map((col, j) => {
    if (col.length !== n) throw new AppError('dataQuality', `OLS column ${j} has ${col.length} rows but y has ${n}.`, { context: { column: j } });
    return Float64Array.from(col);
  });
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i]!)) throw new AppError('dataQuality', `OLS response row ${i} is not finite (${y[i]}); drop such rows first.`, { context: { row: i } });
    for (let j = 0; j < p; j++) if (!Number.isFinite(A[j]![i]!)) throw new AppError('dataQuality', `OLS column ${j} row ${i} is not finite (${A[j]![i]}); drop such rows first.`, { context: { row: i, column: j } });
  }
  const b = Float64Array.from(y);
  const colNorm = A.map((col) => norm2(col, 0));
  const v = new Float64Array(n);

  for (let k = 0; k < p; k++) {
    const a = A[k]!;
    const nk = norm2(a, k);
    if (!(nk > 1e-10 * colNorm[k]!) || nk === 0) {
      throw new AppError('dataQuality', `OLS column ${k} is collinear with the columns before it (or constant zero); remove it or add data.`, { context: { column: k } });
    }
    const alpha = a[k]! > 0 ? -nk : nk;
    // Householder vector v = a[k..] − alpha·e1, applied as H = I − 2vvᵀ/(vᵀv).
    let vv = 0;
    for (let i = k; i < n; i++) {
      const vi = i === k ? a[i]! - alpha : a[i]!;
      v[i] = vi;
      vv += vi * vi;
    }
    const reflect = (col: Float64Array): void => {
      let s = 0;
      for (let i = k; i < n; i++) s += v[i]! * col[i]!;
      const f = (2 * s) / vv;
      for (let i = k; i < n; i++) col[i] = col[i]! - f * v[i]!;
    };
    for (let j = k + 1; j < p; j++) reflect(A[j]!);
    reflect(b);
    a[k] = alpha;
  }

  // Back-substitution R β = (Qᵀy)[0..p).
  const beta = new Float64Array(p);
  for (let k = p - 1; k >= 0; k--) {
    let s = b[k]!;
    for (let j = k + 1; j < p; j++) s -= A[j]![k]! * beta[j]!;
    beta[k] = s / A[k]![k]!;
  }

  const residuals = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let ssr = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    let fit = 0;
    for (let j = 0; j < p; j++) fit += X[j]![i]! * beta[j]!;
    const e = y[i]! - fit;
    residuals[i] = e;
    ssr += e * e;
    sst += (y[i]! - mean) ** 2;
  }
  return { beta, residuals, r2: sst > 0 ? 1 - ssr / sst : Number.NaN };
}

/** Euclidean norm of `x[from..]`, scaled against overflow. */
function norm2(x: Float64Array, from: number): number {
  let scale = 0;
  for (let i = from; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i]!));
  if (scale === 0) return 0;
  let s = 0;
  for (let i = from; i < x.length; i++) {
    const z = x[i]! / scale;
    s += z * z;
  }
  return scale * Math.sqrt(s);
}
