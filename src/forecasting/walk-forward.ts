/**
 * Walk-forward (expanding-window) out-of-sample evaluation: every forecaster is refitted at each fold's
 * `fitEnd` on data that closed before it, then predicts that fold's origins, for every symbol. All models
 * see exactly the same origins per symbol, so their losses compare like for like. Fold planning and
 * targets come from the dataset stage; scoring lives in evaluation/ ({@link summarise}).
 */
import { AppError } from '../core/errors.ts';
import { intervalMs, iso, type EpochMs } from '../core/time.ts';
import { planWalkForward, trainingOrigins } from '../dataset/walk-forward.ts';
import { forwardRv, spikeLabels } from '../dataset/targets.ts';
import type { FeatureFrame } from '../features/frame.ts';
import { logReturns } from '../features/returns.ts';
import type { BarColumns } from '../store/market-data.ts';
import { modelName, type ForecastBatch, type Forecaster } from './forecaster.ts';

export { summarise } from '../evaluation/compare.ts';

/** Trailing window of the spike definition's median (FitOptions.spikeK: 30 days). */
const SPIKE_LOOKBACK_MS = 30 * 86_400_000;

/** Options of {@link runWalkForward}. Times are epoch ms, UTC. */
export interface WalkForwardOptions {
  /** One frame per symbol, all at the same interval; column `r` (log returns) is used when present. */
  readonly frames: readonly FeatureFrame[];
  readonly forecasters: readonly Forecaster[];
  readonly horizonBars: number;
  /** Bar length, ms (every bar of the test period is an origin); must equal the frames' interval. */
  readonly stepMs: number;
  /** First and last (exclusive) origin times of the test period. */
  readonly testFromMs: number;
  readonly testToMs: number;
  /** Refit every this long: each fold covers this much test time and starts at its `fitEnd`. */
  readonly retrainEveryMs: number;
  /** Seed passed to every fit. */
  readonly seed: number;
  /** Quantile levels of log forward RV to request from forecasters with `capabilities.quantiles`. */
  readonly quantiles?: readonly number[];
  /** Spike threshold multiple passed to fits and used for the labels. */
  readonly spikeK?: number;
  /** Called after each fold has been fitted and predicted by every model. */
  readonly onFold?: (info: FoldInfo) => void;
}

/** Progress of one fold. */
export interface FoldInfo {
  /** 0-based fold index. */
  readonly fold: number;
  readonly folds: number;
  readonly fitEnd: EpochMs;
  /** Origins predicted in this fold, summed over symbols. */
  readonly origins: number;
}

/** One model's out-of-sample forecasts for one symbol, aligned by origin. */
export interface ModelSeries {
  /** The spec's `name`, else its `kind`. */
  readonly model: string;
  readonly symbol: string;
  /** Open time of each origin bar (the forecast is made at its close), ascending. */
  readonly originMs: Float64Array;
  /** Forecast of forward realised variance over the next `horizonBars` bars (squared log-return units). */
  readonly forecast: Float64Array;
  /** Realised forward variance Σ_{j=1..h} r²_{t+j} (NaN where the window runs past the data). */
  readonly realised: Float64Array;
  /** Level → forecast quantile of ln forward RV (models with quantiles only; NaN where a fold gave none). */
  readonly logRvQuantiles?: ReadonlyMap<number, Float64Array>;
  /** Spike probability, with the spike label and the training base rate in force at each origin. */
  readonly spikeProb?: Float64Array;
  readonly spikeLabel?: Float64Array;
  /** Base rate of spike labels in the fold's training data (the climatology for the Brier skill score). */
  readonly spikeClimatology?: Float64Array;
}

/** Time spent by one model over all folds. */
export interface ModelTiming {
  readonly model: string;
  readonly fits: number;
  readonly fitMs: number;
  readonly predictMs: number;
}

/** Out-of-sample forecasts of every model for every symbol. */
export interface WalkForwardResult {
  readonly horizonBars: number;
  readonly stepMs: number;
  /** Bar length of the frames. */
  readonly barMs: number;
  /** Symbols in frame order (the fixed order of pooled statistics). */
  readonly symbols: readonly string[];
  readonly models: readonly string[];
  readonly folds: number;
  /** One entry per model × symbol, model-major. */
  readonly series: readonly ModelSeries[];
  readonly timing: readonly ModelTiming[];
}

