/**
 * Feature transforms and per-symbol normalisation of the ml forecaster's inputs (pure, Float64Array).
 *
 * Variance-like features are right-skewed over orders of magnitude, so they enter as
 * log(max(x, 0) + floor): the floor (1e-3 × the pooled training median of the feature's positive values)
 * keeps zero jumps and flat bars finite without letting them dominate. Every input is then z-scored with
 * the mean and standard deviation of its own symbol's training rows, so one pooled network serves symbols
 * whose volatility levels differ by a factor of ten. A symbol not seen in training falls back to the
 * statistics pooled over every training row of every symbol.
 */
import type { FeatureFrame } from '../../features/frame.ts';
import { columnOf } from './derived.ts';

/** Column names treated as variances (or volatilities) and log-transformed. */
const LOG_FEATURES = new Set(['r2', 'ewma_var', 'iv']);
const LOG_PREFIXES = ['@rv_', 'rv_', 'bpv_', 'jump_', 'rs_pos_', 'rs_neg_', 'parkinson_', 'gk_', 'rsv_', 'btc_rv_'];

/** z-scores are clipped to ±CLIP so a single extreme print cannot saturate the network. */
export const Z_CLIP = 8;
/** Floor of a log feature, relative to its pooled training median of positive values. */
const FLOOR_FRACTION = 1e-3;

/** True when a feature column is a variance (or volatility) and enters the model in logs. */
export function isLogFeature(name: string): boolean {
  return LOG_FEATURES.has(name) || LOG_PREFIXES.some((p) => name.startsWith(p));
}

/** Normalisation statistics of one symbol (or the pooled fallback), over its training rows. */
export interface SymbolStats {
  /** Per input feature (in `featureNames` order), mean and standard deviation after the log transform. */
  readonly mean: number[];
  readonly std: number[];
  /** Mean of log forward RV over the symbol's training rows. */
  readonly targetMean: number;
  /** Means of the log HAR inputs (daily, weekly, monthly RV). */
  readonly harMean: number[];
  /** Training rows the statistics come from. */
  readonly rows: number;
}

/** Every statistic needed to turn a frame row into network inputs; stored in the artifact. */
export interface Normalisation {
  /** Additive floor of each log-transformed column (by name); absent → not log-transformed. */
  readonly floors: Record<string, number>;
  readonly bySymbol: Record<string, SymbolStats>;
  /** Pooled over all training symbols: used for a symbol not seen in training. */
  readonly pooled: SymbolStats;
  readonly clip: number;
}

/** Transformed (not yet normalised) value of `x` for a column with the given floor (undefined → identity). */
export function transformValue(x: number, floor: number | undefined): number {
  if (floor === undefined) return x;
  return Math.log((x > 0 ? x : 0) + floor);
}

/**
 * Fits the log floor of every log-transformed column from training rows of all frames pooled.
 * `rowsByFrame[i]` lists the training origin indices of `frames[i]`.
 */
export function fitFloors(frames: readonly FeatureFrame[], rowsByFrame: readonly Int32Array[], names: readonly string[]): Record<string, number> {
  const floors: Record<string, number> = {};
  for (const name of names) {
    if (!isLogFeature(name)) continue;
    const vals: number[] = [];
    frames.forEach((f, i) => {
      const col = columnOf(f, name);
      const rows = rowsByFrame[i];
      if (!col || !rows) return;
      // A strided sample is plenty for a median and keeps this O(rows / stride).
      const stride = Math.max(1, Math.floor(rows.length / 20_000));
      for (let k = 0; k < rows.length; k += stride) {
        const v = col[rows[k]!]!;
        if (v > 0 && Number.isFinite(v)) vals.push(v);
      }
    });
    vals.sort((a, b) => a - b);
    const median = vals.length ? vals[Math.floor(vals.length / 2)]! : 1e-8;
    floors[name] = Math.max(FLOOR_FRACTION * median, 1e-300);
  }
  return floors;
}

