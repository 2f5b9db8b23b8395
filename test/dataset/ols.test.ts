import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { ols } from '../../src/dataset/ols.ts';

describe('ols', () => {
  it('recovers exact coefficients of a noiseless linear model', () => {
    const n = 50;
    const x1 = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    const x2 = Float64Array.from({ length: n }, (_, i) => i / 10);
    const y = Float64Array.from({ length: n }, (_, i) => 2 - 3 * x1[i]! + 0.5 * x2[i]!);
    const fit = ols([new Float64Array(n).fill(1), x1, x2], y);
    expect(Array.from(fit.beta).map((b) => +b.toFixed(10))).toEqual([2, -3, 0.5]);
    expect(fit.r2).toBeCloseTo(1, 12);
    for (const e of fit.residuals) expect(Math.abs(e)).toBeLessThan(1e-12);
  });

  it('matches the normal-equation solution on noisy, strongly collinear data', () => {
    const rng = createRng(1);
    const n = 2000;
    const a = Float64Array.from({ length: n }, () => -9 + rng.normal());
    const b = Float64Array.from(a, (v) => v + 0.05 * rng.normal());
    const y = Float64Array.from(a, (v, i) => 0.3 + 0.4 * v + 0.5 * b[i]! + 0.1 * rng.normal());
    const fit = ols([new Float64Array(n).fill(1), a, b], y);
    // Normal equations solved by Cramer's rule in long hand, for reference.
    const cols = [new Float64Array(n).fill(1), a, b];
    const G = cols.map((u) => cols.map((v) => u.reduce((s, ui, i) => s + ui * v[i]!, 0)));
    const g = cols.map((u) => u.reduce((s, ui, i) => s + ui * y[i]!, 0));
    const det = (m: number[][]): number => m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) - m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) + m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
    const d = det(G);
    for (let j = 0; j < 3; j++) {
      const Gj = G.map((row, i) => row.map((v, k) => (k === j ? g[i]! : v)));
      expect(fit.beta[j]).toBeCloseTo(det(Gj) / d, 6);
    }
    let sse = 0;
    for (const e of fit.residuals) sse += e * e;
    expect(sse / n).toBeCloseTo(0.01, 2);
  });

  it('refuses collinear columns and too few rows', () => {
    const x = Float64Array.of(1, 2, 3, 4);
    expect(() => ols([new Float64Array(4).fill(1), x, Float64Array.from(x, (v) => 2 * v + 1)], Float64Array.of(1, 2, 3, 5))).toThrow(/collinear/);
    expect(() => ols([x, x, x, x, x], Float64Array.of(1, 2, 3, 4).subarray(0, 3))).toThrow(/rows/);
    expect(() => ols([x], Float64Array.of(1, Number.NaN, 3, 4))).toThrow(/not finite/);
  });
});
