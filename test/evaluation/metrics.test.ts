import { describe, expect, it } from 'vitest';
import { coverage, lossSeries, mincerZarnowitz, mseLog, pinballLoss, qlike, REALISED_FLOOR } from '../../src/evaluation/metrics.ts';

const f64 = (xs: readonly number[]): Float64Array => Float64Array.from(xs);

describe('qlike', () => {
  it('is zero for a perfect forecast and matches the hand-computed value', () => {
    expect(qlike(f64([1, 2, 3]), f64([1, 2, 3])).value).toBe(0);
    // RV/F = 2 → 2 − ln 2 − 1; RV/F = 1 → 0; mean = (1 − ln 2)/2 ≈ 0.153426
    const r = qlike(f64([2, 1]), f64([1, 1]));
    expect(r.value).toBeCloseTo((1 - Math.LN2) / 2, 15);
    expect(r).toMatchObject({ n: 2, skipped: 0 });
  });

  it('penalises under-prediction more than over-prediction by the same factor', () => {
    const under = qlike(f64([2]), f64([1])).value; // F = RV/2
    const over = qlike(f64([1]), f64([2])).value; // F = 2·RV
    expect(under).toBeGreaterThan(over);
  });

  it('skips and counts NaN pairs and non-positive forecasts', () => {
    const r = qlike(f64([2, Number.NaN, 1, 1]), f64([1, 1, 0, Number.NaN]));
    expect(r).toMatchObject({ n: 1, skipped: 3 });
    expect(r.value).toBeCloseTo(1 - Math.LN2, 15);
    expect(qlike(f64([Number.NaN]), f64([1])).value).toBeNaN();
  });

  it('floors a zero realised variance instead of returning infinity', () => {
    const r = qlike(f64([0]), f64([1e-4]));
    const ratio = REALISED_FLOOR / 1e-4;
    expect(r.value).toBeCloseTo(ratio - Math.log(ratio) - 1, 10);
    expect(Number.isFinite(qlike(f64([0]), f64([1e-4]), { realisedFloor: 1e-8 }).value)).toBe(true);
  });

  it('rejects series of different lengths', () => {
    expect(() => qlike(f64([1]), f64([1, 2]))).toThrow(/equal length/);
  });
});

describe('mseLog', () => {
  it('matches the hand-computed value', () => {
    // (ln 2 − ln 1)² and (ln 1 − ln e)² = 1 → mean (ln²2 + 1)/2
    expect(mseLog(f64([2, 1]), f64([1, Math.E])).value).toBeCloseTo((Math.LN2 ** 2 + 1) / 2, 15);
  });
});

describe('lossSeries', () => {
  it('returns one loss per origin with NaN where unusable', () => {
    const s = lossSeries('qlike', f64([2, Number.NaN, 1]), f64([1, 1, 1]));
    expect(s[0]).toBeCloseTo(1 - Math.LN2, 15);
    expect(s[1]).toBeNaN();
    expect(s[2]).toBe(0);
  });
});

describe('mincerZarnowitz', () => {
  it('recovers an exact line', () => {
    const x = f64([1, 2, 3, 4, 5]);
    const y = x.map((v) => 1 + 2 * v);
    const mz = mincerZarnowitz(y, x);
    expect(mz.alpha).toBeCloseTo(1, 12);
    expect(mz.beta).toBeCloseTo(2, 12);
    expect(mz.r2).toBeCloseTo(1, 12);
  });

  it('matches hand-computed OLS', () => {
    // x̄ = 2.5, ȳ = 3.5, Sxx = 5, Sxy = 4, Syy = 5 → β = 0.8, α = 1.5, R² = β·Sxy/Syy = 0.64
    const mz = mincerZarnowitz(f64([2, 3, 5, 4, Number.NaN]), f64([1, 2, 3, 4, 7]));
    expect(mz.beta).toBeCloseTo(0.8, 14);
    expect(mz.alpha).toBeCloseTo(1.5, 14);
    expect(mz.r2).toBeCloseTo(0.64, 14);
    expect(mz).toMatchObject({ n: 4, skipped: 1 });
  });

  it('regresses logs with { log: true }', () => {
    const f = f64([1e-4, 2e-4, 4e-4, 8e-4]);
    const rv = f.map((v) => Math.E * v ** 1.5); // ln RV = 1 + 1.5 ln F
    const mz = mincerZarnowitz(rv, f, { log: true });
    expect(mz.alpha).toBeCloseTo(1, 10);
    expect(mz.beta).toBeCloseTo(1.5, 10);
  });
});

describe('pinballLoss and coverage', () => {
  it('match hand-computed values', () => {
    // u = y − q = −1 → (τ−1)·u = 0.1; u = +1 → τ·u = 0.9; mean 0.5
    expect(pinballLoss(f64([0, 0]), f64([1, -1]), 0.9).value).toBeCloseTo(0.5, 15);
    expect(pinballLoss(f64([0, 0, Number.NaN]), f64([1, -1, 0]), 0.1)).toMatchObject({ n: 2, skipped: 1 });
    expect(pinballLoss(f64([0, 0]), f64([1, -1]), 0.1).value).toBeCloseTo(0.5, 15);
    expect(coverage(f64([0, 0, 1, Number.NaN]), f64([1, -1, 1, 0]))).toMatchObject({ value: 2 / 3, n: 3, skipped: 1 });
  });

  it('is minimised by the empirical quantile', () => {
    const y = f64(Array.from({ length: 101 }, (_, i) => i));
    const at = (q: number): number => pinballLoss(y, new Float64Array(y.length).fill(q), 0.9).value;
    expect(at(90)).toBeLessThan(at(85));
    expect(at(90)).toBeLessThan(at(95));
  });

  it('rejects levels outside (0, 1)', () => {
    expect(() => pinballLoss(f64([0]), f64([0]), 1)).toThrow(/outside/);
  });
});
