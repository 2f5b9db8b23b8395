/**
 * The `ml` forecaster: a HAR-residual dense network with quantile, spike and variance heads, pooled across
 * symbols, averaged over a small seed ensemble.
 *
 * - Mean: the pooled log-HAR of Corsi (2009) with per-symbol fixed effects (har.ts), fitted by OLS on the
 *   training fold; the network starts at it and learns a residual (HARNet idea, arXiv 2205.07719).
 * - Inputs: the frame's base features plus causal derived ones (derived.ts): last-4h / last-12h RV and the
 *   UTC hour-of-day / day-of-week of the origin on the unit circle.
 * - Network (network.ts): z-scored features (per-symbol statistics, transform.ts) → dense ReLU layers plus a
 *   linear skip → monotone quantiles of the standardised HAR residual (pinball loss), a spike logit (BCE) and
 *   a log variance trained on QLIKE (the point forecast), jointly with Adam on seeded mini-batches,
 *   early-stopped on a time-ordered validation fold. `ensemble` members (different seeds) are averaged.
 * - Calibration (on the held-back tail, samples.ts): Platt (default) or isotonic for the spike probability.
 *   The variance head needs no scale (a tail-fitted scale only added noise: validation-year QLIKE ratio
 *   0.876 without vs 0.910 with); the scale is still fitted and recorded (`calVarianceScaleFitted`).
 * - Unseen symbols are normalised with statistics pooled over all training symbols.
 *
 * Everything random is seeded from `FitOptions.seed` (initialisers, sub-sample, batch order): equal seeds and
 * data give bit-identical weights on one backend.
 */
import { AppError } from '../../core/errors.ts';
import { deriveSeed } from '../../core/rng.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import { BASE_FEATURES, featureSetHash } from '../../features/build.ts';
import type { FitOptions, Forecaster, ModelArtifact } from '../forecaster.ts';
import { loadTf } from './backend.ts';
import { brierScore, calibrate, fitIsotonic, fitPlatt, sigmoid } from './calibration.ts';
import { DERIVED_FEATURES } from './derived.ts';
import { decode, FittedMlForecaster } from './fitted.ts';
import { HAR_INPUTS } from './har.ts';
import { requiredColumns } from './inputs.ts';
import type * as tf from '@tensorflow/tfjs';
import { averageNetworks, buildNetwork, evaluate, hasVarianceHead, trainNetwork, type EpochProgress, type TrainData } from './network.ts';
import { meanQlike, qlikeScale } from './quantiles.ts';
import { buildFitData, toTrainData, type Fold } from './samples.ts';
import { resolveMlSpec, type MlSpec, type ResolvedMlSpec } from './spec.ts';
import { jsonMetrics, ML_STATE_FORMAT, parseMlState, type MlState } from './state.ts';
import { deserialiseModel, serialiseModel } from './weights-io.ts';

export { FittedMlForecaster } from './fitted.ts';
export type { MlSpec } from './spec.ts';

