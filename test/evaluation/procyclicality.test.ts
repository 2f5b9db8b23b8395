import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxIncrease, peakToTrough, procyclicalitySummary, type IncreaseMode } from '../../src/evaluation/procyclicality.ts';

const f64 = (xs: readonly number[]): Float64Array => Float64Array.from(xs);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NaN_ = Number.NaN;

/** O(n²) definition: for every t, the increase over every earlier s with time[t] − window < time[s]. */
function bruteMaxIncrease(time: Float64Array, margin: Float64Array, windowMs: number, mode: IncreaseMode): number {
  let best = Number.NaN;
  for (let t = 0; t < margin.length; t++) {
    if (!Number.isFinite(margin[t]!)) continue;
    for (let s = 0; s <= t; s++) {
      if (!Number.isFinite(margin[s]!) || time[s]! <= time[t]! - windowMs) continue;
      const d = margin[t]! - margin[s]!;
      const inc = mode === 'relative' ? d / margin[s]! : d;
      if (Number.isNaN(best) || inc > best) best = inc;
    }
  }
  return best;
}

describe('peakToTrough', () => {
  it('is max/min over finite margins', () => {
    expect(peakToTrough(f64([0.05, 0.1, NaN_, 0.02, 0.04]))).toBeCloseTo(5, 12);
    expect(peakToTrough(f64([0.1]))).toBe(1);
    expect(peakToTrough(f64([NaN_]))).toBeNaN();
    expect(() => peakToTrough(f64([0.1, 0]))).toThrow(/positive margins, got 0 at index 1/);
  });
});

describe('maxIncrease', () => {
  it('matches hand examples, with the window open on the left: (t − window, t]', () => {
    const time = f64([0, 1, 2, 3, 4].map((h) => h * HOUR));
    const m = f64([0.1, 0.08, 0.12, 0.2, 0.15]);
    // within 2 h: at 3 h the window (1 h, 3 h] holds 0.12, 0.2 → +0.08; at 2 h, (0, 2 h] holds 0.08 → +0.04
    expect(maxIncrease(time, m, 2 * HOUR, 'absolute')).toBeCloseTo(0.08, 12);
    expect(maxIncrease(time, m, 2 * HOUR, 'relative')).toBeCloseTo(0.2 / 0.12 - 1, 12);
    // within 3 h: (0, 3 h] holds 0.08 → 0.2 − 0.08 = 0.12, +150%
    expect(maxIncrease(time, m, 3 * HOUR, 'absolute')).toBeCloseTo(0.12, 12);
    expect(maxIncrease(time, m, 3 * HOUR, 'relative')).toBeCloseTo(1.5, 12);
    // a falling series never increases
    expect(maxIncrease(time, f64([5, 4, 3, 2, 1]), DAY, 'relative')).toBe(0);
  });

  it('uses irregular times and skips NaN margins', () => {
    const time = f64([0, 10, 11, 40, 41].map((h) => h * HOUR));
    const m = f64([1, NaN_, 2, 3, 1.5]);
    // 1-day window: at 11 h the window (−13 h, 11 h] holds 1 → +100%; at 40 h only (16 h, 40 h] → 3 alone
    expect(maxIncrease(time, m, DAY, 'relative')).toBeCloseTo(1, 12);
    expect(maxIncrease(time, m, 2 * DAY, 'relative')).toBeCloseTo(2, 12); // 1 at 0 h is within (−8 h, 40 h]
    expect(maxIncrease(time, f64([NaN_, NaN_, NaN_, NaN_, NaN_]), DAY, 'absolute')).toBeNaN();
  });

  it('refuses unsorted times, a bad window and misaligned arrays', () => {
    expect(() => maxIncrease(f64([0, 2, 1]), f64([1, 1, 1]), DAY, 'relative')).toThrow(/non-decreasing times, got 1 at index 2/);
    expect(() => maxIncrease(f64([0]), f64([1]), 0, 'relative')).toThrow(/window > 0/);
    expect(() => maxIncrease(f64([0, 1]), f64([1]), DAY, 'relative')).toThrow(/equal length/);
  });

  it('equals the O(n²) definition on random irregular series', () => {
    const series = fc.array(fc.tuple(fc.integer({ min: 0, max: 5 * HOUR }), fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: NaN_ })), {
      minLength: 1,
      maxLength: 80,
    });
    fc.assert(
      fc.property(series, fc.integer({ min: 1, max: 30 * HOUR }), fc.constantFrom<IncreaseMode>('relative', 'absolute'), (rows, windowMs, mode) => {
        let t = 0;
        const time = f64(rows.map(([dt]) => (t += dt)));
        const margin = f64(rows.map(([, m]) => m));
        const fast = maxIncrease(time, margin, windowMs, mode);
        const slow = bruteMaxIncrease(time, margin, windowMs, mode);
        return Number.isNaN(slow) ? Number.isNaN(fast) : Math.abs(fast - slow) <= 1e-12 * Math.max(1, Math.abs(slow));
      }),
      { numRuns: 300 },
    );
  });
});

describe('procyclicalitySummary', () => {
  it('reports peak-to-trough and 1/7/30-day increases on an hourly series', () => {
    // 60 days hourly: flat 0.05, then a 10-day linear ramp to 0.10 starting on day 20, flat after
    const n = 60 * 24;
    const time = new Float64Array(n);
    const m = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      time[i] = i * HOUR;
      const d = i / 24;
      m[i] = d < 20 ? 0.05 : d < 30 ? 0.05 + (0.05 * (d - 20)) / 10 : 0.1;
    }
    const s = procyclicalitySummary(time, m);
    expect(s.peakToTrough).toBeCloseTo(2, 12);
    expect(s.maxIncrease30d).toBeCloseTo(1, 12); // 0.05 → 0.10 within 30 days
    // the ramp rises 0.005 per day: the largest 1-day rise is 23 h of it (the window excludes its left end)
    expect(s.maxIncreaseAbs1d).toBeCloseTo((0.005 * 23) / 24, 12);
    expect(s.maxIncreaseAbs7d).toBeCloseTo(0.005 * (7 - 1 / 24), 12);
    expect(s.maxIncrease7d).toBeCloseTo((0.005 * (7 - 1 / 24)) / 0.05, 12); // from the ramp's start at 0.05
    expect(s.maxIncreaseAbs30d).toBeCloseTo(0.05, 12);
  });
});
