import { describe, expect, it } from 'vitest';
import { planWalkForward, trainingOrigins } from '../../src/dataset/walk-forward.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2024, 0, 1);

/** Hourly open times for `days` days with the bars at `missing` indices removed. */
function grid(days: number, missing: readonly number[] = []): Float64Array {
  const skip = new Set(missing);
  const out: number[] = [];
  for (let i = 0; i < days * 24; i++) if (!skip.has(i)) out.push(T0 + i * HOUR);
  return Float64Array.from(out);
}

describe('planWalkForward', () => {
  const timeMs = grid(120, [1000, 2000, 2001]);
  const h = 24;
  const testFromMs = T0 + 60 * DAY + 5 * HOUR;
  const testToMs = T0 + 110 * DAY;
  const folds = planWalkForward({ timeMs, stepMs: HOUR, horizonBars: h, testFromMs, testToMs, retrainEveryMs: 7 * DAY });

  it('covers every origin whose close is in [testFrom, testTo) exactly once, each with a complete forward window', () => {
    const seen = new Map<number, number>();
    for (const f of folds) for (const t of f.origins) seen.set(t, (seen.get(t) ?? 0) + 1);
    const expected: number[] = [];
    for (let t = 0; t < timeMs.length; t++) {
      const close = timeMs[t]! + HOUR;
      if (close >= testFromMs && close < testToMs && t + h < timeMs.length) expected.push(t);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(expected);
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
  });

  it('starts folds at testFrom and every retrain period, each fold inside [fitEnd, fitEnd + period)', () => {
    expect(folds.length).toBe(8);
    folds.forEach((f, k) => {
      expect(f.fitEnd).toBe(testFromMs + k * 7 * DAY);
      for (const t of f.origins) {
        const close = timeMs[t]! + HOUR;
        expect(close).toBeGreaterThanOrEqual(f.fitEnd);
        expect(close).toBeLessThan(Math.min(f.fitEnd + 7 * DAY, testToMs));
      }
    });
  });

  it('drops origins without a complete forward window at the end of the data', () => {
    const end = planWalkForward({ timeMs, stepMs: HOUR, horizonBars: h, testFromMs: T0 + 115 * DAY, testToMs: T0 + 130 * DAY, retrainEveryMs: DAY });
    const last = end[end.length - 1]!.origins;
    expect(last[last.length - 1]).toBe(timeMs.length - 1 - h);
    expect(() => planWalkForward({ timeMs, stepMs: HOUR, horizonBars: h, testFromMs: 5, testToMs: 5, retrainEveryMs: DAY })).toThrow(/empty/);
  });

  it('embargo: no training origin of any fold has a label window crossing its fitEnd', () => {
    for (const f of folds) {
      const train = trainingOrigins(timeMs, HOUR, h, f.fitEnd);
      expect(train.length).toBeGreaterThan(0);
      const crossing = Array.from(train).filter((t) => !(t + h < timeMs.length && timeMs[t + h]! + HOUR <= f.fitEnd && timeMs[t]! + (h + 1) * HOUR <= f.fitEnd));
      expect(crossing).toEqual([]);
      // Maximal: the next origin's label would cross fitEnd.
      const next = train[train.length - 1]! + 1;
      expect(timeMs[next + h]! + HOUR).toBeGreaterThan(f.fitEnd);
      // And every training origin precedes every test origin by at least the horizon.
      expect(train[train.length - 1]! + h).toBeLessThanOrEqual(f.origins[0]!);
    }
  });

  it('trainingOrigins respects minIndex and bridged gaps inside the label window', () => {
    const fitEnd = timeMs[2005]! + HOUR; // gap of 2 bars between indices 1998 and 1999 (open 2000, 2001 missing)
    const train = trainingOrigins(timeMs, HOUR, h, fitEnd, 100);
    expect(train[0]).toBe(100);
    for (const t of train) expect(timeMs[t + h]! + HOUR).toBeLessThanOrEqual(fitEnd);
    expect(train[train.length - 1]).toBe(2005 - h);
  });
});
