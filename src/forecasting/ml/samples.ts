/**
 * The fitting data set of the ml forecaster (pure): labels, the time-ordered train / validation /
 * calibration folds with embargoes, normalisation statistics, the pooled HAR and the network targets.
 *
 * Folds, on the pooled time axis of the usable origins (those whose forward window closes ≤ fitEnd):
 *
 *   | train (first 85 %) | validation (next 10 %) | calibration tail (last 5 %) |
 *
 * An origin belongs to train only if its label window closes at or before the validation start, and to
 * validation only if its label window closes at or before the calibration start (`trainingOrigins` with the
 * fold start as its `fitEnd`): no label of an earlier fold overlaps a later fold. Validation drives early
 * stopping; the calibration tail, seen by neither gradient steps nor early stopping, fits the spike
 * calibration and the variance scale. Normalisation statistics and the HAR come from train rows only.
 */
import { AppError } from '../../core/errors.ts';
import { intervalMs } from '../../core/time.ts';
import { createRng, deriveSeed } from '../../core/rng.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import { barsPerDay } from '../../features/build.ts';
import { forwardRv, spikeLabels } from '../../dataset/targets.ts';
import { trainingOrigins } from '../../dataset/walk-forward.ts';
import type { FitOptions } from '../forecaster.ts';
import { fitHar, HAR_INPUTS, type HarCoefs } from './har.ts';
import { modelInputs } from './inputs.ts';
import type { TrainData } from './network.ts';
import { fitFloors, StatsAccumulator, transformedRows, type Normalisation } from './transform.ts';

/** Share of the usable time span held out after train (validation + calibration tail). */
export const HELD_OUT_FRACTION = 0.15;
/** Share of the usable time span in the calibration tail (the end of the held-out part). */
export const CALIBRATION_FRACTION = 0.05;
/** Look-back of the spike definition: forward RV > k × the trailing 30-day median. */
export const SPIKE_LOOKBACK_DAYS = 30;

/** One fold's rows, concatenated over frames. */
export interface Fold {
  readonly n: number;
  readonly x: Float32Array;
  /** HAR mean of log forward RV (log units). */
  readonly offset: Float64Array;
  readonly logTarget: Float64Array;
  /** Forward realised variance (the QLIKE target). */
  readonly rv: Float64Array;
  /** Spike label 1/0, NaN where undefined. */
  readonly spike: Float64Array;
}

/** Everything the fit needs, with provenance. */
export interface FitData {
  readonly norm: Normalisation;
  readonly har: HarCoefs;
  readonly train: Fold;
  readonly val: Fold;
  readonly cal: Fold;
  readonly range: { fromMs: number; toMs: number; valStartMs: number; calStartMs: number; fitEndMs: number };
  readonly symbols: string[];
}

interface Labelled { frame: FeatureFrame; logTarget: Float64Array; rv: Float64Array; spike: Float64Array }

function label(frame: FeatureFrame, opts: FitOptions): Labelled {
  const r = frame.columns.r;
  if (!r) throw new AppError('config', `The frame of ${frame.symbol} has no "r" (log return) column, which the ml forecaster needs for its labels; rebuild the features with buildFeatureFrame.`, { context: { symbol: frame.symbol } });
  const rv = forwardRv(r, opts.horizonBars);
  const logTarget = rv.map((v) => (v > 0 && Number.isFinite(v) ? Math.log(v) : Number.NaN));
  const lookbackBars = Math.round(SPIKE_LOOKBACK_DAYS * barsPerDay(frame.interval));
  const spike = spikeLabels(r, opts.horizonBars, opts.spikeK === undefined ? { lookbackBars } : { k: opts.spikeK, lookbackBars });
  return { frame, logTarget, rv, spike };
}

const filterByTime = (idx: Int32Array, timeMs: Float64Array, fromMs: number): Int32Array => idx.filter((t) => timeMs[t]! >= fromMs);

