import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.ts';
import { rollingExtreme, rollingMedian } from '../../src/dataset/rolling-window.ts';
import { forwardRv, maxAdverseExcursion, pastRv, spikeLabels } from '../../src/dataset/targets.ts';

function returns(n: number, seed = 11): Float64Array {
  const rng = createRng(seed);
  let v = 1e-4;
  const r = new Float64Array(n);
  r[0] = Number.NaN;
  for (let t = 1; t < n; t++) {
    r[t] = Math.sqrt(v) * rng.normal();
    v = 1e-6 + 0.12 * r[t]! ** 2 + 0.86 * v;
  }
  return r;
}

function naiveMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

describe('forwardRv and pastRv', () => {
  const r = returns(500);
  it('forwardRv[t] = Σ_{j=1..h} r[t+j]², NaN when t+h ≥ n', () => {
    for (const h of [1, 3, 24]) {
      const f = forwardRv(r, h);
      for (let t = 0; t < r.length; t++) {
        if (t + h >= r.length) { expect(f[t]).toBeNaN(); continue; }
        let s = 0;
        for (let j = 1; j <= h; j++) s += r[t + j]! ** 2;
        expect(f[t]).toBeCloseTo(s, 15);
      }
    }
  });

  it('pastRv[t] = Σ_{j=0..h-1} r[t−j]² and pastRv[t+h] = forwardRv[t]', () => {
    const h = 5;
    const p = pastRv(r, h);
    const f = forwardRv(r, h);
    for (let t = 0; t < r.length; t++) {
      if (t < h) { expect(p[t]).toBeNaN(); continue; }
      let s = 0;
      for (let j = 0; j < h; j++) s += r[t - j]! ** 2;
      expect(p[t]).toBeCloseTo(s, 15);
      if (t - h >= 0) expect(f[t - h]).toBe(p[t]);
    }
    expect(() => forwardRv(r, 0)).toThrow(/horizon/);
  });
});

describe('rolling order statistics', () => {
  it('rollingMedian is the exact median of the finite values of the window', () => {
    const rng = createRng(5);
    const x = Float64Array.from({ length: 400 }, (_, i) => (i % 37 === 0 ? Number.NaN : Math.round(rng.normal() * 5) + 0));
    for (const w of [1, 2, 7, 50]) {
      const m = rollingMedian(x, w, 1);
      for (let t = 0; t < x.length; t++) {
        const win = Array.from(x.subarray(Math.max(0, t - w + 1), t + 1)).filter(Number.isFinite);
        if (t < w - 1 || win.length === 0) expect(m[t]).toBeNaN();
        else expect(m[t]).toBe(naiveMedian(win));
      }
    }
    expect(rollingMedian(x, 50)[60]).toBeNaN(); // default: a full window of finite values is required
  });

  it('rollingExtreme is the window min / max, NaN when a value is not finite', () => {
    const rng = createRng(6);
    const x = Float64Array.from({ length: 300 }, (_, i) => (i === 150 ? Number.NaN : rng.normal()));
    for (const w of [1, 4, 30]) {
      const lo = rollingExtreme(x, w, 'min');
      const hi = rollingExtreme(x, w, 'max');
      for (let t = 0; t < x.length; t++) {
        const win = Array.from(x.subarray(Math.max(0, t - w + 1), t + 1));
        if (t < w - 1 || win.some(Number.isNaN)) { expect(lo[t]).toBeNaN(); expect(hi[t]).toBeNaN(); continue; }
        expect(lo[t]).toBe(Math.min(...win));
        expect(hi[t]).toBe(Math.max(...win));
      }
    }
  });
});

describe('spikeLabels', () => {
  it('matches the naive definition: forward RV > k × median of past RVs over (t − lookback, t]', () => {
    const r = returns(1500);
    const h = 4;
    const L = 96;
    const k = 1.5;
    const labels = spikeLabels(r, h, { k, lookbackBars: L });
    const fwd = forwardRv(r, h);
    const past = pastRv(r, h);
    let ones = 0;
    for (let t = 0; t < r.length; t++) {
      const win = Array.from(past.subarray(Math.max(0, t - L + 1), t + 1));
      if (t + h >= r.length || t - L + 1 < 0 || win.some(Number.isNaN)) { expect(labels[t], `t=${t}`).toBeNaN(); continue; }
      const expected = fwd[t]! > k * naiveMedian(win) ? 1 : 0;
      expect(labels[t], `t=${t}`).toBe(expected);
      ones += expected;
    }
    expect(ones).toBeGreaterThan(50);
  });

  it('labels 35k bars × 8 symbols in well under a second (1h: 720-bar lookback; 15m: 2880)', () => {
    const r = returns(35_000);
    spikeLabels(r, 24, { lookbackBars: 720 });
    let t0 = performance.now();
    for (let s = 0; s < 8; s++) spikeLabels(r, 24, { lookbackBars: 720 });
    expect(performance.now() - t0).toBeLessThan(1000);
    t0 = performance.now();
    for (let s = 0; s < 8; s++) spikeLabels(r, 96, { lookbackBars: 2880 });
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('maxAdverseExcursion', () => {
  it('matches the naive loop over bars t+1 … t+h, clipped at 0', () => {
    const rng = createRng(9);
    const n = 400;
    const close = new Float64Array(n);
    const high = new Float64Array(n);
    const low = new Float64Array(n);
    let p = 100;
    for (let t = 0; t < n; t++) {
      const o = p;
      p *= Math.exp(0.01 * rng.normal());
      close[t] = p;
      high[t] = Math.max(o, p) * (1 + 0.004 * rng.next());
      low[t] = Math.min(o, p) * (1 - 0.004 * rng.next());
    }
    for (const h of [1, 6, 24]) {
      const { long, short } = maxAdverseExcursion({ close, high, low }, h);
      for (let t = 0; t < n; t++) {
        if (t + h >= n) { expect(long[t]).toBeNaN(); expect(short[t]).toBeNaN(); continue; }
        let l = 0;
        let s = 0;
        for (let j = 1; j <= h; j++) {
          l = Math.max(l, (close[t]! - low[t + j]!) / close[t]!);
          s = Math.max(s, (high[t + j]! - close[t]!) / close[t]!);
        }
        expect(long[t]).toBeCloseTo(l, 15);
        expect(short[t]).toBeCloseTo(s, 15);
      }
    }
  });
});
