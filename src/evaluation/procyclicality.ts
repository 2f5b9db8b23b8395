/**
 * Procyclicality of a margin series (Murphy, Vasios & Vause 2014, "An Investigation into the
 * Procyclicality of Risk-Based Initial Margin Models", BoE FSP 29): the peak-to-trough ratio and the
 * largest margin increase within an n-day window. Pure functions over a margin series (margin ratio or
 * margin amount, any positive unit) aligned with its timestamps in epoch ms (ascending, possibly irregular).
 * Non-finite margins (NaN gaps) are skipped.
 */
import { AppError } from '../core/errors.ts';

const DAY_MS = 86_400_000;

/** How an increase is measured: `relative` = (m_t − min)/min (a fraction, 0.5 = +50%), `absolute` = m_t − min (margin units). */
export type IncreaseMode = 'relative' | 'absolute';

function checkPositive(margin: Float64Array, i: number): void {
  const m = margin[i]!;
  if (m <= 0) {
    throw new AppError('badRequest', `Procyclicality metrics need positive margins, got ${m} at index ${i}: a margin of zero or less is a policy bug; fix it before measuring.`, {
      context: { index: i, margin: m },
    });
  }
}

/** max/min of the finite margins (≥ 1); NaN when there is none. Throws `badRequest` on a non-positive margin. */
export function peakToTrough(margin: Float64Array): number {
  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < margin.length; i++) {
    const m = margin[i]!;
    if (!Number.isFinite(m)) continue;
    checkPositive(margin, i);
    if (m > max) max = m;
    if (m < min) min = m;
  }
  return min === Infinity ? Number.NaN : max / min;
}

function checkTimes(timeMs: Float64Array, margin: Float64Array, windowMs: number): void {
  if (timeMs.length !== margin.length) {
    throw new AppError('badRequest', `maxIncrease needs timeMs and margin of equal length, got ${timeMs.length} and ${margin.length}: align them first.`, {
      context: { lengths: [timeMs.length, margin.length] },
    });
  }
  if (!(windowMs > 0)) {
    throw new AppError('badRequest', `maxIncrease needs a window > 0 ms, got ${String(windowMs)}: pass e.g. 86400000 for one day.`, { context: { windowMs } });
  }
  for (let i = 0; i < timeMs.length; i++) {
    const t = timeMs[i]!;
    if (!Number.isFinite(t) || (i > 0 && t < timeMs[i - 1]!)) {
      throw new AppError('badRequest', `maxIncrease needs finite, non-decreasing times, got ${t} at index ${i} after ${i > 0 ? timeMs[i - 1]! : 'nothing'}: sort the series by time.`, {
        context: { index: i, timeMs: t },
      });
    }
  }
}

/**
 * Largest increase of the margin within a trailing window: max over t of m[t] − min{m[s] : t − windowMs < time[s] ≤ time[t]}
 * (divided by that minimum in `relative` mode, which the same minimum maximises since margins are positive).
 * 0 for a never-rising series; NaN without finite margins. O(n) with a monotonic deque of window minima.
 */
export function maxIncrease(timeMs: Float64Array, margin: Float64Array, windowMs: number, mode: IncreaseMode): number {
  checkTimes(timeMs, margin, windowMs);
  const deque = new Int32Array(margin.length); // indices with increasing margins; front = window minimum
  let head = 0;
  let tail = 0;
  let best = Number.NaN;
  for (let t = 0; t < margin.length; t++) {
    const m = margin[t]!;
    if (!Number.isFinite(m)) continue;
    checkPositive(margin, t);
    while (tail > head && margin[deque[tail - 1]!]! >= m) tail--;
    deque[tail++] = t;
    const start = timeMs[t]! - windowMs;
    while (timeMs[deque[head]!]! <= start) head++; // never empties: t itself is in the window
    const lo = margin[deque[head]!]!;
    const inc = mode === 'relative' ? (m - lo) / lo : m - lo;
    if (!(inc <= best)) best = inc;
  }
  return best;
}

/** Procyclicality report of one margin series. */
export interface ProcyclicalitySummary {
  /** max/min margin over the series. */
  readonly peakToTrough: number;
  /** Largest relative increase within 1, 7 and 30 days, as fractions (0.5 = the margin rose by 50%). */
  readonly maxIncrease1d: number;
  readonly maxIncrease7d: number;
  readonly maxIncrease30d: number;
  /** The same in the margin's own units (e.g. margin-ratio points). */
  readonly maxIncreaseAbs1d: number;
  readonly maxIncreaseAbs7d: number;
  readonly maxIncreaseAbs30d: number;
}

/**
 * Peak-to-trough ratio and the largest 1-, 7- and 30-day margin increases (relative as fractions,
 * absolute in margin units) of a margin series stamped with epoch-ms times (DOMAIN §C3).
 */
export function procyclicalitySummary(timeMs: Float64Array, margin: Float64Array): ProcyclicalitySummary {
  const inc = (days: number, mode: IncreaseMode): number => maxIncrease(timeMs, margin, days * DAY_MS, mode);
  return {
    peakToTrough: peakToTrough(margin),
    maxIncrease1d: inc(1, 'relative'),
    maxIncrease7d: inc(7, 'relative'),
    maxIncrease30d: inc(30, 'relative'),
    maxIncreaseAbs1d: inc(1, 'absolute'),
    maxIncreaseAbs7d: inc(7, 'absolute'),
    maxIncreaseAbs30d: inc(30, 'absolute'),
  };
}
