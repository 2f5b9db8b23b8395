/**
 * Maximum-likelihood estimation of GARCH(1,1) (Bollerslev 1986, "Generalized autoregressive conditional
 * heteroskedasticity", J. Econometrics 31:307–327) with Gaussian or standardised Student-t innovations
 * (Bollerslev 1987, REStat 69(3):542–547):
 *
 *   x_t = μ + ε_t,   ε_t = σ_t·z_t,   σ²_t = ω + α₁·ε²_{t−1} + β₁·σ²_{t−1},   z_t ~ N(0,1) or t_ν/√(ν/(ν−2)).
 *
 * Variance initialisation: σ²_1 = ω + (α₁+β₁)·mean(ε²) over the sample — fGarch's `init.rec = "mci"`
 * (Wuertz et al., fGarch `.aparchLLH.filter`); when ω = (1−α₁−β₁)·s² it is exactly the sample second
 * moment s². The likelihood sums over every observation, as fGarch's does (`llh.start = 1`).
 *
 * A missing (non-finite) observation adds no likelihood term and enters the recursion through its
 * conditional expectation (ε² := σ²), so a gap neither breaks nor biases the filter.
 */
import { minimizeBfgs } from './optimize.ts';
import { stdTLogConst, stdTLogConstDeriv } from './student-t.ts';

/** Innovation distribution of the GARCH model. */
export type InnovationDist = 't' | 'normal';

/**
 * GARCH(1,1) parameters in the units of the fitted series x (liqcal fits percent log returns, so
 * `omega` is in %² and `mu` in %). `shape` is ν (NaN for Gaussian innovations); `mu` is 0 for a zero mean.
 */
export interface Garch11Params {
  readonly mu: number;
  readonly omega: number;
  readonly alpha1: number;
  readonly beta1: number;
  readonly shape: number;
}

/** Index of each parameter in the gradient written by {@link garch11LogLik}. */
export const GRAD_INDEX = { mu: 0, omega: 1, alpha1: 2, beta1: 3, shape: 4 } as const;

const LOG_2PI = Math.log(2 * Math.PI);

/** σ²_1 by fGarch's "mci" rule: ω + (α₁+β₁)·mean((x−μ)²) over the finite observations. */
export function garch11InitVariance(x: Float64Array, p: Garch11Params): number {
  let s2 = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const e = x[i]! - p.mu;
    if (Number.isFinite(e)) { s2 += e * e; n++; }
  }
  return p.omega + (p.alpha1 + p.beta1) * (n > 0 ? s2 / n : 0);
}

/**
 * Log-likelihood of `x` under GARCH(1,1) (full constant included, comparable with fGarch's −llh and
 * arch's loglikelihood). When `grad` (length 5, see {@link GRAD_INDEX}) is given, writes the analytic
 * gradient with respect to (μ, ω, α₁, β₁, ν), from the recursion ∂σ²_t/∂θ = ∂(ω + α₁ε²_{t−1})/∂θ
 * + (∂β₁/∂θ)·σ²_{t−1} + β₁·∂σ²_{t−1}/∂θ run alongside the filter. Returns −∞ for invalid parameters.
 */