/** Assembles one fold from per-frame origins; rows with a non-finite input or label are dropped. */
function assemble(lab: readonly Labelled[], origins: readonly Int32Array[], featureNames: readonly string[], norm: Normalisation, har: HarCoefs): Fold & { harLogs: Float64Array; targetMeans: Float64Array; harMeans: Float64Array } {
  const width = featureNames.length;
  const hw = HAR_INPUTS.length;
  const parts = lab.map((l, i) => {
    const o = origins[i]!;
    const inp = modelInputs(l.frame, o, featureNames, norm, har);
    const keep: number[] = [];
    for (let k = 0; k < inp.valid.length; k++) if (Number.isFinite(l.logTarget[o[inp.valid[k]!]!]!)) keep.push(k);
    return { l, o, inp, keep };
  });
  const n = parts.reduce((s, p) => s + p.keep.length, 0);
  const fold = {
    n, x: new Float32Array(n * width), offset: new Float64Array(n), logTarget: new Float64Array(n), rv: new Float64Array(n), spike: new Float64Array(n),
    harLogs: new Float64Array(n * hw), targetMeans: new Float64Array(n), harMeans: new Float64Array(n * hw),
  };
  let row = 0;
  for (const { l, o, inp, keep } of parts) {
    const st = norm.bySymbol[l.frame.symbol] ?? norm.pooled;
    for (const k of keep) {
      const t = o[inp.valid[k]!]!;
      fold.x.set(inp.x.subarray(k * width, (k + 1) * width), row * width);
      fold.harLogs.set(inp.harLogs.subarray(k * hw, (k + 1) * hw), row * hw);
      fold.harMeans.set(st.harMean, row * hw);
      fold.targetMeans[row] = st.targetMean;
      fold.offset[row] = inp.offset[k]!;
      fold.logTarget[row] = l.logTarget[t]!;
      fold.rv[row] = l.rv[t]!;
      fold.spike[row] = l.spike[t]!;
      row++;
    }
  }
  return fold;
}

/** Splits, labels, normalises and fits the HAR; returns the three folds. */
export function buildFitData(frames: readonly FeatureFrame[], featureNames: readonly string[], opts: FitOptions): FitData {
  const first = frames[0];
  if (!first) throw new AppError('config', 'The ml forecaster was given no training frames; pass at least one symbol.', {});
  const bad = frames.find((f) => f.interval !== first.interval);
  if (bad) throw new AppError('config', `The ml forecaster pools frames of one bar interval, but ${bad.symbol} is ${bad.interval} and ${first.symbol} is ${first.interval}; fit one model per interval.`, { context: { symbols: frames.map((f) => f.symbol) } });
  const symbols = frames.map((f) => f.symbol);
  if (new Set(symbols).size !== symbols.length) throw new AppError('config', `The ml forecaster was given two frames of one symbol (${symbols.join(', ')}); pass one frame per symbol.`, { context: { symbols } });
  const stepMs = intervalMs(first.interval);
  const lab = frames.map((f) => label(f, opts));

  const usable = frames.map((f) => trainingOrigins(f.timeMs, stepMs, opts.horizonBars, opts.fitEnd));
  let fromMs = Infinity; let toMs = -Infinity;
  usable.forEach((u, i) => {
    if (u.length === 0) return;
    fromMs = Math.min(fromMs, frames[i]!.timeMs[u[0]!]!);
    toMs = Math.max(toMs, frames[i]!.timeMs[u[u.length - 1]!]!);
  });
  if (!(toMs > fromMs)) throw new AppError('config', `No usable training origins before fitEnd ${new Date(opts.fitEnd).toISOString()} for ${symbols.join(', ')}; move fitEnd later or load more history.`, { context: { fitEnd: opts.fitEnd, symbols } });
  const span = toMs - fromMs;
  const valStartMs = fromMs + Math.floor(((1 - HELD_OUT_FRACTION) * span) / stepMs) * stepMs;
  const calStartMs = fromMs + Math.floor(((1 - CALIBRATION_FRACTION) * span) / stepMs) * stepMs;
  const trainO = frames.map((f) => trainingOrigins(f.timeMs, stepMs, opts.horizonBars, valStartMs));
  const valO = frames.map((f) => filterByTime(trainingOrigins(f.timeMs, stepMs, opts.horizonBars, calStartMs), f.timeMs, valStartMs));
  const calO = frames.map((f, i) => filterByTime(usable[i]!, f.timeMs, calStartMs));

  // Normalisation from train rows with finite inputs and labels.
  const floors = fitFloors(frames, trainO, [...new Set([...featureNames, ...HAR_INPUTS])]);
  const acc = new StatsAccumulator(featureNames.length, HAR_INPUTS.length);
  lab.forEach((l, i) => {
    const o = trainO[i]!;
    const x = transformedRows(l.frame, o, featureNames, floors);
    const h = transformedRows(l.frame, o, HAR_INPUTS, floors);
    const w = featureNames.length; const hw = HAR_INPUTS.length;
    for (let k = 0; k < o.length; k++) {
      const y = l.logTarget[o[k]!]!;
      if (!Number.isFinite(y)) continue;
      let ok = true;
      for (let j = 0; j < w && ok; j++) ok = Number.isFinite(x[k * w + j]!);
      for (let j = 0; j < hw && ok; j++) ok = Number.isFinite(h[k * hw + j]!);
      if (ok) acc.add(l.frame.symbol, x, k * w, y, h, k * hw);
    }
  });
  const norm = acc.finish(floors);
  if (norm.pooled.rows < 10) throw new AppError('config', `Only ${norm.pooled.rows} training rows of ${symbols.join(', ')} have every feature and label before ${new Date(valStartMs).toISOString()}; load more history (features need their windows filled) or move fitEnd later.`, { context: { rows: norm.pooled.rows } });

  // Pooled HAR on de-meaned logs of the train rows.
  const zero: HarCoefs = { intercept: 0, beta: HAR_INPUTS.map(() => 0), residualStd: 1, rows: 0 };
  const pre = assemble(lab, trainO, featureNames, norm, zero);
  const hw = HAR_INPUTS.length;
  const xd = new Float64Array(pre.n * hw);
  const yd = new Float64Array(pre.n);
  for (let i = 0; i < pre.n; i++) {
    for (let j = 0; j < hw; j++) xd[i * hw + j] = pre.harLogs[i * hw + j]! - pre.harMeans[i * hw + j]!;
    yd[i] = pre.logTarget[i]! - pre.targetMeans[i]!;
  }
  const har = fitHar(xd, yd);
  return {
    norm, har,
    train: assemble(lab, trainO, featureNames, norm, har),
    val: assemble(lab, valO, featureNames, norm, har),
    cal: assemble(lab, calO, featureNames, norm, har),
    range: { fromMs, toMs, valStartMs, calStartMs, fitEndMs: opts.fitEnd },
    symbols,
  };
}

