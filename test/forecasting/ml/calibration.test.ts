import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/core/rng.ts';
import { brierScore, calibrate, fitIsotonic, fitPlatt, sigmoid } from '../../../src/forecasting/ml/calibration.ts';
import { fitHar } from '../../../src/forecasting/ml/har.ts';
import { interpolateQuantile, meanQlike, normalQuantile, qlikeScale } from '../../../src/forecasting/ml/quantiles.ts';

/** Over-confident, biased logits of a known probability: the raw sigmoid is miscalibrated. */
function miscalibrated(n: number, seed: number): { logits: Float64Array; labels: Float64Array } {
  const rng = createRng(seed);
  const logits = new Float64Array(n);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = rng.normal() - 1.5;
    labels[i] = rng.next() < sigmoid(z) ? 1 : 0;
    logits[i] = 3 * z + 2;
  }
  return { logits, labels };
}

describe('spike calibration', () => {
  const fitSet = miscalibrated(4000, 1);
  const heldOut = miscalibrated(4000, 2);
  const rawBrier = brierScore(Float64Array.from(heldOut.logits, sigmoid), heldOut.labels);

  for (const [name, fit] of [['platt', fitPlatt], ['isotonic', fitIsotonic]] as const) {
    it(`${name} improves the held-out Brier score of miscalibrated logits and stays inside (0, 1)`, () => {
      const cal = fit(fitSet.logits, fitSet.labels);
      expect(cal.method).toBe(name);
      const probs = Float64Array.from(heldOut.logits, (s) => calibrate(cal, s));
      expect(brierScore(probs, heldOut.labels)).toBeLessThan(rawBrier * 0.9);
      for (const p of probs) { expect(p).toBeGreaterThan(0); expect(p).toBeLessThan(1); }
      // Calibration maps are monotone in the logit.
      for (let s = -10; s < 10; s += 0.5) expect(calibrate(cal, s + 0.5)).toBeGreaterThanOrEqual(calibrate(cal, s));
    });
  }

  it('Platt recovers the true map (a = 1/3, b = −2/3 − …) approximately and survives separable data', () => {
    const big = miscalibrated(40_000, 3);
    const cal = fitPlatt(big.logits, big.labels);
    if (cal.method !== 'platt') throw new Error('expected platt');
    expect(cal.a).toBeCloseTo(1 / 3, 1);
    expect(cal.b).toBeCloseTo(-2 / 3, 1);
    const sep = fitPlatt([-3, -2, -1, 1, 2, 3], [0, 0, 0, 1, 1, 1]);
    expect(calibrate(sep, 10)).toBeLessThan(1);
    expect(calibrate(sep, -10)).toBeGreaterThan(0);
    expect(fitPlatt([1, 2], [1, 1]).method).toBe('none');
    expect(brierScore([Number.NaN, 0.5], [1, Number.NaN])).toBeNaN();
  });
});

describe('pooled HAR by OLS', () => {
  it('recovers the coefficients of a known linear model', () => {
    const rng = createRng(9);
    const n = 5000;
    const x = new Float64Array(n * 3);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const d = rng.normal(); const w = 0.7 * d + 0.5 * rng.normal(); const m = 0.5 * w + 0.5 * rng.normal();
      x.set([d, w, m], i * 3);
      y[i] = 0.1 + 0.4 * d + 0.3 * w + 0.2 * m + 0.05 * rng.normal();
    }
    const h = fitHar(x, y);
    expect(h.intercept).toBeCloseTo(0.1, 2);
    expect(h.beta[0]).toBeCloseTo(0.4, 2);
    expect(h.beta[1]).toBeCloseTo(0.3, 2);
    expect(h.beta[2]).toBeCloseTo(0.2, 2);
    expect(h.residualStd).toBeCloseTo(0.05, 2);
  });
});

describe('quantile helpers', () => {
  it('inverts the normal CDF', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 6);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 6);
  });

  it('interpolates in normal scores, exactly at trained levels, monotonically elsewhere', () => {
    const levels = [0.5, 0.9, 0.99];
    const vals = [-8, -7, -6];
    expect(interpolateQuantile(levels, vals, 0, 0.9)).toBe(-7);
    const taus = [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99, 0.999];
    const out = taus.map((t) => interpolateQuantile(levels, vals, 0, t));
    for (let k = 1; k < out.length; k++) expect(out[k]!).toBeGreaterThan(out[k - 1]!);
    expect(interpolateQuantile([0.5], [-3], 0, 0.9)).toBe(-3);
  });

  it('the QLIKE scale is the QLIKE minimiser over a common multiplier', () => {
    const rng = createRng(4);
    const rv = Float64Array.from({ length: 2000 }, () => Math.exp(rng.normal()));
    const v = Float64Array.from({ length: 2000 }, () => 0.5);
    const c = qlikeScale(rv, v);
    const at = (k: number): number => meanQlike(rv, v.map((x) => x * k));
    expect(at(c)).toBeLessThan(at(c * 1.05));
    expect(at(c)).toBeLessThan(at(c * 0.95));
  });
});
