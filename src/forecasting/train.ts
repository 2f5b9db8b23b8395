import { AppError } from '../core/errors.ts';
import { epochMs, intervalMs, iso, type Clock, type Interval, systemClock } from '../core/time.ts';
import { loadFeatureFrames } from '../features/build.ts';
import { resolveBarVenue } from '../ingest/series-venue.ts';
import type { MarketData } from '../store/market-data.ts';
import type { ForecastBatch } from './forecaster.ts';
import { horizonBars as parseHorizon } from './horizon.ts';
import { mlModelCard } from './ml/card.ts';
import { createMlForecaster, type MlEpochProgress, type MlSpec } from './ml/model.ts';
import { loadPromoted, promoteModel, saveModel, type ModelCard } from './model-store.ts';

/** Default registry name of the volatility model for a horizon, e.g. `vol-24h`. */
export function defaultModelName(horizon: string): string {
  return `vol-${horizon}`;
}

/** Options of {@link trainModel}. */
export interface TrainOptions {
  readonly md: MarketData;
  readonly symbols: readonly string[];
  readonly interval: Interval;
  readonly horizon: string;
  /** Train on bars whose labels close before this instant. */
  readonly trainToMs: number;
  readonly modelsDir: string;
  readonly name?: string;
  readonly venue?: string;
  readonly seed?: number;
  /** Overrides of the neural model's spec (epochs, hidden layers, …). */
  readonly spec?: Partial<MlSpec>;
  /** Spike threshold multiple k (default 2). */
  readonly spikeK?: number;
  /** Promote the new version so that `forecast` uses it (default true). */
  readonly promote?: boolean;
  readonly clock?: Clock;
  /** Called after every training epoch (progress bars; must not throw). */
  readonly onEpoch?: (e: MlEpochProgress) => void;
}

/** What {@link trainModel} saved. */
export interface TrainResult {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly promoted: boolean;
  readonly card: ModelCard;
}

/**
 * Trains the pooled neural volatility model on stored bars up to `trainToMs` and saves it to the model
 * registry (`<modelsDir>/<name>/<version>/` with model.json, weights.bin and card.json).
 */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const h = parseHorizon(opts.horizon, opts.interval);
  const venue = resolveBarVenue(opts.md, opts.symbols, opts.interval, opts.venue);
  const frames = loadFeatureFrames(opts.md, { venue, symbols: opts.symbols, interval: opts.interval, toMs: opts.trainToMs });
  const name = opts.name ?? defaultModelName(opts.horizon);
  const seed = opts.seed ?? 42;
  const clock = opts.clock ?? systemClock;
  const fitted = await createMlForecaster({ kind: 'ml', ...opts.spec }, opts.onEpoch ? { onEpoch: opts.onEpoch } : {}).fit(frames, { fitEnd: epochMs(opts.trainToMs), seed, horizonBars: h, ...(opts.spikeK !== undefined ? { spikeK: opts.spikeK } : {}) });
  try {
    const artifact = fitted.toArtifact();
    const card = mlModelCard(artifact, { name, createdAtMs: clock.now(), notes: `trained on ${venue} ${opts.interval} bars of ${opts.symbols.join(', ')} before ${iso(opts.trainToMs)}, horizon ${opts.horizon}` });
    const saved = saveModel(opts.modelsDir, name, artifact, card);
    const promote = opts.promote ?? true;
    if (promote) promoteModel(opts.modelsDir, name, saved.version, clock);
    return { name, version: saved.version, dir: saved.dir, promoted: promote, card };
  } finally {
    fitted.dispose();
  }
}

/** One symbol's forecast at its latest complete bar. */
export interface LatestForecast {
  readonly symbol: string;
  /** Open time of the origin bar (the forecast is made at its close). */
  readonly origin: string;
  readonly horizon: string;
  /** Forecast forward realised variance over the horizon (sum of squared log returns). */
  readonly variance: number;
  /** The same as annualised volatility, for reading. */
  readonly volAnnualised: number;
  /** Quantile level → forecast of the forward realised volatility over the horizon (sqrt of the RV quantile). */
  readonly volQuantiles: Readonly<Record<string, number>>;
  readonly spikeProb: number | null;
}

/**
 * Loads the promoted model for `horizon` and forecasts each symbol at its latest stored bar, without
 * retraining. A model trained on another interval or feature set is refused with a clear error.
 */
export async function forecastLatest(opts: { md: MarketData; symbols: readonly string[]; horizon: string; modelsDir: string; name?: string; venue?: string }): Promise<{ model: { name: string; version: string; backend: string; trainedTo: string; interval: string }; forecasts: LatestForecast[] }> {
  const name = opts.name ?? defaultModelName(opts.horizon);
  const loaded = loadPromoted(opts.modelsDir, name);
  const interval = loaded.card.interval as Interval | undefined;
  if (!interval) throw new AppError('config', `Model ${name} v${loaded.version} records no bar interval; retrain it with liqcal train.`);
  const h = parseHorizon(opts.horizon, interval);
  if (loaded.card.horizonBars !== undefined && loaded.card.horizonBars !== h) {
    throw new AppError('config', `Model ${name} v${loaded.version} forecasts ${loaded.card.horizonBars} bars ahead, not ${h} (${opts.horizon}); train one for this horizon.`);
  }
  const venue = resolveBarVenue(opts.md, opts.symbols, interval, opts.venue);
  const fitted = await createMlForecaster(loaded.artifact.spec as MlSpec).load(loaded.artifact);
  try {
    const frames = loadFeatureFrames(opts.md, { venue, symbols: opts.symbols, interval });
    const perYear = (365 * 86_400_000) / (h * intervalMs(interval));
    const forecasts = frames.map((frame) => {
      const last = frame.timeMs.length - 1;
      const b: ForecastBatch = fitted.predict(frame, { origins: Int32Array.of(last), horizonBars: h, quantiles: [0.5, 0.9, 0.99] });
      const variance = b.variance[0]!;
      const volQuantiles: Record<string, number> = {};
      for (const [q, v] of b.logRvQuantiles ?? []) volQuantiles[String(q)] = Math.sqrt(Math.exp(v[0]!));
      return {
        symbol: frame.symbol, origin: iso(frame.timeMs[last]!), horizon: opts.horizon, variance, volAnnualised: Math.sqrt(variance * perYear),
        volQuantiles, spikeProb: b.spikeProb ? b.spikeProb[0]! : null,
      };
    });
    return { model: { name, version: loaded.version, backend: loaded.card.backend, trainedTo: iso(loaded.card.dataRange.fitEndMs ?? loaded.card.dataRange.toMs), interval }, forecasts };
  } finally {
    fitted.dispose();
  }
}