/** Number of leading rows whose bar has closed by `t` (timeMs[i] + barMs ≤ t), by binary search. */
function rowsClosedBy(timeMs: Float64Array, barMs: number, t: number): number {
  let lo = 0;
  let hi = timeMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeMs[mid]! + barMs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first `rows` rows of a frame, as views (no copy): what a model may see. */
function headFrame(f: FeatureFrame, rows: number): FeatureFrame {
  if (rows >= f.timeMs.length) return f;
  const cut = (a: Float64Array): Float64Array => a.subarray(0, rows);
  const bars = Object.fromEntries(Object.entries(f.bars).map(([k, v]) => [k, cut(v as Float64Array)])) as unknown as BarColumns;
  const columns = Object.fromEntries(Object.entries(f.columns).map(([k, v]) => [k, cut(v)]));
  return { ...f, timeMs: cut(f.timeMs), bars, columns };
}

interface Chunk {
  readonly origins: Int32Array;
  readonly batch: ForecastBatch;
  readonly climatology: number;
}

interface Prepared {
  readonly frame: FeatureFrame;
  readonly realised: Float64Array;
  readonly labels: Float64Array | undefined;
  readonly originsByFitEnd: Map<number, Int32Array>;
}

function validate(opts: WalkForwardOptions): { barMs: number; names: string[] } {
  const { frames, forecasters, horizonBars } = opts;
  if (frames.length === 0 || forecasters.length === 0) {
    throw new AppError('config', `Walk-forward needs at least one frame and one forecaster, got ${frames.length} and ${forecasters.length}.`);
  }
  if (!(Number.isInteger(horizonBars) && horizonBars >= 1)) {
    throw new AppError('config', `horizonBars must be a positive whole number, got ${horizonBars}.`, { context: { horizonBars } });
  }
  const interval = frames[0]!.interval;
  const bad = frames.find((f) => f.interval !== interval);
  if (bad) throw new AppError('config', `All frames must share one interval: ${frames[0]!.symbol} is ${interval} but ${bad.symbol} is ${bad.interval}.`);
  const dup = (xs: string[]): string | undefined => xs.find((x, i) => xs.indexOf(x) !== i);
  const names = forecasters.map((f) => modelName(f.spec));
  const dupName = dup(names);
  if (dupName) throw new AppError('config', `Two forecasters are both named "${dupName}": give one a distinct spec.name.`, { context: { names } });
  const dupSym = dup(frames.map((f) => f.symbol));
  if (dupSym) throw new AppError('config', `Symbol ${dupSym} appears in two frames: pass one frame per symbol.`);
  const barMs = intervalMs(interval);
  if (opts.stepMs !== barMs) {
    throw new AppError('config', `stepMs ${opts.stepMs} is not the length of one ${interval} bar (${barMs} ms): the walk-forward plan takes an origin at every bar.`, { context: { stepMs: opts.stepMs, interval } });
  }
  return { barMs, names };
}

/**
 * Runs an expanding-window walk-forward evaluation. For each fold (from `planWalkForward`, per frame;
 * folds with equal `fitEnd` across symbols form one fit), each forecaster is fitted once on all frames
 * cut to the rows whose bar closed by `fitEnd` (the forecaster applies the label embargo itself: an origin
 * trains only if its forward window closes ≤ fitEnd), then predicts each frame's fold origins from the
 * frame cut after the fold's last origin. The engine refuses a fold whose `fitEnd` is later than the close
 * of one of its origins. Fitted models are disposed after their fold, also on error.
 */
export async function runWalkForward(opts: WalkForwardOptions): Promise<WalkForwardResult> {
  const { frames, forecasters, horizonBars } = opts;
  const { barMs, names } = validate(opts);
  const wantSpike = opts.spikeK !== undefined || forecasters.some((f) => f.capabilities.spike);
  const lookbackBars = Math.max(1, Math.round(SPIKE_LOOKBACK_MS / barMs));

  const prepared: Prepared[] = frames.map((frame) => {
    const r = frame.columns.r ?? logReturns(frame.bars.close);
    const folds = planWalkForward({
      timeMs: frame.timeMs, stepMs: opts.stepMs, horizonBars, testFromMs: opts.testFromMs, testToMs: opts.testToMs, retrainEveryMs: opts.retrainEveryMs,
    });
    const originsByFitEnd = new Map<number, Int32Array>();
    for (const f of folds) originsByFitEnd.set(f.fitEnd, f.origins);
    return {
      frame,
      realised: forwardRv(r, horizonBars),
      labels: wantSpike ? spikeLabels(r, horizonBars, { ...(opts.spikeK === undefined ? {} : { k: opts.spikeK }), lookbackBars }) : undefined,
      originsByFitEnd,
    };
  });
  const fitEnds = [...new Set(prepared.flatMap((p) => [...p.originsByFitEnd.keys()]))].sort((a, b) => a - b);

  const chunks = names.map(() => prepared.map((): Chunk[] => []));
  const timing = names.map((model) => ({ model, fits: 0, fitMs: 0, predictMs: 0 }));

  for (let k = 0; k < fitEnds.length; k++) {
    const fitEnd = fitEnds[k]! as EpochMs;
    const empty = new Int32Array(0);
    const originsOf = prepared.map((p) => p.originsByFitEnd.get(fitEnd) ?? empty);
    prepared.forEach((p, s) => {
      const first = originsOf[s]![0];
      if (first !== undefined && fitEnd > p.frame.timeMs[first]! + barMs) {
        throw new AppError('internal', `Fold ${k} of ${p.frame.symbol} fits to ${iso(fitEnd)}, after its first origin closes at ${iso(p.frame.timeMs[first]! + barMs)}: the fold plan leaks test data into training.`);
      }
    });
    const closedRows = prepared.map((p) => rowsClosedBy(p.frame.timeMs, barMs, fitEnd));
    const train = prepared.map((p, s) => headFrame(p.frame, closedRows[s]!)).filter((f) => f.timeMs.length > 0);
    const climatology = prepared.map((p) => trainingBaseRate(p.labels, trainingOrigins(p.frame.timeMs, barMs, horizonBars, fitEnd)));

    for (let m = 0; m < forecasters.length; m++) {
      const forecaster = forecasters[m]!;
      const t0 = performance.now();
      const fitted = await forecaster.fit(train, { fitEnd, seed: opts.seed, horizonBars, ...(opts.spikeK === undefined ? {} : { spikeK: opts.spikeK }) });
      const t1 = performance.now();
      try {
        prepared.forEach((p, s) => {
          const origins = originsOf[s]!;
          if (origins.length === 0) return;
          const history = headFrame(p.frame, origins[origins.length - 1]! + 1);
          const quantiles = forecaster.capabilities.quantiles ? opts.quantiles : undefined;
          const batch = fitted.predict(history, { origins, horizonBars, ...(quantiles ? { quantiles } : {}) });
          checkBatch(names[m]!, p.frame.symbol, batch, origins.length);
          chunks[m]![s]!.push({ origins, batch, climatology: climatology[s]! });
        });
      } finally {
        fitted.dispose();
      }
      const tm = timing[m]!;
      tm.fits++;
      tm.fitMs += t1 - t0;
      tm.predictMs += performance.now() - t1;
    }
    opts.onFold?.({ fold: k, folds: fitEnds.length, fitEnd, origins: originsOf.reduce((a, o) => a + o.length, 0) });
  }

  const series = names.flatMap((model, m) =>
    prepared.map((p, s) => assemble(model, p, chunks[m]![s]!, forecasters[m]!.capabilities.quantiles ? (opts.quantiles ?? []) : [])),
  );
  return { horizonBars, stepMs: opts.stepMs, barMs, symbols: frames.map((f) => f.symbol), models: names, folds: fitEnds.length, series, timing };
}

/** Refuses a batch whose arrays do not hold one value per requested origin. */
function checkBatch(model: string, symbol: string, batch: ForecastBatch, n: number): void {
  const lengths = [batch.variance.length, batch.spikeProb?.length ?? n, ...[...(batch.logRvQuantiles?.values() ?? [])].map((q) => q.length)];
  if (lengths.some((l) => l !== n)) {
    throw new AppError('internal', `Model ${model} returned arrays of lengths ${lengths.join(', ')} for ${n} origins of ${symbol}: a forecaster must return one value per origin.`, { context: { model, symbol } });
  }
}

/** Mean of the spike labels at the fit's training origins (NaN skipped): the training base rate. */
function trainingBaseRate(labels: Float64Array | undefined, origins: Int32Array): number {
  if (!labels) return Number.NaN;
  let pos = 0;
  let n = 0;
  for (const t of origins) {
    const y = labels[t]!;
    if (Number.isNaN(y)) continue;
    pos += y >= 0.5 ? 1 : 0;
    n++;
  }
  return n > 0 ? pos / n : Number.NaN;
}

/** Concatenates one model's fold chunks for one symbol. */
function assemble(model: string, p: Prepared, chunks: readonly Chunk[], levels: readonly number[]): ModelSeries {
  const n = chunks.reduce((a, c) => a + c.origins.length, 0);
  const originMs = new Float64Array(n);
  const forecast = new Float64Array(n);
  const realised = new Float64Array(n);
  const hasSpike = chunks.some((c) => c.batch.spikeProb !== undefined);
  const spikeProb = hasSpike ? new Float64Array(n).fill(Number.NaN) : undefined;
  const spikeLabel = hasSpike && p.labels ? new Float64Array(n) : undefined;
  const spikeClimatology = hasSpike ? new Float64Array(n) : undefined;
  const quantiles = new Map(levels.map((q) => [q, new Float64Array(n).fill(Number.NaN)]));
  let at = 0;
  for (const c of chunks) {
    c.origins.forEach((o, i) => {
      originMs[at + i] = p.frame.timeMs[o]!;
      realised[at + i] = p.realised[o]!;
      if (spikeLabel) spikeLabel[at + i] = p.labels![o]!;
      if (spikeClimatology) spikeClimatology[at + i] = c.climatology;
    });
    forecast.set(c.batch.variance, at);
    if (spikeProb && c.batch.spikeProb) spikeProb.set(c.batch.spikeProb, at);
    for (const [q, out] of quantiles) {
      const got = c.batch.logRvQuantiles?.get(q);
      if (got) out.set(got, at);
    }
    at += c.origins.length;
  }
  return {
    model, symbol: p.frame.symbol, originMs, forecast, realised,
    ...(levels.length > 0 ? { logRvQuantiles: quantiles } : {}),
    ...(spikeProb ? { spikeProb, spikeClimatology } : {}),
    ...(spikeLabel ? { spikeLabel } : {}),
  };
}