/**
 * Transformed values of `names` at `origins` of one frame, row-major (origins.length × names.length).
 * Missing columns must have been refused before; a NaN input stays NaN.
 */
export function transformedRows(frame: FeatureFrame, origins: Int32Array, names: readonly string[], floors: Readonly<Record<string, number>>): Float64Array {
  const width = names.length;
  const out = new Float64Array(origins.length * width);
  names.forEach((name, j) => {
    const col = columnOf(frame, name)!;
    const floor = floors[name];
    for (let i = 0; i < origins.length; i++) out[i * width + j] = transformValue(col[origins[i]!]!, floor);
  });
  return out;
}

/** Running sums for means and variances (Welford would be overkill: inputs are logs and z-scores). */
class Moments {
  n = 0; s = 0; ss = 0;
  add(x: number): void { this.n++; this.s += x; this.ss += x * x; }
  mean(): number { return this.n ? this.s / this.n : 0; }
  std(): number {
    if (this.n < 2) return 1;
    const m = this.s / this.n;
    const v = Math.max(this.ss / this.n - m * m, 0);
    const sd = Math.sqrt(v);
    // A constant column (e.g. an optional feature that is always 0) would divide by zero.
    return sd > 1e-12 ? sd : 1;
  }
}

/** Accumulates per-symbol and pooled statistics from valid training rows. */
export class StatsAccumulator {
  private readonly per = new Map<string, { x: Moments[]; y: Moments; har: Moments[] }>();
  private readonly pooled: { x: Moments[]; y: Moments; har: Moments[] };

  constructor(private readonly width: number, private readonly harWidth: number) {
    this.pooled = this.empty();
  }

  private empty(): { x: Moments[]; y: Moments; har: Moments[] } {
    return { x: Array.from({ length: this.width }, () => new Moments()), y: new Moments(), har: Array.from({ length: this.harWidth }, () => new Moments()) };
  }

  /** Adds one training row: transformed inputs, log target and log HAR inputs. */
  add(symbol: string, x: ArrayLike<number>, xOffset: number, logTarget: number, har: ArrayLike<number>, harOffset: number): void {
    let s = this.per.get(symbol);
    if (!s) { s = this.empty(); this.per.set(symbol, s); }
    for (const acc of [s, this.pooled]) {
      for (let j = 0; j < this.width; j++) acc.x[j]!.add(x[xOffset + j]!);
      for (let j = 0; j < this.harWidth; j++) acc.har[j]!.add(har[harOffset + j]!);
      acc.y.add(logTarget);
    }
  }

  /** The normalisation, given the floors used for the transform. */
  finish(floors: Record<string, number>): Normalisation {
    const toStats = (a: { x: Moments[]; y: Moments; har: Moments[] }): SymbolStats => ({
      mean: a.x.map((m) => m.mean()),
      std: a.x.map((m) => m.std()),
      targetMean: a.y.mean(),
      harMean: a.har.map((m) => m.mean()),
      rows: a.y.n,
    });
    const bySymbol: Record<string, SymbolStats> = {};
    for (const [sym, acc] of [...this.per.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) bySymbol[sym] = toStats(acc);
    return { floors, bySymbol, pooled: toStats(this.pooled), clip: Z_CLIP };
  }
}

/** The statistics for `symbol`, or the pooled ones when it was not in training. */
export function statsFor(norm: Normalisation, symbol: string): { stats: SymbolStats; pooled: boolean } {
  const s = norm.bySymbol[symbol];
  return s ? { stats: s, pooled: false } : { stats: norm.pooled, pooled: true };
}

/** z-scores transformed rows in place into a Float32Array (row-major), clipped to ±clip. */
export function normaliseRows(rows: Float64Array, stats: SymbolStats, clip: number, out: Float32Array, outOffsetRows = 0): void {
  const width = stats.mean.length;
  const n = rows.length / width;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      const z = (rows[i * width + j]! - stats.mean[j]!) / stats.std[j]!;
      out[(outOffsetRows + i) * width + j] = z > clip ? clip : z < -clip ? -clip : z;
    }
  }
}
