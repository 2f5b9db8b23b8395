/**
 * GARCH(1,1) variance forecaster (Bollerslev 1986, J. Econometrics 31:307–327) with standardised Student-t
 * (Bollerslev 1987, REStat 69(3):542–547) or Gaussian innovations, per symbol, fitted by maximum likelihood
 * ({@link fitGarch11}) under ω > 0, α₁, β₁ ≥ 0, α₁ + β₁ < 1, ν > 2:
 *
 *   x_t = μ + ε_t,  σ²_{t+1} = ω + α₁·ε²_t + β₁·σ²_t,
 *   Σ_{k=1..h} E_t[σ²_{t+k}],  E_t[σ²_{t+k}] = σ̄² + (α₁+β₁)^{k−1}·(σ²_{t+1} − σ̄²),  σ̄² = ω/(1−α₁−β₁).
 *
 * Units: the model is fitted on x = 100·r (percent log returns) so that ω is O(0.01–1) rather than O(1e-6)
 * and the optimiser's tolerances mean the same on every interval; ω is in %², μ in %. Forecasts are turned
 * back into squared log-return units (÷ 100²). The target Σ r² is not demeaned, so a constant mean adds h·μ².
 *
 * Variance initialisation: fGarch's "mci" rule, σ²_1 = ω + (α₁+β₁)·mean(ε²) over the training returns, which
 * is the sample second moment when ω = (1−α₁−β₁)·s²; prediction restarts from that fitted σ²_1 at the
 * first return of the history frame. On crypto data the unconstrained optimum often has α₁+β₁ > 1 (fGarch
 * finds 1.035 on BTCUSDT daily 2018–2023, with ν ≈ 2.7): this forecaster then sits on the bound
 * α₁+β₁ = 1 − 1e-6, an IGARCH-like fit, because an explosive expected variance is no forecast.
 */
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { INTERVALS } from '../../core/time.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import type { FitOptions, Forecaster, ForecasterCapabilities, ForecasterSpec, FittedForecaster, ModelArtifact } from '../forecaster.ts';
import { fitGarch11, garch11InitVariance, type InnovationDist } from './garch-mle.ts';
import {
  checkHorizon, createVarianceFitted, firstFinite, fitEachSymbol, fitResidualQuantiles, logReturns, parseArtifactState,
  residualQuantilesSchema, trainingEnd, WARMUP_RETURNS, type SymbolFit,
} from './variance-baseline.ts';

/** The GARCH spec: innovation distribution (default Student-t) and mean (default zero). */
export interface GarchSpec extends ForecasterSpec {
  readonly kind: 'garch';
  readonly dist?: InnovationDist;
  readonly mean?: 'zero' | 'constant';
}

/** Returns are multiplied by this before fitting (percent log returns). */
export const RETURN_SCALE = 100;
/** Fewest finite training returns a GARCH fit accepts. */
export const MIN_GARCH_RETURNS = 100;

/** One symbol's fitted GARCH(1,1), in percent units (see the module comment). */
export interface GarchSymbolFit extends SymbolFit {
  readonly mu: number;
  readonly omega: number;
  readonly alpha1: number;
  readonly beta1: number;
  /** ν of the Student-t; null for Gaussian innovations. */
  readonly shape: number | null;
  /** σ²_1 (%²) assigned to the first return of a frame. */
  readonly initVariance: number;
  /** Maximised log-likelihood of the percent returns and the number of returns in it. */
  readonly logLik: number;
  readonly nObs: number;
}

const CAPABILITIES: ForecasterCapabilities = { quantiles: true, spike: false, pooled: false };

/**
 * GARCH forecast of forward RV (squared log-return units) at every bar index t of `r`, from r[0..t] only.
 * One filtering pass: σ²_{t+1} = ω + α₁(100·r_t − μ)² + β₁σ²_t from σ²_f = initVariance at the first finite
 * return f (a missing return enters as its expectation, ε² := σ²); then the h-step sum in closed form,
 * A_h·σ²_{t+1} + B_h·ω + h·μ² with A_h = Σ_{k=1..h} φ^{k−1}, B_h = Σ_{k=1..h} Σ_{j=0..k−2} φ^j, φ = α₁+β₁ —
 * the σ̄² form above, without its cancellation as φ → 1. O(n + h).
 */
export function garchForecastPath(p: Pick<GarchSymbolFit, 'mu' | 'omega' | 'alpha1' | 'beta1' | 'initVariance'>, r: Float64Array, horizonBars: number): Float64Array {
  const { mu, omega, alpha1, beta1 } = p;
  const phi = alpha1 + beta1;
  let A = 0;
  let B = 0;
  let pw = 1;
  let geo = 0;
  for (let k = 1; k <= horizonBars; k++) {
    A += pw;
    B += geo;
    geo += pw;
    pw *= phi;
  }
  const unscale = 1 / (RETURN_SCALE * RETURN_SCALE);
  const constant = (B * omega + horizonBars * mu * mu) * unscale;
  const n = r.length;
  const out = new Float64Array(n);
  const f = firstFinite(r, n);
  let h = p.initVariance;
  for (let t = 0; t < n; t++) {
    if (t >= f) {
      const e = RETURN_SCALE * r[t]! - mu;
      const e2 = Number.isFinite(e) ? e * e : h;
      h = omega + alpha1 * e2 + beta1 * h;
    }
    out[t] = A * h * unscale + constant;
  }
  return out;
}

