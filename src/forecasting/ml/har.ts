/**
 * The linear HAR mean the network corrects (pure). Corsi (2009), "A simple approximate long-memory model of
 * realized volatility", J. Financial Econometrics 7(2), in logs and pooled across symbols with a fixed
 * effect per symbol:
 *
 *   log RV(t, t+h] − μ_y(s) = c + β_d (log RV_d(t) − μ_d(s)) + β_w (log RV_w(t) − μ_w(s)) + β_m (log RV_m(t) − μ_m(s)) + e
 *
 * where μ·(s) are the symbol's training means. De-meaning (rather than z-scoring) keeps β comparable across
 * symbols: they are elasticities. Following HARNet (Reisenhofer, Bayer & Hautsch 2022, arXiv 2205.07719) the
 * network starts at this solution and learns the residual.
 */

/** The HAR inputs (columns of the feature frame), in coefficient order. */
export const HAR_INPUTS = ['rv_1d', 'rv_1w', 'rv_1m'] as const;

/** Fitted pooled HAR coefficients in logs. */
export interface HarCoefs {
  readonly intercept: number;
  /** β for daily, weekly and monthly log RV. */
  readonly beta: number[];
  /** Standard deviation of the training residuals (log units); the network's target is scaled by it. */
  readonly residualStd: number;
  readonly rows: number;
}

/** The HAR mean deviation from the symbol's mean log target, for one row of log inputs. */
export function harMean(coefs: HarCoefs, logX: ArrayLike<number>, offset: number, harMeans: readonly number[]): number {
  let y = coefs.intercept;
  for (let k = 0; k < coefs.beta.length; k++) y += coefs.beta[k]! * (logX[offset + k]! - harMeans[k]!);
  return y;
}

/** Solves the small symmetric positive-definite system A x = b by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]!;
    if (Math.abs(piv) < 1e-300) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / piv;
      if (f !== 0) for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => {
    const d = row[i]!;
    return Math.abs(d) < 1e-300 ? 0 : row[n]! / d;
  });
}

/**
 * Fits the pooled HAR by ordinary least squares (a tiny ridge, 1e-8 × trace, guards collinear inputs).
 * `xDemeaned` is row-major (rows × k) of de-meaned log inputs and `yDemeaned` the de-meaned log targets.
 */
export function fitHar(xDemeaned: Float64Array, yDemeaned: Float64Array, k: number = HAR_INPUTS.length): HarCoefs {
  const n = yDemeaned.length;
  const p = k + 1;
  const xtx = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  const row = new Array<number>(p).fill(1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) row[j + 1] = xDemeaned[i * k + j]!;
    const y = yDemeaned[i]!;
    for (let a = 0; a < p; a++) {
      xty[a]! += row[a]! * y;
      for (let b = a; b < p; b++) xtx[a]![b]! += row[a]! * row[b]!;
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) xtx[a]![b] = xtx[b]![a]!;
  const trace = xtx.reduce((s, r, i) => s + r[i]!, 0);
  for (let a = 1; a < p; a++) xtx[a]![a]! += 1e-8 * trace;
  const sol = n > p ? solve(xtx, xty) : new Array<number>(p).fill(0);
  let sse = 0;
  for (let i = 0; i < n; i++) {
    let f = sol[0]!;
    for (let j = 0; j < k; j++) f += sol[j + 1]! * xDemeaned[i * k + j]!;
    sse += (yDemeaned[i]! - f) ** 2;
  }
  const residualStd = n > p ? Math.sqrt(sse / (n - p)) : 1;
  return { intercept: sol[0]!, beta: sol.slice(1), residualStd: residualStd > 1e-9 ? residualStd : 1, rows: n };
}
