/**
 * A fitted ml forecaster: predicts quantiles of log forward RV, a QLIKE-sensible variance and a calibrated
 * spike probability for a batch of origins with one model call, and serialises itself.
 */
import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../../core/errors.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import type { FittedForecaster, ForecastBatch, ModelArtifact, PredictRequest } from '../forecaster.ts';
import { calibrate, type SpikeCalibration } from './calibration.ts';
import type { HarCoefs } from './har.ts';
import { checkFrameColumns, modelInputs } from './inputs.ts';
import { forward } from './network.ts';
import { interpolateQuantile, logSigma, lognormalMean, spreadBasis, type SpreadBasis } from './quantiles.ts';
import type { MlSpec } from './spec.ts';
import type { MlState } from './state.ts';

/** Decoded outputs of valid rows: log-RV quantiles at the trained levels (row-major), uncalibrated mean RV, logits. */
export interface Decoded {
  readonly logQ: Float64Array;
  readonly meanRv: Float64Array;
  readonly logit: Float32Array;
}

/**
 * Runs the network on normalised inputs `x` (n × width) and maps its standardised outputs back to log RV:
 * log q_τ = offset + s_e · q̃_τ. The variance (before the variance scale) is exp(offset + v) from the
 * QLIKE-trained variance head when the network has one, else the lognormal mean exp(m + σ²/2).
 */
export function decode(model: tf.LayersModel, x: Float32Array, offset: Float64Array, width: number, quantiles: readonly number[], har: HarCoefs, basis: SpreadBasis = spreadBasis(quantiles)): Decoded {
  const n = offset.length;
  const Q = quantiles.length;
  const { quant, logit, logVar } = forward(model, x, n, width, Q);
  const logQ = new Float64Array(n * Q);
  const meanRv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < Q; j++) logQ[i * Q + j] = offset[i]! + har.residualStd * quant[i * Q + j]!;
    meanRv[i] = logVar
      ? Math.exp(offset[i]! + logVar[i]!)
      : lognormalMean(logQ[i * Q + basis.medianIndex]!, logSigma(basis, logQ, i * Q, har.residualStd));
  }
  return { logQ, meanRv, logit };
}

/** The fitted HAR-residual network. Immutable; `dispose()` frees its tensors. */
export class FittedMlForecaster implements FittedForecaster<MlSpec> {
  readonly symbols: readonly string[];
  private model: tf.LayersModel | undefined;
  private readonly basis: SpreadBasis;

  constructor(readonly spec: MlSpec, private readonly state: MlState, model: tf.LayersModel, private readonly weights: Uint8Array) {
    this.model = model;
    this.symbols = [...state.symbols];
    this.basis = spreadBasis(state.quantiles);
  }

  /** Diagnostics of the fit (validation losses, calibration-tail Brier / QLIKE / coverage, timings). */
  get metrics(): Readonly<Record<string, number | null>> {
    return this.state.metrics;
  }

  /** The TensorFlow.js backend the model was trained on. */
  get backend(): string {
    return this.state.backend;
  }

  /**
   * Forecasts at each requested origin of `history` (inputs at rows ≤ origin only). An origin with any
   * non-finite input gets NaN outputs. A symbol not seen in training is normalised with the pooled statistics.
   * Requested quantile levels not trained are interpolated in normal scores between trained levels.
   */
  predict(history: FeatureFrame, req: PredictRequest): ForecastBatch {
    const model = this.model;
    const st = this.state;
    if (!model) throw new AppError('config', `Model ${st.name} was disposed; load it again before predicting.`, { context: { model: st.name } });
    if (req.horizonBars !== st.horizonBars) throw new AppError('config', `Model ${st.name} was trained for a ${st.horizonBars}-bar horizon but ${req.horizonBars} bars were requested; train a model for that horizon.`, { context: { model: st.name, trained: st.horizonBars, requested: req.horizonBars } });
    if (history.interval !== st.interval) throw new AppError('config', `Model ${st.name} was trained on ${st.interval} bars but the frame of ${history.symbol} is ${history.interval}; build features at ${st.interval} or train a model for ${history.interval}.`, { context: { model: st.name } });
    checkFrameColumns(history, { name: st.name, featureNames: st.featureNames, featureHash: st.featureHash });
    const len = history.timeMs.length;
    const origins = req.origins;
    for (let i = 0; i < origins.length; i++) {
      const o = origins[i]!;
      if (!(o >= 0 && o < len)) throw new AppError('badRequest', `Origin index ${o} is outside the frame of ${history.symbol} (0…${len - 1}); request origins inside the frame.`, { context: { origin: o, length: len } });
    }
    const levels = req.quantiles ?? st.quantiles;
    const badLevel = levels.find((l) => !(l > 0 && l < 1));
    if (badLevel !== undefined) throw new AppError('badRequest', `Quantile level ${badLevel} is not strictly between 0 and 1; request levels such as 0.5, 0.9 or 0.99.`, { context: { quantiles: levels } });
    const n = origins.length;
    const variance = new Float64Array(n).fill(Number.NaN);
    const spikeProb = new Float64Array(n).fill(Number.NaN);
    const qOut = levels.map(() => new Float64Array(n).fill(Number.NaN));
    const width = st.featureNames.length;
    const inp = modelInputs(history, origins, st.featureNames, st.normalisation, st.harCoefs);
    const dec = decode(model, inp.x, inp.offset, width, st.quantiles, st.harCoefs, this.basis);
    const Q = st.quantiles.length;
    const cal = st.calibration;
    for (let k = 0; k < inp.valid.length; k++) {
      const i = inp.valid[k]!;
      variance[i] = cal.varianceScale * dec.meanRv[k]!;
      spikeProb[i] = calibrate(cal.spike as SpikeCalibration, dec.logit[k]!);
      levels.forEach((tau, j) => { qOut[j]![i] = interpolateQuantile(st.quantiles, dec.logQ, k * Q, tau); });
    }
    const originMs = Float64Array.from(origins, (o) => history.timeMs[o]!);
    return {
      symbol: history.symbol, horizonBars: req.horizonBars, originMs, variance,
      logRvQuantiles: new Map(levels.map((tau, j) => [tau, qOut[j]!])),
      spikeProb,
    };
  }

  /** The artifact: spec, JSON state (topology, normalisation, HAR, calibration, backend, provenance) and weights. */
  toArtifact(): ModelArtifact {
    return { spec: this.spec, state: structuredClone(this.state), weights: this.weights.slice() };
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}