/**
 * Network targets of a fold: the HAR residual of log forward RV divided by the HAR residual s.d., the spike
 * label and its mask, and forward RV / exp(HAR offset) for the variance head. `maxRows` keeps a seeded uniform sub-sample (without replacement, in time order).
 */
export function toTrainData(fold: Fold, residualStd: number, width: number, opts: { maxRows?: number; seed?: number } = {}): TrainData {
  let idx: Int32Array | undefined;
  if (opts.maxRows !== undefined && fold.n > opts.maxRows) {
    const rng = createRng(deriveSeed(opts.seed ?? 0, 'subsample'));
    const all = Int32Array.from({ length: fold.n }, (_, i) => i);
    for (let i = 0; i < opts.maxRows; i++) { const j = i + rng.int(fold.n - i); const t = all[i]!; all[i] = all[j]!; all[j] = t; }
    idx = all.subarray(0, opts.maxRows).sort();
  }
  const n = idx ? idx.length : fold.n;
  const out: TrainData = { n, width, x: new Float32Array(n * width), y: new Float32Array(n), spike: new Float32Array(n), mask: new Float32Array(n), ratio: new Float32Array(n) };
  for (let k = 0; k < n; k++) {
    const i = idx ? idx[k]! : k;
    out.x.set(fold.x.subarray(i * width, (i + 1) * width), k * width);
    out.y[k] = (fold.logTarget[i]! - fold.offset[i]!) / residualStd;
    out.ratio[k] = fold.rv[i]! / Math.exp(fold.offset[i]!);
    const s = fold.spike[i]!;
    out.spike[k] = Number.isFinite(s) ? s : 0;
    out.mask[k] = Number.isFinite(s) ? 1 : 0;
  }
  return out;
}
