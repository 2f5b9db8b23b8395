/**
 * Special functions for the standardised Student-t innovation density of GARCH-t (Bollerslev 1987,
 * "A conditionally heteroskedastic time series model for speculative prices and rates of return",
 * REStat 69(3):542–547): z ~ t(ν) rescaled to unit variance, so that ε_t = σ_t·z_t has variance σ²_t.
 *
 *   log f(ε | σ², ν) = c(ν) − ½·log σ² − (ν+1)/2 · log(1 + ε²/((ν−2)·σ²)),
 *   c(ν) = log Γ((ν+1)/2) − log Γ(ν/2) − ½·log(π(ν−2)).
 *
 * This is the density of fGarch's `dstd(x, mean = 0, sd = 1, nu)` and of arch's `StudentsT`.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log Γ(x) for x > 0, by the Lanczos approximation (g = 7, 9 terms; Press et al., Numerical Recipes,
 * 3rd ed., §6.1), with the reflection formula below ½. Relative error ≲ 1e-15 on the range GARCH uses.
 */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0];
  const t = y + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (y + i);
  return HALF_LOG_2PI + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * The digamma function ψ(x) = d/dx log Γ(x) for x > 0: the recurrence ψ(x) = ψ(x+1) − 1/x up to x ≥ 6,
 * then the asymptotic (Stirling) series to x⁻¹⁰ (Abramowitz & Stegun 6.3.18). Absolute error ≲ 1e-13.
 */
export function digamma(x: number): number {
  let acc = 0;
  while (x < 6) {
    acc -= 1 / x;
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))));
  return acc + Math.log(x) - 0.5 * inv - series;
}

/** The constant c(ν) of the standardised Student-t log density (see the module comment); ν > 2. */
export function stdTLogConst(nu: number): number {
  return logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2));
}

/** dc/dν = ½ψ((ν+1)/2) − ½ψ(ν/2) − 1/(2(ν−2)); ν > 2. */
export function stdTLogConstDeriv(nu: number): number {
  return 0.5 * digamma((nu + 1) / 2) - 0.5 * digamma(nu / 2) - 0.5 / (nu - 2);
}

/**
 * Log density of the standardised Student-t with `nu` > 2 degrees of freedom at `e`, scaled by the
 * conditional variance `variance` (i.e. log of fGarch's `dstd(e/σ, 0, 1, nu)/σ`, σ = √variance).
 */
export function stdTLogDensity(e: number, variance: number, nu: number): number {
  return stdTLogConst(nu) - 0.5 * Math.log(variance) - ((nu + 1) / 2) * Math.log1p((e * e) / ((nu - 2) * variance));
}
