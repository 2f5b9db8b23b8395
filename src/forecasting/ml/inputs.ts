/**
 * Turns frame rows into network inputs with fitted statistics (pure). Used identically by training and by
 * prediction, so a fitted model sees exactly the transform it was trained on.
 */
import { AppError } from '../../core/errors.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import { featureSetHash } from '../../features/build.ts';
import { derivedDependencies, isDerived } from './derived.ts';
import { HAR_INPUTS, harMean, type HarCoefs } from './har.ts';
import { normaliseRows, statsFor, transformedRows, type Normalisation } from './transform.ts';

/** Columns a model needs in a frame: its input features, then any HAR input not among them. */
export function requiredColumns(featureNames: readonly string[]): string[] {
  const cols: string[] = [];
  for (const n of [...featureNames, ...HAR_INPUTS]) for (const c of isDerived(n) ? derivedDependencies(n) : [n]) if (!cols.includes(c)) cols.push(c);
  return cols;
}

/**
 * Refuses a frame that lacks a column the model was trained on. A frame may carry more columns (optional
 * features the model does not use); it may not carry fewer.
 */
export function checkFrameColumns(frame: FeatureFrame, model: { name: string; featureNames: readonly string[]; featureHash: string }): void {
  const need = requiredColumns(model.featureNames);
  const missing = need.filter((n) => !frame.columns[n]);
  if (missing.length === 0) return;
  const has = Object.keys(frame.columns);
  throw new AppError('config',
    `model ${model.name} was trained on features [${model.featureNames.join(', ')}] (hash ${model.featureHash}) but the frame of ${frame.symbol} has [${has.join(', ')}] (hash ${featureSetHash(has)}), missing ${missing.join(', ')}; retrain or rebuild features.`,
    { context: { model: model.name, symbol: frame.symbol, modelFeatures: model.featureNames, frameFeatures: has, missing } });
}

/** Network inputs for the valid origins of one frame. */
export interface ModelInputs {
  /** Positions (into the requested origins) of the rows whose inputs are all finite. */
  readonly valid: Int32Array;
  /** Normalised, clipped inputs of the valid rows, row-major (valid.length × featureNames.length). */
  readonly x: Float32Array;
  /** HAR mean of log forward RV of each valid row: μ_y(s) + HAR deviation (log units). */
  readonly offset: Float64Array;
  /** Transformed (log) HAR inputs of the valid rows, row-major (valid.length × 3); used while fitting. */
  readonly harLogs: Float64Array;
  /** True when the symbol was not in training and the pooled statistics were used. */
  readonly pooledStats: boolean;
}

/** Builds network inputs at `origins` of `frame` (columns must have been checked). */
export function modelInputs(frame: FeatureFrame, origins: Int32Array, featureNames: readonly string[], norm: Normalisation, har: HarCoefs): ModelInputs {
  const width = featureNames.length;
  const hw = HAR_INPUTS.length;
  const raw = transformedRows(frame, origins, featureNames, norm.floors);
  const harRaw = transformedRows(frame, origins, HAR_INPUTS, norm.floors);
  const keep: number[] = [];
  for (let i = 0; i < origins.length; i++) {
    let ok = true;
    for (let j = 0; j < width && ok; j++) ok = Number.isFinite(raw[i * width + j]!);
    for (let j = 0; j < hw && ok; j++) ok = Number.isFinite(harRaw[i * hw + j]!);
    if (ok) keep.push(i);
  }
  const valid = Int32Array.from(keep);
  const rows = new Float64Array(valid.length * width);
  const harLogs = new Float64Array(valid.length * hw);
  valid.forEach((i, k) => {
    rows.set(raw.subarray(i * width, (i + 1) * width), k * width);
    harLogs.set(harRaw.subarray(i * hw, (i + 1) * hw), k * hw);
  });
  const { stats, pooled } = statsFor(norm, frame.symbol);
  const x = new Float32Array(valid.length * width);
  normaliseRows(rows, stats, norm.clip, x);
  const offset = new Float64Array(valid.length);
  for (let k = 0; k < valid.length; k++) offset[k] = stats.targetMean + harMean(har, harLogs, k * hw, stats.harMean);
  return { valid, x, offset, harLogs, pooledStats: pooled };
}
