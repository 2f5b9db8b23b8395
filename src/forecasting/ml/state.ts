/**
 * The JSON state of a fitted ml forecaster (the `state` of its ModelArtifact) and its zod schema, checked
 * whenever an artifact is loaded so that a corrupt or foreign file fails with the path of the bad field.
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../../core/errors.ts';

/** Artifact format tag; bump when the state layout changes incompatibly. */
export const ML_STATE_FORMAT = 'liqcal-ml/1';

const num = z.number().refine(Number.isFinite, 'must be a finite number');
const stats = z.object({ mean: z.array(num), std: z.array(num), targetMean: num, harMean: z.array(num), rows: z.number().int().min(0) });
const spikeCalibration = z.discriminatedUnion('method', [
  z.object({ method: z.literal('platt'), a: num, b: num, rows: z.number().int() }),
  z.object({ method: z.literal('isotonic'), x: z.array(num).min(1), y: z.array(num).min(1), rows: z.number().int() }),
  z.object({ method: z.literal('none'), rows: z.number().int() }),
]);

/** Schema of {@link MlState}. */
export const mlStateSchema = z.object({
  format: z.literal(ML_STATE_FORMAT),
  name: z.string(),
  topology: z.record(z.string(), z.unknown()),
  weightSpecs: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)), dtype: z.enum(['float32', 'int32']) })),
  backend: z.string(),
  featureNames: z.array(z.string()).min(1),
  featureHash: z.string(),
  harInputs: z.array(z.string()).length(3),
  normalisation: z.object({ floors: z.record(z.string(), num), bySymbol: z.record(z.string(), stats), pooled: stats, clip: num }),
  harCoefs: z.object({ intercept: num, beta: z.array(num).length(3), residualStd: num, rows: z.number().int() }),
  quantiles: z.array(z.number().gt(0).lt(1)).min(1),
  calibration: z.object({ spike: spikeCalibration, varianceScale: num, sigmaFallback: num, fold: z.enum(['calibration', 'validation', 'train']) }),
  interval: z.string(),
  horizonBars: z.number().int().min(1),
  spikeK: z.number().nullable(),
  trainRange: z.object({ fromMs: num, toMs: num, valStartMs: num, calStartMs: num, fitEndMs: num }),
  symbols: z.array(z.string()),
  seed: z.number().int(),
  hyper: z.object({
    hidden: z.array(z.number().int()), epochs: z.number().int(), batchSize: z.number().int(), learningRate: num, patience: z.number().int(),
    maxTrainSamples: z.number().int(), calibration: z.enum(['platt', 'isotonic']), spikeLossWeight: num,
    varianceLossWeight: num.optional(), ensemble: z.number().int().optional(),
  }),
  trainingMs: num,
  samplesPerSec: num,
  samples: z.object({ train: z.number().int(), trainUsed: z.number().int(), val: z.number().int(), cal: z.number().int() }),
  training: z.object({ epochsRun: z.number().int(), bestEpoch: z.number().int(), samplesSeen: z.number().int() }),
  /** Diagnostics: validation losses (initial = HAR start), calibration-tail Brier, QLIKE and coverage. NaN is stored as null. */
  metrics: z.record(z.string(), z.number().nullable()),
});

/** The state of a fitted ml forecaster: everything except the weight bytes. */
export type MlState = z.infer<typeof mlStateSchema>;

/** Parses an artifact state; throws a `schema` AppError naming the bad fields and the fix. */
export function parseMlState(state: unknown, what: string): MlState {
  const r = mlStateSchema.safeParse(state);
  if (!r.success) {
    throw new AppError('schema', `The state of ${what} is not a ${ML_STATE_FORMAT} ml model (${formatIssues(r.error.issues)}); it is corrupt or from another version — retrain and save it again.`, { context: { what, issues: r.error.issues.slice(0, 5) } });
  }
  return r.data;
}

/** Replaces non-finite numbers by null so metrics survive JSON. */
export function jsonMetrics(m: Record<string, number>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(m)) out[k] = Number.isFinite(v) ? v : null;
  return out;
}
