/**
 * EWMA / RiskMetrics variance (J.P. Morgan/Reuters, RiskMetrics — Technical Document, 4th ed., 1996, ch. 5):
 *
 *   σ²_{t+1} = λ·σ²_t + (1 − λ)·r²_t,   h-step forecast of Σ_{j=1..h} r²_{t+j} = h·σ²_{t+1} (flat term structure).
 *
 * λ = 0.94 is RiskMetrics' daily decay. Nothing is estimated but the initial variance (the mean of the first
 * 30 squared training returns) and the empirical quantiles of the training forecast errors.
 */
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { INTERVALS } from '../../core/time.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import type { FitOptions, Forecaster, ForecasterCapabilities, ForecasterSpec, FittedForecaster, ModelArtifact } from '../forecaster.ts';
import {
  checkHorizon, createVarianceFitted, firstFinite, fitEachSymbol, fitResidualQuantiles, logReturns, parseArtifactState,
  residualQuantilesSchema, trainingEnd, WARMUP_RETURNS, type ResidualQuantiles, type SymbolFit,
} from './variance-baseline.ts';

/** The EWMA spec: `lambda` ∈ (0, 1) is the decay per bar (default 0.94, RiskMetrics daily). */
export interface EwmaSpec extends ForecasterSpec {
  readonly kind: 'ewma';
  readonly lambda?: number;
}

/** One symbol's fitted EWMA: σ² assigned to its first return (mean of the first 30 squared training returns). */
export interface EwmaSymbolFit extends SymbolFit {
  /** Initial variance, squared log-return units. */
  readonly initVariance: number;
}

/** RiskMetrics' daily decay factor. */
export const RISKMETRICS_LAMBDA = 0.94;

const CAPABILITIES: ForecasterCapabilities = { quantiles: true, spike: false, pooled: false };

/**
 * EWMA forecast of forward RV at every bar index t of `r`, from r[0..t] only: h·σ²_{t+1}, with
 * σ²_{t+1} = λσ²_t + (1−λ)r²_t started at σ²_f = `initVariance` on the first finite return f (origins
 * before f get h·initVariance). A missing return leaves σ² unchanged (r² := σ², its expectation).
 */
export function ewmaForecastPath(lambda: number, initVariance: number, r: Float64Array, horizonBars: number): Float64Array {
  const n = r.length;
  const out = new Float64Array(n);
  const f = firstFinite(r, n);
  let v = initVariance;
  for (let t = 0; t < n; t++) {
    if (t >= f) {
      const rt = r[t]!;
      const r2 = Number.isFinite(rt) ? rt * rt : v;
      v = lambda * v + (1 - lambda) * r2;
    }
    out[t] = horizonBars * v;
  }
  return out;
}

/** Creates the EWMA forecaster of `spec` (RiskMetrics λ = 0.94 by default); throws `config` for λ ∉ (0, 1). */
export function createEwma(spec: EwmaSpec = { kind: 'ewma' }): Forecaster<EwmaSpec> {
  const full = normaliseSpec(spec);
  const lambda = full.lambda ?? RISKMETRICS_LAMBDA;
  const make = (fits: ReadonlyMap<string, EwmaSymbolFit>, s: EwmaSpec): FittedForecaster<EwmaSpec> =>
    createVarianceFitted({
      spec: s,
      fits,
      forecastPath: (state, r, h) => ewmaForecastPath(lambda, state.initVariance, r, h),
      encode: (state) => state,
    });
  return {
    spec: full,
    capabilities: CAPABILITIES,
    async fit(train: readonly FeatureFrame[], opts: FitOptions): Promise<FittedForecaster<EwmaSpec>> {
      checkHorizon(opts.horizonBars, 'The EWMA fit');
      const fits = fitEachSymbol(train, 'EWMA', (frame) => fitSymbol(frame, lambda, opts));
      return make(fits, full);
    },
    async load(artifact: ModelArtifact): Promise<FittedForecaster<EwmaSpec>> {
      const s = normaliseSpec(artifact.spec as EwmaSpec);
      if ((s.lambda ?? RISKMETRICS_LAMBDA) !== lambda) {
        return createEwma(s).load(artifact);
      }
      return make(parseArtifactState('EWMA', artifact.state, SYMBOL_SCHEMA), s);
    },
  };
}

const SYMBOL_SCHEMA: z.ZodType<EwmaSymbolFit> = z.object({
  interval: z.enum(INTERVALS),
  initVariance: z.number().positive(),
  residuals: residualQuantilesSchema,
});

function normaliseSpec(spec: EwmaSpec): EwmaSpec {
  if (spec.kind !== 'ewma') throw new AppError('config', `createEwma got a spec of kind "${String(spec.kind)}": pass { kind: 'ewma', lambda? }.`, { context: { spec } });
  const lambda = spec.lambda ?? RISKMETRICS_LAMBDA;
  if (typeof lambda !== 'number' || !(lambda > 0 && lambda < 1)) {
    throw new AppError('config', `EWMA lambda must be a number in (0, 1), got ${String(lambda)}: use e.g. 0.94 (RiskMetrics daily) or 0.97 (monthly).`, { context: { lambda } });
  }
  return { ...spec, lambda };
}

function fitSymbol(frame: FeatureFrame, lambda: number, opts: FitOptions): EwmaSymbolFit {
  const end = trainingEnd(frame, opts.fitEnd);
  const r = logReturns(frame).subarray(0, end);
  const f = firstFinite(r, end);
  let sum = 0;
  let k = 0;
  for (let t = f; t < end && k < WARMUP_RETURNS; t++) {
    if (Number.isFinite(r[t]!)) { sum += r[t]! ** 2; k++; }
  }
  if (k < WARMUP_RETURNS || !(sum > 0)) {
    throw new AppError('dataQuality', `Cannot fit EWMA on ${frame.symbol}: it needs ${WARMUP_RETURNS} non-zero returns before fitEnd to set the initial variance, found ${k}; move fitEnd later or supply more history.`, { context: { symbol: frame.symbol, returns: k } });
  }
  const initVariance = sum / k;
  const path = ewmaForecastPath(lambda, initVariance, r, opts.horizonBars);
  const residuals: ResidualQuantiles = fitResidualQuantiles({ symbol: frame.symbol, r, forecast: path, end, firstOrigin: f + WARMUP_RETURNS - 1, horizonBars: opts.horizonBars });
  return { interval: frame.interval, initVariance, residuals };
}