export function garch11LogLik(x: Float64Array, p: Garch11Params, dist: InnovationDist, grad?: Float64Array): number {
  const { mu, omega, alpha1: a, beta1: b, shape: nu } = p;
  const isT = dist === 't';
  if (!(omega > 0) || !(a >= 0) || !(b >= 0) || (isT && !(nu > 2))) return Number.NEGATIVE_INFINITY;
  let sumE = 0;
  let sumE2 = 0;
  let nFinite = 0;
  for (let i = 0; i < x.length; i++) {
    const e = x[i]! - mu;
    if (Number.isFinite(e)) { sumE += e; sumE2 += e * e; nFinite++; }
  }
  if (nFinite === 0) return Number.NEGATIVE_INFINITY;
  const mvar = sumE2 / nFinite;
  let h = omega + (a + b) * mvar;
  // ∂h/∂(μ, ω, α₁, β₁) at t = 1 (fGarch "mci": mvar itself depends on μ).
  let hMu = (a + b) * (-2 * sumE / nFinite);
  let hOm = 1;
  let hA = mvar;
  let hB = mvar;
  const c = isT ? stdTLogConst(nu) : -0.5 * LOG_2PI;
  const nuTerm = isT ? (nu + 1) / 2 : 0;
  const inv2 = isT ? 1 / (nu - 2) : 0;
  let ll = 0;
  let gMu = 0;
  let gOm = 0;
  let gA = 0;
  let gB = 0;
  let gNu = 0;
  let nObs = 0;
  for (let t = 0; t < x.length; t++) {
    if (!(h > 0 && h < Number.POSITIVE_INFINITY)) return Number.NEGATIVE_INFINITY;
    const e = x[t]! - mu;
    // A missing observation: no likelihood term, and ε² := σ² (with its derivatives) in the recursion.
    let e2 = h;
    let e2Mu = hMu;
    let e2Om = hOm;
    let e2A = hA;
    let e2B = hB;
    if (Number.isFinite(e)) {
      e2 = e * e;
      e2Mu = -2 * e;
      e2Om = 0;
      e2A = 0;
      e2B = 0;
      nObs++;
      let dldh = 0;
      let dlde = 0;
      if (isT) {
        const q = e2 * inv2 / h;
        const l1q = Math.log1p(q);
        ll -= 0.5 * Math.log(h) + nuTerm * l1q;
        const w = q / (1 + q);
        dldh = (nuTerm * w - 0.5) / h;
        dlde = -2 * nuTerm * inv2 * e / (h * (1 + q));
        gNu += nuTerm * w * inv2 - 0.5 * l1q;
      } else {
        ll -= 0.5 * (Math.log(h) + e2 / h);
        dldh = 0.5 * (e2 / h - 1) / h;
        dlde = -e / h;
      }
      gMu += dldh * hMu - dlde;
      gOm += dldh * hOm;
      gA += dldh * hA;
      gB += dldh * hB;
    }
    // The gradient recursion costs ~30% of a pass; always running it keeps this loop simple for V8.
    hMu = a * e2Mu + b * hMu;
    hOm = 1 + a * e2Om + b * hOm;
    hA = e2 + a * e2A + b * hA;
    hB = h + a * e2B + b * hB;
    h = omega + a * e2 + b * h;
  }
  ll += nObs * c;
  if (grad !== undefined) {
    grad[GRAD_INDEX.mu] = gMu;
    grad[GRAD_INDEX.omega] = gOm;
    grad[GRAD_INDEX.alpha1] = gA;
    grad[GRAD_INDEX.beta1] = gB;
    grad[GRAD_INDEX.shape] = isT ? gNu + nObs * stdTLogConstDeriv(nu) : 0;
  }
  return ll;
}

/**
 * Which parameter region the estimator searches. `stationary` (the forecaster's): ω > 0, α₁, β₁ ≥ 0,
 * α₁ + β₁ < 1 (covariance stationarity, so σ̄² = ω/(1−α₁−β₁) exists). `box`: fGarch's region,
 * 0 < α₁, β₁ < 1 each, with no persistence constraint — used to check the estimator against fGarch.
 */
export type GarchRegion = 'stationary' | 'box';

/** Options of {@link fitGarch11}. */
export interface Garch11FitOptions {
  readonly dist: InnovationDist;
  readonly mean: 'zero' | 'constant';
  readonly region?: GarchRegion;
}

/** A fitted GARCH(1,1). */
export interface Garch11Fit {
  readonly params: Garch11Params;
  readonly logLik: number;
  /** Finite observations in the likelihood. */
  readonly nObs: number;
  /** Starting points tried and total objective evaluations (for the timing report). */
  readonly starts: number;
  readonly evaluations: number;
  readonly converged: boolean;
}

/** Upper bound on α₁+β₁ in the stationary region (keeps σ̄² finite in floating point). */
export const MAX_PERSISTENCE = 1 - 1e-6;
/** Upper bound on ν: beyond it the t is indistinguishable from the normal and ν is not identified. */
export const MAX_SHAPE = 200;

/** Deterministic starts (α₁, β₁, ν); ω is set so that σ̄² equals the sample second moment. fGarch starts at (0.1, 0.8, 4). */
const STARTS: readonly (readonly [number, number, number])[] = [
  [0.1, 0.8, 4],
  [0.05, 0.93, 6],
  [0.2, 0.75, 3],
  [0.03, 0.965, 10],
];

const sigmoid = (u: number): number => 1 / (1 + Math.exp(-u));
const logit = (p: number): number => Math.log(p / (1 - p));

/**
 * Fits GARCH(1,1) by maximum likelihood: BFGS ({@link minimizeBfgs}) on a smooth reparametrisation onto
 * ℝᵏ (log ω; persistence and α-share through logistics for `stationary`, or α₁ and β₁ through logistics
 * for `box`; ν = 2 + (MAX_SHAPE−2)·logistic), from every deterministic start in a fixed table; the best
 * likelihood wins. Objective: −logLik/n, so tolerances do not depend on the sample size.
 */
