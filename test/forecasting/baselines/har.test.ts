import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { createRng } from '../../../src/core/rng.ts';
import { epochMs } from '../../../src/core/time.ts';
import { forwardRv } from '../../../src/dataset/targets.ts';
import { trainingOrigins } from '../../../src/dataset/walk-forward.ts';
import { buildFeatureFrame } from '../../../src/features/build.ts';
import type { FeatureFrame } from '../../../src/features/frame.ts';
import { createHar, type HarState } from '../../../src/forecasting/baselines/har.ts';
import type { ModelArtifact } from '../../../src/forecasting/forecaster.ts';
import type { BarColumns } from '../../../src/store/market-data.ts';
import { readSpotBars } from '../../features/real-data.ts';

const DAY = 86_400_000;
const TRUE = { b0: -1.6, bd: 0.3, bw: 0.3, bm: 0.2, sigma: 0.8 };

/**
 * Daily bars whose squared returns follow a log-HAR process exactly: with D = 1 and h = 1,
 * ln r[t+1]² = b0 + bd ln rv_1d(t) + bw ln rv_1w(t) + bm ln rv_1m(t) + σ ε, ε ~ N(0, 1).
 */
function harBars(n: number, seed: number): BarColumns {
  const rng = createRng(seed);
  const r2: number[] = Array.from({ length: 31 }, () => Math.exp(-8 + TRUE.sigma * rng.normal()));
  while (r2.length < n) {
    const t = r2.length - 1;
    let w = 0;
    let m = 0;
    for (let j = 0; j < 30; j++) { if (j < 7) w += r2[t - j]! / 7; m += r2[t - j]! / 30; }
    r2.push(Math.exp(TRUE.b0 + TRUE.bd * Math.log(r2[t]!) + TRUE.bw * Math.log(w) + TRUE.bm * Math.log(m) + TRUE.sigma * rng.normal()));
  }
  const openTimeMs = Float64Array.from({ length: n }, (_, i) => i * DAY);
  const close = new Float64Array(n);
  const open = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    open[i] = p;
    p *= Math.exp((rng.next() < 0.5 ? -1 : 1) * Math.sqrt(r2[i]!));
    close[i] = p;
  }
  const high = Float64Array.from(close, (c, i) => Math.max(c, open[i]!) * 1.001);
  const low = Float64Array.from(close, (c, i) => Math.min(c, open[i]!) * 0.999);
  const volume = Float64Array.from({ length: n }, () => 100 + rng.next());
  return { openTimeMs, open, high, low, close, volume, quoteVolume: volume, trades: volume, takerBuyBaseVolume: volume };
}

function frame(symbol: string, bars: BarColumns, interval: '1d' | '1h' = '1d'): FeatureFrame {
  return buildFeatureFrame({ symbol, interval, bars });
}

const all = (f: FeatureFrame): Int32Array => Int32Array.from({ length: f.timeMs.length }, (_, i) => i);

