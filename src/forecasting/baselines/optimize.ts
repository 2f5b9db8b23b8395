/**
 * A small, deterministic quasi-Newton minimiser for smooth objectives with analytic gradients: BFGS with a
 * strong-Wolfe line search (Nocedal & Wright, Numerical Optimization, 2nd ed., 2006: Algorithm 6.1 with
 * the line search of Algorithms 3.5–3.6). Constraints are handled by the caller through a smooth
 * reparametrisation onto ℝᵏ. No randomness: the same start gives the same iterates on every machine.
 */

/**
 * An objective: returns f(x) and writes ∇f(x) into `grad` (same length as x). It may return a
 * non-finite value where f is undefined; the line search then backs off.
 */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** Stopping rules of {@link minimizeBfgs}. */
export interface BfgsOptions {
  /** Stop when max |∂f/∂xᵢ| ≤ gradTol. Default 1e-9. */
  readonly gradTol?: number;
  /** Stop when an iteration lowers f by ≤ relTol·(1 + |f|). Default 1e-14. */
  readonly relTol?: number;
  /** Iteration cap. Default 300. */
  readonly maxIterations?: number;
}

/** The result of a minimisation. */
export interface BfgsResult {
  readonly x: Float64Array;
  readonly f: number;
  readonly iterations: number;
  /** Objective (with gradient) evaluations. */
  readonly evaluations: number;
  /** True when a tolerance, not the iteration cap or a failed line search, ended the run. */
  readonly converged: boolean;
}

const C1 = 1e-4;
const C2 = 0.9;
const MAX_LINE_STEPS = 40;

interface Point {
  a: number;
  f: number;
  d: number;
}

/** Minimises `f` from `x0` by BFGS (Nocedal & Wright 2006, Alg. 6.1). */
export function minimizeBfgs(f: Objective, x0: Float64Array, opts: BfgsOptions = {}): BfgsResult {
  const gradTol = opts.gradTol ?? 1e-9;
  const relTol = opts.relTol ?? 1e-14;
  const maxIterations = opts.maxIterations ?? 300;
  const k = x0.length;
  let evaluations = 0;
  const x = Float64Array.from(x0);
  const g = new Float64Array(k);
  let fx = f(x, g);
  evaluations++;
  if (!Number.isFinite(fx)) return { x, f: fx, iterations: 0, evaluations, converged: false };

  const H = identity(k);
  const p = new Float64Array(k);
  const xTry = new Float64Array(k);
  const gTry = new Float64Array(k);
  const s = new Float64Array(k);
  const y = new Float64Array(k);
  let freshH = true;
  let iterations = 0;
  let converged = false;

  // φ(a) = f(x + a·p) and φ'(a) = ∇f·p, evaluated into xTry/gTry.
  const phi = (a: number): Point => {
    for (let i = 0; i < k; i++) xTry[i] = x[i]! + a * p[i]!;
    const fa = f(xTry, gTry);
    evaluations++;
    return { a, f: Number.isFinite(fa) ? fa : Number.POSITIVE_INFINITY, d: Number.isFinite(fa) ? dot(gTry, p) : Number.NaN };
  };

  for (; iterations < maxIterations; iterations++) {
    if (maxAbs(g) <= gradTol) { converged = true; break; }
    matVec(H, g, p, -1);
    let d0 = dot(g, p);
    if (!(d0 < 0)) {
      setIdentity(H);
      freshH = true;
      for (let i = 0; i < k; i++) p[i] = -g[i]!;
      d0 = dot(g, p);
    }
    const step = wolfeSearch(phi, fx, d0);
    if (step === undefined) {
      if (freshH) break; // steepest descent failed too: as good as this precision allows
      setIdentity(H);
      freshH = true;
      continue;
    }
    // phi() left xTry/gTry at the accepted step's point.
    for (let i = 0; i < k; i++) {
      s[i] = xTry[i]! - x[i]!;
      y[i] = gTry[i]! - g[i]!;
      x[i] = xTry[i]!;
      g[i] = gTry[i]!;
    }
    const fPrev = fx;
    fx = step.f;
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (freshH) scale(H, sy / dot(y, y)); // Nocedal & Wright (6.20)
      bfgsUpdate(H, s, y, sy);
      freshH = false;
    }
    if (fPrev - fx <= relTol * (1 + Math.abs(fx))) { converged = true; iterations++; break; }
  }
  return { x, f: fx, iterations, evaluations, converged };
}

