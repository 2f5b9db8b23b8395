import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { createRng } from '../../../src/core/rng.ts';
import { epochMs, intervalMs, type EpochMs } from '../../../src/core/time.ts';
import type { FeatureFrame } from '../../../src/features/frame.ts';
import type { FitOptions } from '../../../src/forecasting/forecaster.ts';
import { createEwma, ewmaForecastPath, type EwmaSymbolFit } from '../../../src/forecasting/baselines/ewma.ts';
import { logReturns } from '../../../src/forecasting/baselines/variance-baseline.ts';

const T0 = Date.UTC(2021, 0, 1);

/** A 1h frame whose closes carry the log returns `r` (r[0] ignored). */
function frameOf(symbol: string, r: Float64Array): FeatureFrame {
  const n = r.length;
  const timeMs = Float64Array.from({ length: n }, (_, t) => T0 + t * 3_600_000);
  const close = new Float64Array(n);
  close[0] = 100;
  for (let t = 1; t < n; t++) close[t] = close[t - 1]! * Math.exp(r[t]!);
  const ones = new Float64Array(n).fill(1);
  return { symbol, interval: '1h', timeMs, bars: { openTimeMs: timeMs, open: close, high: close, low: close, close, volume: ones, quoteVolume: ones, trades: ones, takerBuyBaseVolume: ones }, columns: {}, gaps: 0 };
}

/** Seeded GARCH-t returns (vol clustering, fat tails), r[0] = NaN. */
function simulate(seed: number, n: number): Float64Array {
  const rng = createRng(seed);
  const r = new Float64Array(n + 1);
  r[0] = Number.NaN;
  let h = 1e-4;
  for (let t = 1; t <= n; t++) {
    const e = Math.sqrt(h) * rng.studentT(5);
    r[t] = e;
    h = 2e-6 + 0.08 * e * e + 0.9 * h;
  }
  return r;
}

const fitEndOf = (f: FeatureFrame, lastBar = f.timeMs.length - 1): EpochMs => epochMs(f.timeMs[lastBar]! + intervalMs(f.interval));
const opts = (f: FeatureFrame, horizonBars = 24, lastBar?: number): FitOptions => ({ fitEnd: fitEndOf(f, lastBar), seed: 1, horizonBars });
const stateOf = (a: { state: unknown }, symbol: string): EwmaSymbolFit => (a.state as { symbols: Record<string, EwmaSymbolFit> }).symbols[symbol]!;

/** Naive RiskMetrics recursion for one origin: start σ² at the init, fold in r[1..t], forecast h·σ²_{t+1}. */
function naiveEwma(lambda: number, init: number, r: Float64Array, t: number, h: number): number {
  let s2 = init;
  for (let i = 1; i <= t; i++) s2 = lambda * s2 + (1 - lambda) * r[i]! ** 2;
  return h * s2;
}

