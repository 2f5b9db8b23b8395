/**
 * Reference tests: each optimised estimator against a naive loop written straight from its formula.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { alignExact, asOfJoin } from '../../src/features/as-of.ts';
import { rollingBetaCorr } from '../../src/features/cross-asset.ts';
import { garmanKlassPerBar, parkinsonPerBar, rogersSatchellPerBar } from '../../src/features/range.ts';
import { bipowerVariation, ewmaVariance, harAggregates, jumpComponent, MU1, realisedVariance, signedSemivariances } from '../../src/features/realised.ts';
import { logReturns, rollingSum } from '../../src/features/returns.ts';
import { logActivity, trailingZScore } from '../../src/features/volume.ts';

/** A seeded GARCH-ish price path with occasional jumps and OHLC bars. */
function synthetic(n: number, seed = 7): { open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array; volume: Float64Array } {
  const rng = createRng(seed);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let p = 100;
  let v = 1e-4;
  for (let t = 0; t < n; t++) {
    const r = Math.sqrt(v) * rng.normal() + (rng.next() < 0.01 ? 0.05 * rng.normal() : 0);
    v = 2e-6 + 0.1 * r * r + 0.88 * v;
    open[t] = p;
    p *= Math.exp(r);
    close[t] = p;
    high[t] = Math.max(open[t]!, p) * (1 + 0.003 * rng.next());
    low[t] = Math.min(open[t]!, p) * (1 - 0.003 * rng.next());
    volume[t] = t % 97 === 0 ? 0 : 1000 * Math.exp(rng.normal());
  }
  return { open, high, low, close, volume };
}

const N = 3000;
const s = synthetic(N);
const r = logReturns(s.close);

function naiveWindow(t: number, w: number, term: (j: number) => number): number {
  if (t < w - 1) return Number.NaN;
  let acc = 0;
  for (let j = t - w + 1; j <= t; j++) acc += term(j);
  return acc;
}

