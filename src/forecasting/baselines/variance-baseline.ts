/**
 * The shared shell of liqcal's per-symbol conditional-variance baselines (EWMA, GARCH): log returns of a
 * frame, the training window that {@link FitOptions.fitEnd} allows, the empirical distribution of forecast
 * errors that turns a variance forecast into quantiles, and the fitted object that serves batches.
 *
 * A model supplies one pure function, `forecastPath(state, r, horizonBars)`, giving at every bar index t
 * the forecast of Σ_{j=1..h} r²_{t+j} made from r[0..t] only. Fitting the residual quantiles and
 * predicting both go through that same function, so training errors and live forecasts cannot drift apart.
 */
import { z } from 'zod';
import { AppError, formatIssues } from '../../core/errors.ts';
import { intervalMs, type EpochMs, type Interval } from '../../core/time.ts';
import { forwardRv } from '../../dataset/targets.ts';
import type { FeatureFrame } from '../../features/frame.ts';
import type { FittedForecaster, ForecastBatch, ForecasterSpec, ModelArtifact, PredictRequest } from '../forecaster.ts';

/** Returns needed before an origin enters the residual sample (EWMA's initial variance uses the first 30). */
export const WARMUP_RETURNS = 30;
/** Fewest residuals a fit accepts: fewer cannot say anything about tail quantiles. */
export const MIN_RESIDUALS = 20;
/** Residual quantiles kept per symbol: the whole sorted sample up to this size, else this grid of levels k/(L−1). */
const MAX_QUANTILE_POINTS = 2001;

/**
 * Log returns of a frame, index-aligned with its bars: its `r` column when present, else
 * r[0] = NaN, r[t] = ln(close[t]/close[t−1]). r[t] is known at the close of bar t.
 */
export function logReturns(frame: FeatureFrame): Float64Array {
  const col = frame.columns['r'];
  if (col) return col;
  const c = frame.bars.close;
  const r = new Float64Array(c.length);
  if (c.length > 0) r[0] = Number.NaN;
  for (let t = 1; t < c.length; t++) r[t] = Math.log(c[t]! / c[t - 1]!);
  return r;
}