describe('createEwma', () => {
  const r = simulate(1, 5000);
  const frame = frameOf('SIM', r);

  it('uses RiskMetrics λ = 0.94 by default and starts from the mean of the first 30 squared training returns', async () => {
    const g = createEwma();
    expect(g.spec).toEqual({ kind: 'ewma', lambda: 0.94 });
    expect(g.capabilities).toEqual({ quantiles: true, spike: false, pooled: false });
    const s = stateOf((await g.fit([frame], opts(frame))).toArtifact(), 'SIM');
    const rr = logReturns(frame);
    let sum = 0;
    for (let t = 1; t <= 30; t++) sum += rr[t]! ** 2;
    expect(s.initVariance).toBeCloseTo(sum / 30, 18);
  });

  it('matches the naive recursion at every origin, forecasts flat in the horizon, and never looks ahead', async () => {
    for (const lambda of [0.94, 0.97]) {
      const m = await createEwma({ kind: 'ewma', lambda }).fit([frame], opts(frame, 24, 2999));
      const { initVariance } = stateOf(m.toArtifact(), 'SIM');
      const rr = logReturns(frame);
      const origins = Int32Array.from([0, 1, 29, 30, 1000, 2999, 3000, 4999, 5000]);
      const one = m.predict(frame, { origins, horizonBars: 1 });
      const day = m.predict(frame, { origins, horizonBars: 24 });
      origins.forEach((o, i) => {
        expect(one.variance[i]!).toBeGreaterThan(0);
        expect(one.variance[i]! / naiveEwma(lambda, initVariance, rr, o, 1) - 1).toBeCloseTo(0, 12);
        expect(day.variance[i]! / one.variance[i]!).toBeCloseTo(24, 12);
        const cut: FeatureFrame = { ...frame, timeMs: frame.timeMs.subarray(0, o + 1), bars: { ...frame.bars, close: frame.bars.close.subarray(0, o + 1) } };
        expect(m.predict(cut, { origins: Int32Array.of(o), horizonBars: 24 }).variance[0]).toBe(day.variance[i]);
      });
      const all = m.predict(frame, { origins: Int32Array.from({ length: 5001 }, (_, i) => i), horizonBars: 24 });
      expect(all.variance.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    }
  });

  it('reads the r column when the frame has one', async () => {
    const m = await createEwma().fit([frame], opts(frame));
    const withR: FeatureFrame = { ...frame, columns: { r: logReturns(frame) } };
    const req = { origins: Int32Array.from([5, 500, 4000]), horizonBars: 24 };
    expect(m.predict(withR, req)).toEqual(m.predict(frame, req));
  });

  it('treats a missing return as no news (σ² unchanged)', () => {
    const gapped = Float64Array.from(r.subarray(0, 100));
    gapped[50] = Number.NaN;
    const path = ewmaForecastPath(0.94, 1e-4, gapped, 1);
    expect(path[50]).toBe(path[49]);
    expect(path[51]).not.toBe(path[50]);
  });

  it('trains only on returns that close by fitEnd', async () => {
    const last = 3999;
    const a = (await createEwma().fit([frame], opts(frame, 24, last))).toArtifact();
    const shocked = Float64Array.from(r);
    for (let t = last + 1; t < shocked.length; t++) shocked[t] = 0.3;
    const b = (await createEwma().fit([frameOf('SIM', shocked)], opts(frame, 24, last))).toArtifact();
    expect(b.state).toEqual(a.state);
  });

  it('gives log-RV quantiles that cover the training windows at their levels', async () => {
    const h = 24;
    const m = await createEwma().fit([frame], opts(frame, h));
    const rr = logReturns(frame);
    const origins = Int32Array.from({ length: 5000 - 30 - h + 1 }, (_, i) => i + 30);
    const levels = [0.05, 0.5, 0.95];
    const b = m.predict(frame, { origins, horizonBars: h, quantiles: levels });
    for (const level of levels) {
      const q = b.logRvQuantiles!.get(level)!;
      let below = 0;
      origins.forEach((o, i) => {
        let rv = 0;
        for (let j = 1; j <= h; j++) rv += rr[o + j]! ** 2;
        if (Math.log(rv) <= q[i]!) below++;
      });
      expect(Math.abs(below / origins.length - level)).toBeLessThan(0.002);
    }
    const q50 = b.logRvQuantiles!.get(0.5)!;
    const q95 = b.logRvQuantiles!.get(0.95)!;
    expect(q95.every((v, i) => v > q50[i]!)).toBe(true);
  });

  it('saves and loads to identical predictions', async () => {
    const m = await createEwma({ kind: 'ewma', lambda: 0.97 }).fit([frame], opts(frame));
    const artifact = JSON.parse(JSON.stringify(m.toArtifact())) as ReturnType<typeof m.toArtifact>;
    const loaded = await createEwma().load(artifact);
    expect(loaded.spec).toEqual({ kind: 'ewma', lambda: 0.97 });
    const req = { origins: Int32Array.from({ length: 5001 }, (_, i) => i), horizonBars: 24, quantiles: [0.1, 0.99] };
    expect(loaded.predict(frame, req)).toEqual(m.predict(frame, req));
  });

  it('refuses an unfitted symbol, bad λ, bad requests and too little history', async () => {
    const m = await createEwma().fit([frame], opts(frame));
    let err: unknown;
    try { m.predict({ ...frame, symbol: 'SOLUSDT' }, { origins: Int32Array.of(1), horizonBars: 1 }); } catch (e) { err = e; }
    expect(isAppError(err, 'notSupported')).toBe(true);
    expect((err as Error).message).toContain('SOLUSDT');
    expect(() => createEwma({ kind: 'ewma', lambda: 1 })).toThrow(/lambda/);
    expect(() => m.predict(frame, { origins: Int32Array.of(5001), horizonBars: 1 })).toThrow(/outside/);
    expect(() => m.predict(frame, { origins: Int32Array.of(1), horizonBars: 24, quantiles: [1.5] })).toThrow(/not in \(0, 1\)/);
    await expect(createEwma().fit([frame, frame], opts(frame))).rejects.toThrow(/two frames/);
    await expect(createEwma().fit([frame], opts(frame, 24, 20))).rejects.toThrow(/needs 30/);
  });
});
