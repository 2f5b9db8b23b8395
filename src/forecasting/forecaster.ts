import type { EpochMs } from '../core/time.ts';
import type { FeatureFrame } from '../features/frame.ts';

/**
 * A forecaster's specification: JSON, with a `kind` naming the registered implementation and every
 * hyper-parameter. Two forecasters with equal specs and seeds fit identically.
 */
export interface ForecasterSpec {
  readonly kind: string;
  readonly [param: string]: unknown;
}

/** What a forecaster can produce, declared up front so engines refuse before doing work. */
export interface ForecasterCapabilities {
  /** Predicts quantiles of log forward realised variance. */
  readonly quantiles: boolean;
  /** Predicts a spike probability. */
  readonly spike: boolean;
  /** Fits one model across symbols (otherwise one parameter set per symbol). */
  readonly pooled: boolean;
}

/** Options of one fit. */
export interface FitOptions {
  /**
   * Nothing at or after this instant may be used: training labels must be complete before it (an origin
   * t is usable only if its forward window of `horizonBars` closes at or before `fitEnd`: the embargo).
   */
  readonly fitEnd: EpochMs;
  /** Seed for every random draw of the fit. */
  readonly seed: number;
  /** Forecast horizon in bars. */
  readonly horizonBars: number;
  /** Spike definition: forward RV over the horizon > `spikeK` × trailing 30-day median of that RV. */
  readonly spikeK?: number;
}

/** A batch prediction request: forecasts at the close of each origin bar index of one frame. */
export interface PredictRequest {
  /** Bar indices of the frame (ascending); the forecast at t uses frame rows ≤ t only. */
  readonly origins: Int32Array;
  readonly horizonBars: number;
  /** Quantile levels wanted (e.g. 0.5, 0.9, 0.99), for forecasters with `capabilities.quantiles`. */
  readonly quantiles?: readonly number[];
}

/**
 * Forecasts for a batch of origins of one symbol. `variance[i]` is the forecast of the forward realised
 * variance (sum of squared log returns) over bars origins[i]+1 … origins[i]+horizonBars — in squared
 * log-return units, not annualised.
 */
export interface ForecastBatch {
  readonly symbol: string;
  readonly horizonBars: number;
  readonly originMs: Float64Array;
  readonly variance: Float64Array;
  /** Quantile level → forecast of log forward RV at that level, one value per origin. */
  readonly logRvQuantiles?: ReadonlyMap<number, Float64Array>;
  /** Probability that the forward RV is a spike (see {@link FitOptions.spikeK}). */
  readonly spikeProb?: Float64Array;
}

/** A serialised fitted model: JSON metadata plus optional binary weights. */
export interface ModelArtifact {
  readonly spec: ForecasterSpec;
  /** JSON-serialisable state (baseline parameters, normalisation statistics, topology…). */
  readonly state: unknown;
  /** Binary weights (neural models), written as weights.bin. */
  readonly weights?: Uint8Array;
}

/** A fitted, immutable model. */
export interface FittedForecaster<S extends ForecasterSpec = ForecasterSpec> {
  readonly spec: S;
  /** Symbols it was fitted on (pooled models may still predict others, per-symbol ones may not). */
  readonly symbols: readonly string[];
  /** Forecasts at every requested origin of `history`. */
  predict(history: FeatureFrame, req: PredictRequest): ForecastBatch;
  toArtifact(): ModelArtifact;
  /** Frees tensors, if any. */
  dispose(): void;
}

/** A forecaster: a spec and a fit. `fit` never mutates the forecaster; it returns a new fitted model. */
export interface Forecaster<S extends ForecasterSpec = ForecasterSpec> {
  readonly spec: S;
  readonly capabilities: ForecasterCapabilities;
  /** Fits on the given frames (one per symbol), using rows strictly usable before `opts.fitEnd`. */
  fit(train: readonly FeatureFrame[], opts: FitOptions): Promise<FittedForecaster<S>>;
  /** Rebuilds a fitted model from its artifact (no retraining). */
  load(artifact: ModelArtifact): Promise<FittedForecaster<S>>;
}

/** The report name of a model: its spec's `name`, else its `kind`. */
export function modelName(spec: ForecasterSpec): string {
  return typeof spec.name === 'string' ? spec.name : spec.kind;
}
