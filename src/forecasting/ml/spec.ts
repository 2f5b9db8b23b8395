import { z } from 'zod';
import { AppError, formatIssues } from '../../core/errors.ts';
import type { ForecasterSpec } from '../forecaster.ts';

/**
 * The spec of the HAR-residual neural forecaster (kind `ml`). Every field is optional; the defaults
 * below are the ones used by `liqcal` runs and are recorded in the artifact after resolution.
 */
export interface MlSpec extends ForecasterSpec {
  readonly kind: 'ml';
  /** Report name (defaults to `ml`). */
  readonly name?: string;
  /** Input feature columns; default: the `BASE_FEATURES` every training frame has. Variance-like ones are log-transformed (transform.ts). */
  readonly features?: readonly string[];
  /** Hidden dense layer widths, e.g. [32, 16]. */
  readonly hidden?: readonly number[];
  /** Quantile levels of log forward RV the network learns; 0.5 is always added (the point forecast needs it). */
  readonly quantiles?: readonly number[];
  /** Maximum passes over the (sub-sampled) training rows. */
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Adam step size. */
  readonly learningRate?: number;
  /** Early stopping: epochs without a validation improvement before stopping. */
  readonly patience?: number;
  /** Training rows kept after a seeded sub-sample (bounds the fit time; ≈ 50k rows/s per epoch on wasm). */
  readonly maxTrainSamples?: number;
  /** How the spike probability is calibrated on the held-back tail. */
  readonly calibration?: 'platt' | 'isotonic';
  /** Weight of the spike binary cross-entropy relative to the mean pinball loss. */
  readonly spikeLossWeight?: number;
  /** Weight of the variance head's QLIKE loss relative to the mean pinball loss. */
  readonly varianceLossWeight?: number;
  /** Networks trained with different seeds whose raw outputs are averaged into the fitted model. */
  readonly ensemble?: number;
}

/** An {@link MlSpec} with every default filled in. */
export interface ResolvedMlSpec {
  readonly kind: 'ml';
  readonly name: string;
  /** `undefined` means "the default feature set", resolved against the frames at fit time. */
  readonly features: readonly string[] | undefined;
  readonly hidden: readonly number[];
  /** Ascending, unique, always containing 0.5. */
  readonly quantiles: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly patience: number;
  readonly maxTrainSamples: number;
  readonly calibration: 'platt' | 'isotonic';
  readonly spikeLossWeight: number;
  readonly varianceLossWeight: number;
  readonly ensemble: number;
}

/** Default hyper-parameters: sized so that 8 symbols × 4 years of hourly bars train in ≈ 15–20 s on wasm (2 members). */
export const ML_DEFAULTS = {
  hidden: [64, 32],
  quantiles: [0.5, 0.9, 0.99],
  epochs: 30,
  batchSize: 512,
  learningRate: 2e-3,
  patience: 4,
  maxTrainSamples: 150_000,
  calibration: 'platt',
  spikeLossWeight: 1,
  varianceLossWeight: 1,
  ensemble: 2,
} as const;

const specSchema = z.object({
  kind: z.literal('ml'),
  name: z.string().min(1).optional(),
  features: z.array(z.string().min(1)).min(1).optional(),
  hidden: z.array(z.number().int().min(1).max(1024)).max(6).optional(),
  quantiles: z.array(z.number().gt(0).lt(1)).min(1).max(19).optional(),
  epochs: z.number().int().min(1).max(10_000).optional(),
  batchSize: z.number().int().min(1).max(1 << 16).optional(),
  learningRate: z.number().positive().max(1).optional(),
  patience: z.number().int().min(1).optional(),
  maxTrainSamples: z.number().int().min(10).optional(),
  calibration: z.enum(['platt', 'isotonic']).optional(),
  spikeLossWeight: z.number().min(0).optional(),
  varianceLossWeight: z.number().min(0).optional(),
  ensemble: z.number().int().min(1).max(16).optional(),
}).loose();

/** Validates an `ml` spec and fills in the defaults; throws a `config` AppError naming the bad fields. */
export function resolveMlSpec(spec: Partial<MlSpec> | undefined): ResolvedMlSpec {
  const parsed = specSchema.safeParse({ kind: 'ml', ...(spec ?? {}) });
  if (!parsed.success) {
    throw new AppError('config', `The ml forecaster spec is invalid (${formatIssues(parsed.error.issues)}); fix these fields of the spec.`, { context: { spec } });
  }
  const s = parsed.data;
  if (s.features && new Set(s.features).size !== s.features.length) {
    throw new AppError('config', `The ml forecaster spec lists a feature twice (${s.features.join(', ')}); list each feature once.`, { context: { spec } });
  }
  const quantiles = [...new Set([0.5, ...(s.quantiles ?? ML_DEFAULTS.quantiles)])].sort((a, b) => a - b);
  return {
    kind: 'ml',
    name: s.name ?? 'ml',
    features: s.features,
    hidden: s.hidden ?? ML_DEFAULTS.hidden,
    quantiles,
    epochs: s.epochs ?? ML_DEFAULTS.epochs,
    batchSize: s.batchSize ?? ML_DEFAULTS.batchSize,
    learningRate: s.learningRate ?? ML_DEFAULTS.learningRate,
    patience: s.patience ?? ML_DEFAULTS.patience,
    maxTrainSamples: s.maxTrainSamples ?? ML_DEFAULTS.maxTrainSamples,
    calibration: s.calibration ?? ML_DEFAULTS.calibration,
    spikeLossWeight: s.spikeLossWeight ?? ML_DEFAULTS.spikeLossWeight,
    varianceLossWeight: s.varianceLossWeight ?? ML_DEFAULTS.varianceLossWeight,
    ensemble: s.ensemble ?? ML_DEFAULTS.ensemble,
  };
}