/**
 * Strong-Wolfe line search (Nocedal & Wright Alg. 3.5 with zoom, Alg. 3.6). The zoom interpolates by
 * safeguarded cubic (falling back to bisection when a bracket end is non-finite). On success, the last
 * call to `phi` was at the returned step.
 */
function wolfeSearch(phi: (a: number) => Point, f0: number, d0: number): Point | undefined {
  let prev: Point = { a: 0, f: f0, d: d0 };
  let a = 1;
  for (let i = 0; i < MAX_LINE_STEPS; i++) {
    const cur = phi(a);
    if (cur.f > f0 + C1 * a * d0 || (i > 0 && cur.f >= prev.f) || !Number.isFinite(cur.d)) return zoom(phi, prev, cur, f0, d0);
    if (Math.abs(cur.d) <= -C2 * d0) return cur;
    if (cur.d >= 0) return zoom(phi, cur, prev, f0, d0);
    prev = cur;
    a *= 2;
  }
  return undefined;
}

function zoom(phi: (a: number) => Point, lo: Point, hi: Point, f0: number, d0: number): Point | undefined {
  for (let i = 0; i < MAX_LINE_STEPS; i++) {
    const a = interpolate(lo, hi);
    const cur = phi(a);
    if (cur.f > f0 + C1 * a * d0 || cur.f >= lo.f || !Number.isFinite(cur.d)) {
      hi = cur;
    } else {
      if (Math.abs(cur.d) <= -C2 * d0) return cur;
      if (cur.d * (hi.a - lo.a) >= 0) hi = lo;
      lo = cur;
    }
    if (Math.abs(hi.a - lo.a) <= 1e-16 * Math.max(1, Math.abs(lo.a))) break;
  }
  // The bracket collapsed: accept the low end only if it is a strict decrease.
  if (lo.a > 0 && lo.f < f0) return phi(lo.a);
  return undefined;
}

/** Minimiser of the cubic through (lo, hi) with their slopes, kept inside the middle 80% of the bracket. */
function interpolate(lo: Point, hi: Point): number {
  const left = Math.min(lo.a, hi.a);
  const width = Math.abs(hi.a - lo.a);
  const mid = (lo.a + hi.a) / 2;
  if (!Number.isFinite(hi.f) || !Number.isFinite(hi.d) || !Number.isFinite(lo.d)) return mid;
  const d1 = lo.d + hi.d - 3 * (lo.f - hi.f) / (lo.a - hi.a);
  const disc = d1 * d1 - lo.d * hi.d;
  if (!(disc >= 0)) return mid;
  const d2 = Math.sign(hi.a - lo.a) * Math.sqrt(disc);
  const a = hi.a - (hi.a - lo.a) * (hi.d + d2 - d1) / (hi.d - lo.d + 2 * d2);
  if (!Number.isFinite(a) || a < left + 0.1 * width || a > left + 0.9 * width) return mid;
  return a;
}

function identity(k: number): Float64Array[] {
  return Array.from({ length: k }, (_, i) => {
    const row = new Float64Array(k);
    row[i] = 1;
    return row;
  });
}

function setIdentity(H: Float64Array[]): void {
  H.forEach((row, i) => { row.fill(0); row[i] = 1; });
}

function scale(H: Float64Array[], c: number): void {
  for (const row of H) for (let j = 0; j < row.length; j++) row[j] = row[j]! * c;
}

/** H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/(yᵀs)  (Nocedal & Wright (6.17)). */
function bfgsUpdate(H: Float64Array[], s: Float64Array, y: Float64Array, sy: number): void {
  const k = s.length;
  const rho = 1 / sy;
  const Hy = new Float64Array(k);
  matVec(H, y, Hy, 1);
  const yHy = dot(y, Hy);
  for (let i = 0; i < k; i++) {
    const row = H[i]!;
    for (let j = 0; j < k; j++) {
      row[j] = row[j]! - rho * (Hy[i]! * s[j]! + s[i]! * Hy[j]!) + (rho * rho * yHy + rho) * s[i]! * s[j]!;
    }
  }
}

function matVec(H: Float64Array[], v: Float64Array, out: Float64Array, sign: number): void {
  for (let i = 0; i < v.length; i++) out[i] = sign * dot(H[i]!, v);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