export function fitGarch11(x: Float64Array, opts: Garch11FitOptions): Garch11Fit {
  const region = opts.region ?? 'stationary';
  const isT = opts.dist === 't';
  const hasMu = opts.mean === 'constant';
  let n = 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) { n++; sum += x[i]!; }
  const mu0 = hasMu && n > 0 ? sum / n : 0;
  let m2 = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) m2 += (x[i]! - mu0) ** 2;
  m2 /= Math.max(n, 1);

  const k = 3 + (isT ? 1 : 0) + (hasMu ? 1 : 0);
  const iNu = 3;
  const iMu = isT ? 4 : 3;
  const toParams = (th: Float64Array): Garch11Params => {
    let alpha1: number;
    let beta1: number;
    if (region === 'stationary') {
      const phi = MAX_PERSISTENCE * sigmoid(th[1]!);
      const share = sigmoid(th[2]!);
      alpha1 = phi * share;
      beta1 = phi * (1 - share);
    } else {
      alpha1 = sigmoid(th[1]!);
      beta1 = sigmoid(th[2]!);
    }
    return {
      mu: hasMu ? th[iMu]! : 0,
      omega: Math.exp(th[0]!),
      alpha1,
      beta1,
      shape: isT ? 2 + (MAX_SHAPE - 2) * sigmoid(th[iNu]!) : Number.NaN,
    };
  };
  const fromParams = (p: Garch11Params): Float64Array => {
    const th = new Float64Array(k);
    th[0] = Math.log(p.omega);
    if (region === 'stationary') {
      const phi = p.alpha1 + p.beta1;
      th[1] = logit(phi / MAX_PERSISTENCE);
      th[2] = logit(p.alpha1 / phi);
    } else {
      th[1] = logit(p.alpha1);
      th[2] = logit(p.beta1);
    }
    if (isT) th[iNu] = logit((p.shape - 2) / (MAX_SHAPE - 2));
    if (hasMu) th[iMu] = p.mu;
    return th;
  };

  const g5 = new Float64Array(5);
  const objective = (th: Float64Array, grad: Float64Array): number => {
    const p = toParams(th);
    const ll = garch11LogLik(x, p, opts.dist, g5);
    if (!Number.isFinite(ll)) return Number.POSITIVE_INFINITY;
    // Chain rule from (μ, ω, α₁, β₁, ν) to θ, then scale to −logLik/n.
    const gA = g5[GRAD_INDEX.alpha1]!;
    const gB = g5[GRAD_INDEX.beta1]!;
    grad[0] = g5[GRAD_INDEX.omega]! * p.omega;
    if (region === 'stationary') {
      const s1 = sigmoid(th[1]!);
      const s2 = sigmoid(th[2]!);
      const dPhi = MAX_PERSISTENCE * s1 * (1 - s1);
      const phi = MAX_PERSISTENCE * s1;
      grad[1] = dPhi * (gA * s2 + gB * (1 - s2));
      grad[2] = phi * s2 * (1 - s2) * (gA - gB);
    } else {
      const s1 = sigmoid(th[1]!);
      const s2 = sigmoid(th[2]!);
      grad[1] = gA * s1 * (1 - s1);
      grad[2] = gB * s2 * (1 - s2);
    }
    if (isT) {
      const s = sigmoid(th[iNu]!);
      grad[iNu] = g5[GRAD_INDEX.shape]! * (MAX_SHAPE - 2) * s * (1 - s);
    }
    if (hasMu) grad[iMu] = g5[GRAD_INDEX.mu]!;
    for (let i = 0; i < k; i++) grad[i] = -grad[i]! / n;
    return -ll / n;
  };

  let best: { x: Float64Array; f: number; converged: boolean } | undefined;
  let evaluations = 0;
  for (const [a, b, nu] of STARTS) {
    const start = fromParams({ mu: mu0, omega: Math.max((1 - a - b) * m2, 1e-12), alpha1: a, beta1: b, shape: nu });
    const r = minimizeBfgs(objective, start);
    evaluations += r.evaluations;
    if (Number.isFinite(r.f) && (best === undefined || r.f < best.f)) best = r;
  }
  if (best === undefined) {
    const p = toParams(fromParams({ mu: mu0, omega: (1 - 0.9) * m2, alpha1: 0.1, beta1: 0.8, shape: 4 }));
    return { params: p, logLik: Number.NEGATIVE_INFINITY, nObs: n, starts: STARTS.length, evaluations, converged: false };
  }
  const params = toParams(best.x);
  return { params, logLik: garch11LogLik(x, params, opts.dist), nObs: n, starts: STARTS.length, evaluations, converged: best.converged };
}
