/**
 * Labels for volatility forecasting, aligned on the **origin** bar t: a forecast is made at the close of
 * bar t, so labels look at bars t+1 … t+h (strictly after the origin) and conditioning quantities at bars
 * ≤ t. Units: squared log returns (not annualised) unless stated.
 */
import { AppError } from '../core/errors.ts';
import { clampNonNegativeInPlace, rollingSum, squared } from '../features/returns.ts';
import { rollingExtreme, rollingMedian } from './rolling-window.ts';

function checkHorizon(h: number, what: string): void {
  if (!Number.isInteger(h) || h < 1) throw new AppError('config', `${what}: the horizon must be a positive whole number of bars, not ${h}.`, { context: { horizonBars: h } });
}

/** Shifts `x` left by `h`: `out[t] = x[t+h]`, NaN when t + h ≥ n. */
function lead(x: Float64Array, h: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n).fill(Number.NaN);
  for (let t = 0; t + h < n; t++) out[t] = x[t + h]!;
  return out;
}

/**
 * Forward realised variance: `out[t] = Σ_{j=1..h} r[t+j]²`, the variance realised over the h bars after
 * the origin t (from the close of bar t to the close of bar t+h). NaN when t + h ≥ n (incomplete window)
 * or when a return inside it is NaN. This is the target of every volatility forecaster.
 * @param r - Log returns per bar (r[t] over bar t).
 * @param h - Horizon in bars (≥ 1).
 */
export function forwardRv(r: Float64Array, h: number): Float64Array {
  checkHorizon(h, 'forwardRv');
  return lead(pastRv(r, h), h);
}

/**
 * Past realised variance: `out[t] = Σ_{j=0..h−1} r[t−j]²`, the variance realised over the h bars ending
 * with bar t (known at its close). NaN until h finite returns are available (index ≥ h when r[0] is NaN).
 * `pastRv(r, h)[t + h] === forwardRv(r, h)[t]`.
 */
export function pastRv(r: Float64Array, h: number): Float64Array {
  checkHorizon(h, 'pastRv');
  return clampNonNegativeInPlace(rollingSum(squared(r), h));
}

/** Options of {@link spikeLabels}. */
export interface SpikeOptions {
  /** Multiple of the trailing median that counts as a spike (default 2). */
  readonly k?: number;
  /** Trailing window of origins for the median, in bars (30 days of bars, e.g. 720 at 1h). */
  readonly lookbackBars: number;
}

/**
 * Volatility-spike labels: `1` if `forwardRv(r, h)[t] > k × median{ pastRv(r, h)[s] : s ∈ (t − lookback, t] }`,
 * else `0`. The median compares like with like (h-bar RVs) and uses only windows that ended by the close of
 * bar t. NaN where the forward window is incomplete or the lookback does not yet hold `lookbackBars`
 * finite past RVs.
 *
 * Cost: the median is exact over every origin in the lookback (overlapping windows, not sub-sampled),
 * computed with {@link rollingMedian}'s sorted sliding buffer: 35k bars × 720-bar lookback in a few ms,
 * 8 symbols well under a second.
 */
export function spikeLabels(r: Float64Array, h: number, opts: SpikeOptions): Float64Array {
  checkHorizon(h, 'spikeLabels');
  const k = opts.k ?? 2;
  if (!(k > 0)) throw new AppError('config', `spikeLabels: k must be positive, not ${k}.`, { context: { k } });
  const past = pastRv(r, h);
  const fwd = lead(past, h);
  const med = rollingMedian(past, opts.lookbackBars);
  const out = new Float64Array(r.length);
  for (let t = 0; t < r.length; t++) {
    const f = fwd[t]!;
    const m = med[t]!;
    out[t] = Number.isNaN(f) || Number.isNaN(m) ? Number.NaN : f > k * m ? 1 : 0;
  }
  return out;
}

/** Worst adverse moves over the horizon, as fractions of the origin close. */
export interface AdverseExcursion {
  /** For a long entered at close[t]: `max(0, max_{j=1..h} (close[t] − low[t+j]) / close[t])`. */
  readonly long: Float64Array;
  /** For a short entered at close[t]: `max(0, max_{j=1..h} (high[t+j] − close[t]) / close[t])`. */
  readonly short: Float64Array;
}

/**
 * Maximum adverse excursion over the h bars after the origin t (bars t+1 … t+h, intrabar extremes
 * included), as a fraction of `close[t]`, clipped at ≥ 0 — the loss a position opened at the close of t
 * would have had to survive, i.e. what a maintenance margin must cover. NaN when t + h ≥ n or a high or
 * low in the window is not finite. O(n) (monotonic deques over lows and highs).
 */
export function maxAdverseExcursion(bars: { close: Float64Array; high: Float64Array; low: Float64Array }, h: number): AdverseExcursion {
  checkHorizon(h, 'maxAdverseExcursion');
  const n = bars.close.length;
  const minLow = lead(rollingExtreme(bars.low, h, 'min'), h);
  const maxHigh = lead(rollingExtreme(bars.high, h, 'max'), h);
  const long = new Float64Array(n);
  const short = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const c = bars.close[t]!;
    const dl = (c - minLow[t]!) / c;
    const ds = (maxHigh[t]! - c) / c;
    long[t] = Number.isNaN(dl) ? Number.NaN : dl > 0 ? dl : 0;
    short[t] = Number.isNaN(ds) ? Number.NaN : ds > 0 ? ds : 0;
  }
  return { long, short };
}