/** One past the last bar whose return is known by `fitEnd` (its close, timeMs[t] + interval, is ≤ fitEnd). */
export function trainingEnd(frame: FeatureFrame, fitEnd: EpochMs): number {
  const step = intervalMs(frame.interval);
  let lo = 0;
  let hi = frame.timeMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (frame.timeMs[mid]! + step <= fitEnd) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index below `end` holding a finite return, or `end` when there is none. */
export function firstFinite(r: Float64Array, end: number): number {
  let t = 0;
  while (t < end && !Number.isFinite(r[t]!)) t++;
  return t;
}

/**
 * Empirical quantiles of the training forecast errors u = ln(forward RV / forecast) at one horizon.
 * `values` is ascending: the whole sorted sample, or its type-7 quantiles at levels k/(L−1) when larger.
 */
export interface ResidualQuantiles {
  readonly horizonBars: number;
  /** Residuals behind the table (overlapping windows, so not independent). */
  readonly count: number;
  readonly values: readonly number[];
}

/** zod schema of {@link ResidualQuantiles} inside an artifact. */
export const residualQuantilesSchema = z.object({
  horizonBars: z.number().int().positive(),
  count: z.number().int().positive(),
  values: z.array(z.number()).min(1),
});

/**
 * Residual quantiles from a forecast path over the training window [0, end): origins t ≥ `firstOrigin`
 * whose whole forward window t+1 … t+h lies before `end`, against the project's label
 * ({@link forwardRv}, Σ_{j=1..h} r²_{t+j}). Windows with a missing return or zero realised variance
 * (ln 0) are skipped.
 */
export function fitResidualQuantiles(args: {
  readonly symbol: string;
  readonly r: Float64Array;
  readonly forecast: Float64Array;
  readonly end: number;
  readonly firstOrigin: number;
  readonly horizonBars: number;
}): ResidualQuantiles {
  const { forecast, end, firstOrigin, horizonBars: h } = args;
  const rv = forwardRv(args.r.subarray(0, end), h);
  const u: number[] = [];
  for (let t = Math.max(firstOrigin, 0); t + h < end; t++) {
    const ratio = Math.log(rv[t]! / forecast[t]!);
    if (Number.isFinite(ratio)) u.push(ratio);
  }
  if (u.length < MIN_RESIDUALS) {
    throw new AppError('dataQuality', `Cannot fit forecast-error quantiles for ${args.symbol}: only ${u.length} training windows of ${h} bars end before fitEnd (need ${MIN_RESIDUALS}); move fitEnd later or supply more history.`, { context: { symbol: args.symbol, windows: u.length, horizonBars: h } });
  }
  const sorted = Float64Array.from(u).sort();
  const L = Math.min(sorted.length, MAX_QUANTILE_POINTS);
  const values = L === sorted.length ? Array.from(sorted) : Array.from({ length: L }, (_, k) => quantileSorted(sorted, k / (L - 1)));
  return { horizonBars: h, count: u.length, values };
}

/** Type-7 (linear interpolation) quantile at `level` ∈ [0, 1] of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, level: number): number {
  const pos = level * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Per-symbol fitted state common to the variance baselines. */
export interface SymbolFit {
  readonly interval: Interval;
  readonly residuals: ResidualQuantiles;
}

/** A conditional-variance model: the forecast of forward RV at every bar index t, from r[0..t] only. */
export type ForecastPath<S> = (state: S, r: Float64Array, horizonBars: number) => Float64Array;

/** Fits each frame on its own (per-symbol parameters), refusing a symbol given twice. */
export function fitEachSymbol<S>(frames: readonly FeatureFrame[], kind: string, fitOne: (frame: FeatureFrame) => S): Map<string, S> {
  const fits = new Map<string, S>();
  for (const frame of frames) {
    if (fits.has(frame.symbol)) throw new AppError('badRequest', `The ${kind} fit got two frames for ${frame.symbol}: pass one frame per symbol.`, { context: { symbol: frame.symbol } });
    fits.set(frame.symbol, fitOne(frame));
  }
  return fits;
}

/** Checks `horizonBars` (a positive whole number of bars) or throws `badRequest`. */
export function checkHorizon(horizonBars: number, what: string): void {
  if (!Number.isInteger(horizonBars) || horizonBars < 1) throw new AppError('badRequest', `${what}: horizonBars must be a positive whole number of bars, got ${horizonBars}.`, { context: { horizonBars } });
}

/**
 * Builds the fitted object shared by the variance baselines: per-symbol states, a forecast path, and
 * an artifact state `{ version: 1, symbols: { [symbol]: state } }` (JSON; `encode` makes a state JSON-safe).
 */
export function createVarianceFitted<Spec extends ForecasterSpec, S extends SymbolFit>(args: {
  readonly spec: Spec;
  readonly fits: ReadonlyMap<string, S>;
  readonly forecastPath: ForecastPath<S>;
  readonly encode: (state: S) => unknown;
}): FittedForecaster<Spec> {
  const { spec, fits, forecastPath } = args;
  const symbols = Object.freeze([...fits.keys()]);
  return {
    spec,
    symbols,
    predict(history: FeatureFrame, req: PredictRequest): ForecastBatch {
      const state = fits.get(history.symbol);
      if (state === undefined) {
        throw new AppError('notSupported', `The ${spec.kind} model was not fitted on ${history.symbol} (it has per-symbol parameters; fitted: ${symbols.join(', ') || 'none'}): fit it on ${history.symbol} first.`, { context: { symbol: history.symbol, fitted: symbols } });
      }
      checkRequest(history, req, state, spec.kind);
      const path = forecastPath(state, logReturns(history), req.horizonBars);
      const k = req.origins.length;
      const originMs = new Float64Array(k);
      const variance = new Float64Array(k);
      for (let i = 0; i < k; i++) {
        const o = req.origins[i]!;
        originMs[i] = history.timeMs[o]!;
        variance[i] = path[o]!;
      }
      const batch: ForecastBatch = { symbol: history.symbol, horizonBars: req.horizonBars, originMs, variance };
      if (!req.quantiles || req.quantiles.length === 0) return batch;
      const logRvQuantiles = new Map<number, Float64Array>();
      for (const level of req.quantiles) {
        const u = quantileSorted(state.residuals.values, level);
        logRvQuantiles.set(level, variance.map((v) => Math.log(v) + u));
      }
      return { ...batch, logRvQuantiles };
    },
    toArtifact(): ModelArtifact {
      const out: Record<string, unknown> = {};
      for (const [symbol, state] of fits) out[symbol] = args.encode(state);
      return { spec, state: { version: 1, symbols: out } };
    },
    dispose(): void {},
  };
}

function checkRequest(frame: FeatureFrame, req: PredictRequest, state: SymbolFit, kind: string): void {
  checkHorizon(req.horizonBars, `The ${kind} prediction for ${frame.symbol}`);
  if (frame.interval !== state.interval) {
    throw new AppError('notSupported', `The ${kind} model for ${frame.symbol} was fitted on ${state.interval} bars and cannot forecast ${frame.interval} bars: fit it on ${frame.interval} bars.`, { context: { symbol: frame.symbol, fitted: state.interval, given: frame.interval } });
  }
  const n = frame.timeMs.length;
  for (let i = 0; i < req.origins.length; i++) {
    const o = req.origins[i]!;
    if (o < 0 || o >= n) throw new AppError('badRequest', `Origin ${o} is outside the ${n} bars of ${frame.symbol}'s frame: pass bar indices in [0, ${n - 1}].`, { context: { symbol: frame.symbol, origin: o, bars: n } });
  }
  for (const level of req.quantiles ?? []) {
    if (!(level > 0 && level < 1)) throw new AppError('badRequest', `Quantile level ${level} is not in (0, 1): ask for levels such as 0.5, 0.9, 0.99.`, { context: { level } });
  }
  if (req.quantiles?.length && req.horizonBars !== state.residuals.horizonBars) {
    throw new AppError('notSupported', `The ${kind} model for ${frame.symbol} learned its forecast-error quantiles at ${state.residuals.horizonBars} bars and cannot give quantiles at ${req.horizonBars}: refit with horizonBars = ${req.horizonBars}, or ask for the variance only.`, { context: { symbol: frame.symbol, fitted: state.residuals.horizonBars, asked: req.horizonBars } });
  }
}

/** Parses an artifact state `{ version: 1, symbols }` with `symbolSchema`, or throws a `schema` error naming the model and the issue paths. */
export function parseArtifactState<T>(kind: string, state: unknown, symbolSchema: z.ZodType<T>): Map<string, T> {
  const schema = z.object({ version: z.literal(1), symbols: z.record(z.string(), symbolSchema) });
  const parsed = schema.safeParse(state);
  if (!parsed.success) {
    throw new AppError('schema', `The ${kind} artifact state is not valid (${formatIssues(parsed.error.issues)}): re-save it from a fitted ${kind} model.`, { context: { kind } });
  }
  return new Map(Object.entries(parsed.data.symbols));
}
