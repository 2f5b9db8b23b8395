import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { dieboldMariano } from '../../src/evaluation/compare.ts';

const f64 = (xs: readonly number[]): Float64Array => Float64Array.from(xs);

describe('dieboldMariano', () => {
  it('matches a hand computation (h = 2, HLN, t with n − 1 df)', () => {
    // d = A − B = [0.5, −0.2, 0.3, 0.1, −0.4, 0.6, 0.2, −0.1], n = 8, d̄ = 0.125
    // e = d − d̄ = [0.375, −0.325, 0.175, −0.025, −0.525, 0.475, 0.075, −0.225]
    // γ0 = Σe²/8 = 0.835/8 = 0.104375;  γ1 = Σ e_t·e_{t−1}/8 = −0.400625/8 = −0.050078125
    // σ̂² = γ0 + 2·(1 − 1/2)·γ1 = 0.054296875
    // DM = 0.125 / √(0.054296875/8) = 1.517286483621763
    // HLN = √((8 + 1 − 4 + 2/8)/8) = √0.65625 = 0.8100925873009825 → DM* = 1.2291425331939638
    // p = 2·P(T₇ > 1.2291425…) = 0.25872918705105286 (scipy.stats.t.sf)
    const d = [0.5, -0.2, 0.3, 0.1, -0.4, 0.6, 0.2, -0.1];
    const lossB = f64([1, 2, 3, 4, 5, 6, 7, 8]);
    const lossA = lossB.map((b, i) => b + d[i]!);
    const r = dieboldMariano(lossA, lossB, { horizon: 2 });
    expect(r.n).toBe(8);
    expect(r.meanDiff).toBeCloseTo(0.125, 14);
    expect(r.longRunVariance).toBeCloseTo(0.054296875, 14);
    expect(r.stat).toBeCloseTo(1.2291425331939638, 12);
    expect(r.p).toBeCloseTo(0.25872918705105286, 12);
  });

  it('with horizon 1 reduces to a t-test on the mean difference (variance with divisor n), HLN-scaled', () => {
    const d = [0.5, -0.2, 0.3, 0.1, -0.4, 0.6, 0.2, -0.1];
    const r = dieboldMariano(f64(d), new Float64Array(8), { horizon: 1 });
    const dm = 0.125 / Math.sqrt(0.104375 / 8);
    expect(r.stat).toBeCloseTo(dm * Math.sqrt((8 + 1 - 2) / 8), 12);
  });

  it('gives stat 0 and p 1 for identical series', () => {
    const a = f64([0.3, 0.1, 0.9, 0.4, 0.2]);
    expect(dieboldMariano(a, a, { horizon: 3 })).toMatchObject({ stat: 0, p: 1, n: 5, meanDiff: 0 });
  });

  it('detects a clearly better forecast (negative stat ⇒ A has lower loss) and skips NaN pairs', () => {
    const rng = createRng(42);
    const n = 400;
    const lossA = new Float64Array(n);
    const lossB = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const common = Math.abs(rng.normal());
      lossA[i] = common + 0.2 * Math.abs(rng.normal());
      lossB[i] = common + 0.5 + 0.2 * Math.abs(rng.normal());
    }
    lossA[3] = Number.NaN;
    const r = dieboldMariano(lossA, lossB, { horizon: 4 });
    expect(r.n).toBe(n - 1);
    expect(r.stat).toBeLessThan(0);
    expect(r.p).toBeLessThan(0.05);
    const swapped = dieboldMariano(lossB, lossA, { horizon: 4 });
    expect(swapped.stat).toBeCloseTo(-r.stat, 12);
    expect(swapped.p).toBeCloseTo(r.p, 12);
  });

  it('does not reject for two forecasts of equal skill', () => {
    const rng = createRng(3);
    const n = 300;
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = Math.abs(rng.normal());
      b[i] = Math.abs(rng.normal());
    }
    expect(dieboldMariano(a, b, { horizon: 1 }).p).toBeGreaterThan(0.05);
  });

  it('rejects a bad horizon and unequal lengths', () => {
    expect(() => dieboldMariano(f64([1]), f64([1]), { horizon: 0 })).toThrow(/horizon/);
    expect(() => dieboldMariano(f64([1]), f64([1, 2]), { horizon: 1 })).toThrow(/equal length/);
  });
});