function expectClose(actual: Float64Array, expected: (t: number) => number, rel = 1e-12): void {
  for (let t = 0; t < actual.length; t++) {
    const e = expected(t);
    const a = actual[t]!;
    if (Number.isNaN(e)) expect(a, `t=${t}`).toBeNaN();
    else expect(Math.abs(a - e), `t=${t}: ${a} vs ${e}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(e), 1e-300) + 1e-300);
  }
}

describe('returns and rolling sums', () => {
  it('logReturns: r[0] NaN, r[t] = ln(c[t]/c[t-1])', () => {
    expect(r[0]).toBeNaN();
    for (let t = 1; t < N; t++) expect(r[t]).toBe(Math.log(s.close[t]! / s.close[t - 1]!));
    expect(logReturns(new Float64Array(0)).length).toBe(0);
  });

  it('rollingSum matches a naive loop, is NaN until full and while a NaN is inside, and does not drift', () => {
    const x = Float64Array.from({ length: 500 }, (_, i) => (i === 200 ? Number.NaN : i % 50 === 0 ? 1e6 : Math.sin(i)));
    const out = rollingSum(x, 24);
    expectClose(out, (t) => naiveWindow(t, 24, (j) => x[j]!), 1e-9);
    expect(out[22]).toBeNaN();
    expect(out[200 + 23]).toBeNaN();
    expect(out[200 + 24]).not.toBeNaN();
    // After a huge value leaves the window, a window of zeros sums to (almost exactly) zero.
    const spike = Float64Array.from({ length: 100 }, (_, i) => (i === 10 ? 1e12 : i < 10 ? 1e-3 : 0));
    expect(Math.abs(rollingSum(spike, 5)[50]!)).toBeLessThan(1e-12);
    expect(() => rollingSum(x, 0)).toThrow(/window/);
  });
});

describe('realised measures', () => {
  const D = 24;
  it('realised variance = Σ r² over the window', () => {
    expectClose(realisedVariance(r, D), (t) => (t < D ? Number.NaN : naiveWindow(t, D, (j) => r[j]! ** 2)));
  });

  it('bipower variation = μ1⁻² Σ |r_j||r_{j-1}|, jumps = max(RV − BPV, 0)', () => {
    const bpv = bipowerVariation(r, D);
    expectClose(bpv, (t) => (t < D + 1 ? Number.NaN : naiveWindow(t, D, (j) => Math.abs(r[j]!) * Math.abs(r[j - 1]!)) / MU1 ** 2));
    const rv = realisedVariance(r, D);
    const jump = jumpComponent(rv, bpv);
    for (let t = D + 1; t < N; t++) expect(jump[t]).toBe(Math.max(rv[t]! - bpv[t]!, 0));
    expect(jump[D]).toBeNaN();
  });

  it('signed semivariances split RV by the sign of the return', () => {
    const { pos, neg } = signedSemivariances(r, D);
    expectClose(pos, (t) => (t < D ? Number.NaN : naiveWindow(t, D, (j) => (r[j]! > 0 ? r[j]! ** 2 : 0))));
    expectClose(neg, (t) => (t < D ? Number.NaN : naiveWindow(t, D, (j) => (r[j]! < 0 ? r[j]! ** 2 : 0))));
    const rv = realisedVariance(r, D);
    for (let t = D; t < N; t++) expect(pos[t]! + neg[t]!).toBeCloseTo(rv[t]!, 15);
  });

  it('HAR aggregates are per-day averages over 1, 7 and 30 days', () => {
    const h = harAggregates(r, 4);
    expectClose(h.rv1d, (t) => (t < 4 ? Number.NaN : naiveWindow(t, 4, (j) => r[j]! ** 2)));
    expectClose(h.rv1w, (t) => (t < 28 ? Number.NaN : naiveWindow(t, 28, (j) => r[j]! ** 2) / 7));
    expectClose(h.rv1m, (t) => (t < 120 ? Number.NaN : naiveWindow(t, 120, (j) => r[j]! ** 2) / 30));
  });

  it('EWMA: seeded by the mean of the first warm-up squares, then σ²_t = λσ²_{t−1} + (1−λ)r_t²', () => {
    const lambda = 0.94;
    const e = ewmaVariance(r, lambda, 10);
    let v = 0;
    for (let t = 1; t <= 10; t++) v += r[t]! ** 2 / 10;
    for (let t = 0; t < 10; t++) expect(e[t]).toBeNaN();
    expect(e[10]).toBeCloseTo(v, 18);
    for (let t = 11; t < N; t++) {
      v = lambda * v + (1 - lambda) * r[t]! ** 2;
      expect(Math.abs(e[t]! - v)).toBeLessThan(1e-12 * v);
    }
    expect(() => ewmaVariance(r, 1)).toThrow(/lambda/);
  });
});

describe('range estimators', () => {
  it('Parkinson, Garman–Klass and Rogers–Satchell per bar', () => {
    const pk = parkinsonPerBar(s.high, s.low);
    const gk = garmanKlassPerBar(s.open, s.high, s.low, s.close);
    const rs = rogersSatchellPerBar(s.open, s.high, s.low, s.close);
    for (let t = 0; t < N; t++) {
      const [o, h, l, c] = [s.open[t]!, s.high[t]!, s.low[t]!, s.close[t]!];
      expect(pk[t]).toBeCloseTo(Math.log(h / l) ** 2 / (4 * Math.log(2)), 15);
      expect(gk[t]).toBeCloseTo(0.5 * Math.log(h / l) ** 2 - (2 * Math.log(2) - 1) * Math.log(c / o) ** 2, 15);
      expect(rs[t]).toBeCloseTo(Math.log(h / c) * Math.log(h / o) + Math.log(l / c) * Math.log(l / o), 15);
      expect(rs[t]).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('activity z-scores', () => {
  it('trailingZScore compares x[t] with the mean and sample sd of the window before it', () => {
    const x = logActivity(s.volume);
    const w = 50;
    const z = trailingZScore(x, w);
    expectClose(z, (t) => {
      if (t < w) return Number.NaN;
      let m = 0;
      for (let j = t - w; j < t; j++) m += x[j]! / w;
      let ss = 0;
      for (let j = t - w; j < t; j++) ss += (x[j]! - m) ** 2;
      return (x[t]! - m) / Math.sqrt(ss / (w - 1));
    }, 1e-9);
    expect(logActivity(Float64Array.of(0, -1, Number.NaN))).toEqual(Float64Array.of(0, Number.NaN, Number.NaN));
    expect(trailingZScore(new Float64Array(10).fill(3), 4)[5]).toBe(0);
  });
});

describe('cross-asset and as-of joins', () => {
  it('rollingBetaCorr matches the naive window regression, skipping NaN pairs', () => {
    const rng = createRng(3);
    const x = Float64Array.from({ length: 800 }, () => rng.normal() * 0.01);
    const y = Float64Array.from(x, (v) => 1.3 * v + rng.normal() * 0.005);
    x[300] = Number.NaN;
    const w = 100;
    const { beta, corr } = rollingBetaCorr(y, x, w, 0.9);
    for (let t = w - 1; t < 800; t++) {
      let n = 0, sx = 0, sy = 0;
      for (let j = t - w + 1; j <= t; j++) if (Number.isFinite(x[j]!)) { n++; sx += x[j]!; sy += y[j]!; }
      const mx = sx / n, my = sy / n;
      let cxy = 0, vx = 0, vy = 0;
      for (let j = t - w + 1; j <= t; j++) if (Number.isFinite(x[j]!)) { cxy += (x[j]! - mx) * (y[j]! - my); vx += (x[j]! - mx) ** 2; vy += (y[j]! - my) ** 2; }
      expect(beta[t]).toBeCloseTo(cxy / vx, 10);
      expect(corr[t]).toBeCloseTo(cxy / Math.sqrt(vx * vy), 10);
    }
    expect(beta[w - 2]).toBeNaN();
    expect(rollingBetaCorr(y, x, w, 1).beta[350]).toBeNaN();
  });

  it('asOfJoin takes the last row known at each instant (stamp + knownAfter ≤ at), with staleness', () => {
    const rows = Float64Array.of(100, 200, 200, 300, 400);
    const vals = Float64Array.of(1, 2, 3, Number.NaN, 5);
    const at = Float64Array.of(50, 100, 199, 200, 350, 399, 400, 1000);
    expect(Array.from(asOfJoin(at, rows, vals))).toEqual([NaN, 1, 1, 3, 3, 3, 5, 5]);
    expect(Array.from(asOfJoin(at, rows, vals, { knownAfterMs: 100 }))).toEqual([NaN, NaN, NaN, 1, 3, 3, 3, 5]);
    // At 350 the last finite row (200) is 150 ms old: stale.
    expect(Array.from(asOfJoin(at, rows, vals, { maxAgeMs: 100 }))).toEqual([NaN, 1, 1, 3, NaN, NaN, 5, NaN]);
    expect(() => asOfJoin(at, Float64Array.of(2, 1), Float64Array.of(0, 0))).toThrow(/ascending/);
    expect(Array.from(alignExact(Float64Array.of(1, 2, 3, 5), Float64Array.of(2, 3, 4, 5), Float64Array.of(20, 30, 40, 50)))).toEqual([NaN, 20, 30, 50]);
  });
});