/** Empirical quantile (linear interpolation) of a sorted array. */
function sortedQuantile(sorted: Float32Array, tau: number): number {
  if (sorted.length === 0) return 0;
  const pos = tau * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Initial output bias: the residual quantiles as first value + softplus⁻¹ increments, the base-rate logit, and
 * log mean(RV / exp(offset)) — the QLIKE-optimal constant of the variance head.
 */
function initialBias(train: TrainData, quantiles: readonly number[]): number[] {
  const sorted = train.y.slice().sort();
  const q = quantiles.map((t) => sortedQuantile(sorted, t));
  const raw = [q[0]!];
  for (let k = 1; k < q.length; k++) {
    const inc = Math.max(q[k]! - q[k - 1]!, 1e-3);
    raw.push(inc > 20 ? inc : Math.log(Math.expm1(inc)));
  }
  let pos = 0; let n = 0;
  for (let i = 0; i < train.n; i++) { pos += train.spike[i]! * train.mask[i]!; n += train.mask[i]!; }
  const p = Math.min(Math.max(n > 0 ? pos / n : 0.1, 1e-3), 1 - 1e-3);
  let ratio = 0;
  for (let i = 0; i < train.n; i++) ratio += train.ratio[i]!;
  const v = train.n > 0 && ratio > 0 ? Math.log(ratio / train.n) : 0;
  return [...raw, Math.log(p / (1 - p)), v];
}

/** Fits the spike calibration (and, for a network without variance head, the variance scale) on a fold, and measures them there. */
function calibrateOn(fitted: { model: Parameters<typeof decode>[0] }, fold: Fold, width: number, spec: ResolvedMlSpec, har: MlState['harCoefs']) {
  const dec = decode(fitted.model, fold.x, fold.offset, width, spec.quantiles, har);
  const spike = spec.calibration === 'isotonic' ? fitIsotonic(dec.logit, fold.spike) : fitPlatt(dec.logit, fold.spike);
  // The QLIKE-trained variance head already targets E[RV]: a scale refitted on the short calibration tail only
  // adds noise (validation year: QLIKE ratio 0.876 without vs 0.910 with), so it is recorded but not applied.
  // The lognormal fallback (a network without the head) still needs it.
  const fittedScale = qlikeScale(fold.rv, dec.meanRv);
  const varianceScale = hasVarianceHead(fitted.model, spec.quantiles.length) ? 1 : fittedScale;
  const raw = Float64Array.from(dec.logit, sigmoid);
  const cal = Float64Array.from(dec.logit, (s) => calibrate(spike, s));
  const harOnly = Float64Array.from(fold.offset, (o) => Math.exp(o + 0.5 * har.residualStd ** 2));
  const harScale = qlikeScale(fold.rv, harOnly);
  const metrics: Record<string, number> = {
    calRows: fold.n,
    calBrierRaw: brierScore(raw, fold.spike),
    calBrierCalibrated: brierScore(cal, fold.spike),
    calQlike: meanQlike(fold.rv, dec.meanRv.map((v) => v * varianceScale)),
    calVarianceScaleFitted: fittedScale,
    calQlikeHar: meanQlike(fold.rv, harOnly.map((v) => v * harScale)),
  };
  const Q = spec.quantiles.length;
  spec.quantiles.forEach((tau, j) => {
    let hit = 0;
    for (let i = 0; i < fold.n; i++) if (fold.logTarget[i]! <= dec.logQ[i * Q + j]!) hit++;
    metrics[`calCoverage_${tau}`] = fold.n ? hit / fold.n : Number.NaN;
  });
  return { spike, varianceScale, metrics };
}

/** The `ml` forecaster, typed so that fit and load return the concrete {@link FittedMlForecaster}. */
export interface MlForecaster extends Forecaster<MlSpec> {
  fit(train: readonly FeatureFrame[], opts: FitOptions): Promise<FittedMlForecaster>;
  load(artifact: ModelArtifact): Promise<FittedMlForecaster>;
}

/** Progress of an `ml` fit after one epoch of one ensemble member (0-based `member` of `members`). */
export interface MlEpochProgress extends EpochProgress {
  readonly member: number;
  readonly members: number;
}

/** Observers of an `ml` fit (not part of the spec: they change nothing in the model). */
export interface MlFitHooks {
  /** Called after every training epoch of every member (a progress bar; must not throw). */
  readonly onEpoch?: (e: MlEpochProgress) => void;
}

/**
 * Creates the `ml` forecaster (capabilities: quantiles, spike, pooled). See the module comment for the model.
 * @param spec - Hyper-parameters; all optional (defaults: `ML_DEFAULTS` in spec.ts).
 * @param hooks - Progress observers of `fit`.
 */
export function createMlForecaster(spec: MlSpec = { kind: 'ml' }, hooks: MlFitHooks = {}): MlForecaster {
  const resolved = resolveMlSpec(spec);
  return {
    spec,
    capabilities: { quantiles: true, spike: true, pooled: true },

    async fit(frames: readonly FeatureFrame[], opts: FitOptions): Promise<FittedMlForecaster> {
      const t0 = performance.now();
      const { backend } = await loadTf();
      if (!Number.isInteger(opts.horizonBars) || opts.horizonBars < 1) throw new AppError('config', `The ml forecaster needs a positive whole number of horizon bars, not ${opts.horizonBars}.`, { context: { horizonBars: opts.horizonBars } });
      // Default: the base features every training frame has (qvol_z / trades_z are absent for bars without
      // quote volume or trade counts). The list is recorded, and prediction frames must carry all of it.
      const featureNames = resolved.features ? [...resolved.features] : [...BASE_FEATURES.filter((n) => frames.every((f) => f.columns[n])), ...DERIVED_FEATURES];
      for (const f of frames) {
        const missing = requiredColumns(featureNames).filter((c) => !f.columns[c]);
        if (missing.length) throw new AppError('config', `The training frame of ${f.symbol} lacks ${missing.join(', ')}, which model ${resolved.name} uses; rebuild the features with those inputs or drop them from the spec's features.`, { context: { symbol: f.symbol, missing } });
      }
      const data = buildFitData(frames, featureNames, opts);
      const width = featureNames.length;
      const train = toTrainData(data.train, data.har.residualStd, width, { maxRows: resolved.maxTrainSamples, seed: opts.seed });
      const val = toTrainData(data.val, data.har.residualStd, width);
      const weights = { spike: resolved.spikeLossWeight, variance: resolved.varianceLossWeight };
      const outputBias = initialBias(train, resolved.quantiles);
      // Ensemble members differ only in their seeds (initialiser and batch order); member 0 uses opts.seed itself.
      const memberSeed = (k: number): number => (k === 0 ? opts.seed : deriveSeed(opts.seed, `member_${k}`));
      const netCfg = (k: number) => ({ inputs: width, hidden: resolved.hidden, quantileCount: resolved.quantiles.length, seed: deriveSeed(memberSeed(k), 'init'), outputBias });
      const members: tf.LayersModel[] = [];
      let model: tf.LayersModel | undefined;
      try {
        const reports = [];
        for (let k = 0; k < resolved.ensemble; k++) {
          const member = buildNetwork(netCfg(k));
          members.push(member);
          reports.push(trainNetwork(member, train, val, {
            epochs: resolved.epochs, batchSize: resolved.batchSize, learningRate: resolved.learningRate, patience: resolved.patience,
            quantiles: resolved.quantiles, weights, seed: memberSeed(k),
            ...(hooks.onEpoch ? { onEpoch: (e: EpochProgress) => hooks.onEpoch!({ ...e, member: k, members: resolved.ensemble }) } : {}),
          }));
        }
        model = averageNetworks(members, netCfg(0));
        if (model !== members[0]) for (const m of members.splice(0)) m.dispose();
        else members.length = 0;
        const report = reports[0]!;
        const ensembleVal = members.length === 0 && reports.length > 1 ? evaluate(model, val.n ? val : train, resolved.quantiles, weights) : report.bestVal;
        // The calibration tail is normally non-empty; on very short histories fall back to validation, then train.
        const [calFold, foldName] = data.cal.n >= 20 ? [data.cal, 'calibration' as const] : data.val.n >= 20 ? [data.val, 'validation' as const] : [data.train, 'train' as const];
        const c = calibrateOn({ model }, calFold, width, resolved, data.har);
        const serial = await serialiseModel(model);
        const trainingMs = performance.now() - t0;
        const state: MlState = {
          format: ML_STATE_FORMAT, name: resolved.name,
          topology: serial.topology as Record<string, unknown>, weightSpecs: serial.weightSpecs,
          backend, featureNames, featureHash: featureSetHash(featureNames), harInputs: [...HAR_INPUTS],
          normalisation: data.norm, harCoefs: data.har, quantiles: [...resolved.quantiles],
          calibration: { spike: c.spike, varianceScale: c.varianceScale, sigmaFallback: data.har.residualStd, fold: foldName },
          interval: frames[0]!.interval, horizonBars: opts.horizonBars, spikeK: opts.spikeK ?? null,
          trainRange: data.range, symbols: data.symbols, seed: opts.seed,
          hyper: {
            hidden: [...resolved.hidden], epochs: resolved.epochs, batchSize: resolved.batchSize, learningRate: resolved.learningRate,
            patience: resolved.patience, maxTrainSamples: resolved.maxTrainSamples, calibration: resolved.calibration, spikeLossWeight: resolved.spikeLossWeight,
            varianceLossWeight: resolved.varianceLossWeight, ensemble: resolved.ensemble,
          },
          trainingMs, samplesPerSec: report.samplesPerSec,
          samples: { train: data.train.n, trainUsed: train.n, val: data.val.n, cal: data.cal.n },
          training: { epochsRun: report.epochsRun, bestEpoch: report.bestEpoch, samplesSeen: reports.reduce((s, r) => s + r.samplesSeen, 0) },
          metrics: jsonMetrics({
            valPinballInitial: report.initialVal.pinball, valBceInitial: report.initialVal.bce,
            valQlikeInitial: report.initialVal.qlike,
            valPinball: ensembleVal.pinball, valBce: ensembleVal.bce, valQlike: ensembleVal.qlike,
            ensemble: resolved.ensemble,
            trainPinball: evaluate(model, train, resolved.quantiles, weights).pinball,
            trainLoopMs: reports.reduce((s, r) => s + r.trainMs, 0),
            ...c.metrics,
          }),
        };
        return new FittedMlForecaster(spec, state, model, serial.weights);
      } catch (e) {
        try { model?.dispose(); for (const m of members) if (m !== model) m.dispose(); } catch { /* keep the original error */ }
        throw e;
      }
    },

    async load(artifact: ModelArtifact): Promise<FittedMlForecaster> {
      await loadTf();
      if (artifact.spec.kind !== 'ml') throw new AppError('config', `An artifact of kind "${artifact.spec.kind}" cannot be loaded by the ml forecaster; load it with the forecaster of its kind.`, { context: { kind: artifact.spec.kind } });
      const what = `model ${typeof artifact.spec.name === 'string' ? artifact.spec.name : 'ml'}`;
      const state = parseMlState(artifact.state, what);
      if (!artifact.weights) throw new AppError('schema', `The artifact of ${what} has no weights; save it again with its weights.bin.`, { context: { what } });
      const model = await deserialiseModel({ topology: state.topology, weightSpecs: state.weightSpecs, weights: artifact.weights }, what);
      return new FittedMlForecaster(artifact.spec as MlSpec, state, model, artifact.weights.slice());
    },
  };
}