describe('HAR-RV (log, OLS per symbol)', () => {
  const syn = frame('SYN', harBars(20_000, 42));
  const fitEnd = epochMs(15_000 * DAY);

  it('recovers the coefficients of a simulated log-HAR process', async () => {
    const fitted = await createHar({ kind: 'har', variant: 'rv' }).fit([syn], { fitEnd, seed: 1, horizonBars: 1 });
    const s = (fitted.toArtifact().state as HarState).symbols.SYN!;
    const [b0, bd, bw, bm] = s.beta;
    expect(bd).toBeCloseTo(TRUE.bd, 1);
    expect(bw).toBeCloseTo(TRUE.bw, 1);
    expect(bm).toBeCloseTo(TRUE.bm, 1);
    expect(Math.abs(b0! - TRUE.b0)).toBeLessThan(0.5);
    expect(Math.sqrt(s.sigma2)).toBeCloseTo(TRUE.sigma, 1);
    // Embargo: exactly the training origins (with complete features) were used.
    const origins = trainingOrigins(syn.timeMs, DAY, 1, fitEnd).filter((t) => t >= 30);
    expect(s.nObs).toBe(origins.length);
  });

  it('ignores every bar after fitEnd (embargoed labels): perturbing them leaves the fit unchanged', async () => {
    const bars = harBars(3000, 7);
    const cut = epochMs(2000 * DAY);
    const alt = Object.fromEntries(Object.entries(bars).map(([k, v]) => [k, Float64Array.from(v as Float64Array)])) as unknown as BarColumns;
    for (let i = 0; i < 3000; i++) if (alt.openTimeMs[i]! + DAY > cut) for (const k of ['open', 'high', 'low', 'close'] as const) alt[k][i] = alt[k][i]! * (2 + Math.sin(i));
    const har = createHar({ kind: 'har', variant: 'j' });
    const a = await har.fit([frame('X', bars)], { fitEnd: cut, seed: 1, horizonBars: 3 });
    const b = await har.fit([frame('X', alt)], { fitEnd: cut, seed: 1, horizonBars: 3 });
    expect(b.toArtifact().state).toEqual(a.toArtifact().state);
  });

  it('forecasts exp(μ + σ²/2) and log-RV quantiles μ + residual quantiles, calibrated in sample', async () => {
    const fitted = await createHar().fit([syn], { fitEnd, seed: 1, horizonBars: 1 });
    const s = (fitted.toArtifact().state as HarState).symbols.SYN!;
    const origins = Int32Array.from(trainingOrigins(syn.timeMs, DAY, 1, fitEnd).filter((t) => t >= 30));
    const out = fitted.predict(syn, { origins, horizonBars: 1, quantiles: [0.1, 0.5, 0.9] });
    expect(out.symbol).toBe('SYN');
    expect(out.originMs[0]).toBe(syn.timeMs[origins[0]!]);
    const q50 = out.logRvQuantiles!.get(0.5)!;
    const q90 = out.logRvQuantiles!.get(0.9)!;
    const q10 = out.logRvQuantiles!.get(0.1)!;
    const y = forwardRv(syn.columns.r!, 1);
    let below90 = 0;
    let below10 = 0;
    for (let i = 0; i < origins.length; i++) {
      const ly = Math.log(y[origins[i]!]!);
      if (ly <= q90[i]!) below90++;
      if (ly <= q10[i]!) below10++;
      expect(q10[i]!).toBeLessThan(q50[i]!);
    }
    expect(below90 / origins.length).toBeCloseTo(0.9, 2);
    expect(below10 / origins.length).toBeCloseTo(0.1, 2);
    // Variance = exp(mean + σ²/2); the mean of log RV is the median quantile shifted by the residuals' median.
    const mu = Math.log(out.variance[0]!) - s.sigma2 / 2;
    expect(q50[0]! - mu).toBeCloseTo(s.residualQuantiles[500]!, 10);
  });

  it('round-trips through a JSON artifact with identical predictions (all variants)', async () => {
    const bars = await readSpotBars('BTCUSDT', [2023]);
    const real = buildFeatureFrame({ symbol: 'BTCUSDT', interval: '1h', bars });
    const fitEndReal = epochMs(Date.UTC(2023, 9, 1));
    for (const variant of ['rv', 'j', 'sv'] as const) {
      const har = createHar({ kind: 'har', variant });
      const fitted = await har.fit([real], { fitEnd: fitEndReal, seed: 0, horizonBars: 24 });
      const json = JSON.parse(JSON.stringify(fitted.toArtifact())) as ModelArtifact;
      const loaded = await har.load(json);
      expect(loaded.symbols).toEqual(['BTCUSDT']);
      const req = { origins: all(real), horizonBars: 24, quantiles: [0.05, 0.5, 0.99] };
      const p1 = fitted.predict(real, req);
      const p2 = loaded.predict(real, req);
      expect(p2.variance).toEqual(p1.variance);
      for (const q of req.quantiles) expect(p2.logRvQuantiles!.get(q)).toEqual(p1.logRvQuantiles!.get(q));
      const st = fitted.toArtifact().state as HarState;
      const betas = st.symbols.BTCUSDT!.beta;
      expect(betas.length).toBe(variant === 'rv' ? 4 : 5);
      expect(st.symbols.BTCUSDT!.r2).toBeGreaterThan(0.2);
      // Forecasts exist once rv_1m is warm (30 days) and stay in a plausible range of 24h variance.
      const v = p1.variance[real.timeMs.length - 1]!;
      expect(v).toBeGreaterThan(1e-5);
      expect(v).toBeLessThan(1e-2);
      expect(p1.variance[100]).toBeNaN();
    }
  });

  it('refuses unknown symbols, other horizons, foreign artifacts and bad specs', async () => {
    const fitted = await createHar().fit([syn], { fitEnd, seed: 1, horizonBars: 1 });
    const other = { ...syn, symbol: 'OTHER' };
    expect(() => fitted.predict(other, { origins: Int32Array.of(100), horizonBars: 1 })).toThrow(/not OTHER/);
    expect(() => fitted.predict(syn, { origins: Int32Array.of(100), horizonBars: 2 })).toThrow(/1-bar/);
    expect(() => fitted.predict(syn, { origins: Int32Array.of(100), horizonBars: 1, quantiles: [1] })).toThrow(/between 0 and 1/);
    await expect(createHar({ kind: 'har', variant: 'j' }).load(fitted.toArtifact())).rejects.toThrow(/variant/);
    await expect(createHar().load({ spec: { kind: 'har' }, state: { version: 2 } })).rejects.toSatisfy((e) => isAppError(e, 'schema'));
    expect(() => createHar({ kind: 'har', variant: 'x' as 'rv' })).toThrow(/Invalid HAR spec/);
    await expect(createHar().fit([syn], { fitEnd: epochMs(40 * DAY), seed: 1, horizonBars: 1 })).rejects.toThrow(/usable training origins/);
    expect(createHar().capabilities).toEqual({ quantiles: true, spike: false, pooled: false });
  });
});
