/**
 * Walk-forward evaluation plans on one bar grid: expanding-window folds with periodic refits, and the
 * training origins a fit may use (with the embargo of one horizon). Times are epoch ms; bar t opens at
 * `timeMs[t]` and closes at `timeMs[t] + stepMs`; a forecast at origin t is made at that close.
 */
import { AppError } from '../core/errors.ts';
import { epochMs, iso, type EpochMs } from '../core/time.ts';

/** One refit of a walk-forward plan: fit on data usable before `fitEnd`, then forecast at `origins`. */
export interface Fold {
  /** The fit's cut-off (the fold's start): no training label may close after it. */
  readonly fitEnd: EpochMs;
  /** Bar indices of the test origins of this fold, ascending. */
  readonly origins: Int32Array;
}

/** Options of {@link planWalkForward}. */
export interface WalkForwardOptions {
  /** Bar open times, epoch ms, ascending. */
  readonly timeMs: Float64Array;
  /** Bar length, ms. */
  readonly stepMs: number;
  /** Forecast horizon in bars; a test origin needs its h forward bars in the data. */
  readonly horizonBars: number;
  /** Test period `[testFromMs, testToMs)`, over origin close times. */
  readonly testFromMs: number;
  readonly testToMs: number;
  /** Refit period, ms: folds start at testFromMs, testFromMs + retrainEveryMs, … */
  readonly retrainEveryMs: number;
}

/**
 * Plans an expanding-window walk-forward test. Fold k covers `[start_k, end_k)` with
 * `start_k = testFromMs + k·retrainEveryMs` and `end_k = min(start_k + retrainEveryMs, testToMs)`; its origins are
 * the bars t whose close `timeMs[t] + stepMs` lies in that span and whose forward window is complete
 * (`t + horizonBars < n`); its `fitEnd` is `start_k` (train with {@link trainingOrigins}). Every origin in the
 * test period appears in exactly one fold. Folds without origins are dropped.
 * @throws AppError `config` for non-positive steps or an empty test period.
 */
export function planWalkForward(opts: WalkForwardOptions): Fold[] {
  const { timeMs, stepMs, horizonBars, testFromMs, testToMs, retrainEveryMs } = opts;
  if (!(stepMs > 0) || !(retrainEveryMs > 0) || !Number.isInteger(horizonBars) || horizonBars < 1) {
    throw new AppError('config', `Walk-forward plan: stepMs (${stepMs}) and retrainEveryMs (${retrainEveryMs}) must be positive and horizonBars (${horizonBars}) a positive whole number.`, { context: { stepMs, retrainEveryMs, horizonBars } });
  }
  if (!(testToMs > testFromMs)) {
    throw new AppError('config', `Walk-forward plan: the test period [${iso(testFromMs)}, ${iso(testToMs)}) is empty; testToMs must be after testFromMs.`, { context: { testFromMs, testToMs } });
  }
  const n = timeMs.length;
  const folds: Fold[] = [];
  let t = 0;
  for (let start = testFromMs; start < testToMs; start += retrainEveryMs) {
    const end = Math.min(start + retrainEveryMs, testToMs);
    const idx: number[] = [];
    while (t < n && timeMs[t]! + stepMs < start) t++;
    for (; t < n && timeMs[t]! + stepMs < end; t++) {
      if (t + horizonBars < n) idx.push(t);
    }
    if (idx.length > 0) folds.push({ fitEnd: epochMs(start), origins: Int32Array.from(idx) });
  }
  return folds;
}

/**
 * Training origins for a fit that ends at `fitEnd`: the bars t ≥ `minIndex` whose label window (bars
 * t+1 … t+h) exists and has closed by `fitEnd` — `timeMs[t] + (h+1)·stepMs ≤ fitEnd` and, across bridged
 * gaps, `timeMs[t+h] + stepMs ≤ fitEnd`. This is the embargo: the last h origins before `fitEnd`, whose
 * labels would overlap the test period, are left out.
 * @param timeMs - Bar open times, epoch ms, ascending.
 * @param stepMs - Bar length, ms.
 * @param horizonBars - Label horizon h in bars.
 * @param fitEnd - Cut-off instant, epoch ms.
 * @param minIndex - First usable index (e.g. once features are warm), default 0.
 */
export function trainingOrigins(timeMs: Float64Array, stepMs: number, horizonBars: number, fitEnd: number, minIndex = 0): Int32Array {
  const n = timeMs.length;
  const idx: number[] = [];
  const reach = (horizonBars + 1) * stepMs;
  for (let t = Math.max(0, minIndex); t + horizonBars < n; t++) {
    if (timeMs[t]! + reach > fitEnd) break;
    if (timeMs[t + horizonBars]! + stepMs <= fitEnd) idx.push(t);
  }
  return Int32Array.from(idx);
}