/** Creates the GARCH(1,1) forecaster of `spec` (Student-t, zero mean by default); throws `config` for unknown options. */
export function createGarch(spec: GarchSpec = { kind: 'garch' }): Forecaster<GarchSpec> {
  const full = normaliseSpec(spec);
  const make = (fits: ReadonlyMap<string, GarchSymbolFit>, s: GarchSpec): FittedForecaster<GarchSpec> =>
    createVarianceFitted({ spec: s, fits, forecastPath: garchForecastPath, encode: (state) => state });
  return {
    spec: full,
    capabilities: CAPABILITIES,
    async fit(train: readonly FeatureFrame[], opts: FitOptions): Promise<FittedForecaster<GarchSpec>> {
      checkHorizon(opts.horizonBars, 'The GARCH fit');
      const fits = fitEachSymbol(train, 'GARCH', (frame) => fitSymbol(frame, full, opts));
      return make(fits, full);
    },
    async load(artifact: ModelArtifact): Promise<FittedForecaster<GarchSpec>> {
      const s = normaliseSpec(artifact.spec as GarchSpec);
      return make(parseArtifactState('GARCH', artifact.state, SYMBOL_SCHEMA), s);
    },
  };
}

const SYMBOL_SCHEMA: z.ZodType<GarchSymbolFit> = z.object({
  interval: z.enum(INTERVALS),
  mu: z.number(),
  omega: z.number().positive(),
  alpha1: z.number().min(0),
  beta1: z.number().min(0),
  shape: z.number().gt(2).nullable(),
  initVariance: z.number().positive(),
  logLik: z.number(),
  nObs: z.number().int().positive(),
  residuals: residualQuantilesSchema,
}).refine((s) => s.alpha1 + s.beta1 < 1, { message: 'alpha1 + beta1 must be < 1' });

function normaliseSpec(spec: GarchSpec): GarchSpec {
  if (spec.kind !== 'garch') throw new AppError('config', `createGarch got a spec of kind "${String(spec.kind)}": pass { kind: 'garch', dist?, mean? }.`, { context: { spec } });
  const dist = spec.dist ?? 't';
  const mean = spec.mean ?? 'zero';
  if (dist !== 't' && dist !== 'normal') throw new AppError('config', `GARCH dist must be 't' or 'normal', got ${String(dist)}.`, { context: { dist } });
  if (mean !== 'zero' && mean !== 'constant') throw new AppError('config', `GARCH mean must be 'zero' or 'constant', got ${String(mean)}.`, { context: { mean } });
  return { ...spec, dist, mean };
}

function fitSymbol(frame: FeatureFrame, spec: GarchSpec, opts: FitOptions): GarchSymbolFit {
  const end = trainingEnd(frame, opts.fitEnd);
  const r = logReturns(frame).subarray(0, end);
  const f = firstFinite(r, end);
  const x = new Float64Array(end - f);
  let finite = 0;
  for (let t = f; t < end; t++) {
    x[t - f] = RETURN_SCALE * r[t]!;
    if (Number.isFinite(r[t]!)) finite++;
  }
  if (finite < MIN_GARCH_RETURNS) {
    throw new AppError('dataQuality', `Cannot fit GARCH on ${frame.symbol}: it needs ${MIN_GARCH_RETURNS} returns before fitEnd, found ${finite}; move fitEnd later or supply more history.`, { context: { symbol: frame.symbol, returns: finite } });
  }
  const fit = fitGarch11(x, { dist: spec.dist ?? 't', mean: spec.mean ?? 'zero', region: 'stationary' });
  if (!Number.isFinite(fit.logLik)) {
    throw new AppError('dataQuality', `The GARCH likelihood of ${frame.symbol} could not be evaluated at any starting point (constant or degenerate returns?): check the bars before fitEnd.`, { context: { symbol: frame.symbol } });
  }
  const { mu, omega, alpha1, beta1, shape } = fit.params;
  const initVariance = garch11InitVariance(x, fit.params);
  const state = { interval: frame.interval, mu, omega, alpha1, beta1, shape: Number.isNaN(shape) ? null : shape, initVariance, logLik: fit.logLik, nObs: fit.nObs };
  const path = garchForecastPath(state, r, opts.horizonBars);
  const residuals = fitResidualQuantiles({ symbol: frame.symbol, r, forecast: path, end, firstOrigin: f + WARMUP_RETURNS - 1, horizonBars: opts.horizonBars });
  return { ...state, residuals };
}
