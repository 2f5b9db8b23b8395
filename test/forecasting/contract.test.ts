import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochMs } from '../../src/core/time.ts';
import { forwardRv } from '../../src/dataset/targets.ts';
import { trainingOrigins } from '../../src/dataset/walk-forward.ts';
import { qlike } from '../../src/evaluation/metrics.ts';
import { buildFeatureFrame } from '../../src/features/build.ts';
import type { FeatureFrame } from '../../src/features/frame.ts';
import { createSimulatorProvider } from '../../src/ingest/simulator/provider.ts';
import type { Bar } from '../../src/ingest/types.ts';
import { createForecaster, NAMED_SPECS } from '../../src/forecasting/registry.ts';
import type { BarColumns } from '../../src/store/market-data.ts';

// A seeded simulated market (the built-in simulator: GARCH-t, jumps, stress regimes), 1h bars.
const H = 3_600_000;
const FROM = Date.parse('2023-01-01T00:00:00Z');
const TO = Date.parse('2024-01-01T00:00:00Z');
const FIT_END = Date.parse('2023-10-01T00:00:00Z');
const HORIZON = 24;

/**
 * Error ceilings: pooled out-of-sample QLIKE of each registered model on the seeded series, about 25 %
 * above what each measured when this table was written (see the comment per row). A model that gets
 * materially worse on a clean GARCH-type market fails here.
 */
const CEILINGS: Readonly<Record<string, number>> = {
  ewma: 0.66, // measured 0.532
  garch: 0.5, // measured 0.397 (the simulator is GARCH-type: the right model wins)
  har: 0.56, // measured 0.452
  'har-j': 0.57, // measured 0.454
  'har-sv': 0.56, // measured 0.444
  ml: 0.5, // measured 0.397
};

function columns(rows: readonly Bar[]): BarColumns {
  const col = (f: (b: Bar) => number | undefined): Float64Array => Float64Array.from(rows, (b) => f(b) ?? Number.NaN);
  return {
    openTimeMs: col((b) => b.openTimeMs), open: col((b) => b.open), high: col((b) => b.high), low: col((b) => b.low), close: col((b) => b.close),
    volume: col((b) => b.volume), quoteVolume: col((b) => b.quoteVolume), trades: col((b) => b.trades), takerBuyBaseVolume: col((b) => b.takerBuyBaseVolume),
  };
}

let frames: FeatureFrame[] = [];
beforeAll(() => {
  const sim = createSimulatorProvider({ seed: 2024, symbols: ['BTCUSDT', 'ETHUSDT'], genesisMs: FROM, clock: { now: () => epochMs(TO + 10 * H) } });
  const btc = columns(sim.bars!('BTCUSDT', '1h', FROM, TO, 1e9));
  frames = ['BTCUSDT', 'ETHUSDT'].map((symbol) => {
    const bars = symbol === 'BTCUSDT' ? btc : columns(sim.bars!(symbol, '1h', FROM, TO, 1e9));
    return buildFeatureFrame({ symbol, interval: '1h', bars, ...(symbol === 'BTCUSDT' ? {} : { reference: btc }) });
  });
});
afterAll(() => { frames = []; });

describe('contract: every registered forecaster', () => {
  it.each(Object.keys(NAMED_SPECS))('%s fits before fitEnd, forecasts out of sample within its ceiling, and round-trips its artifact', async (name) => {
    const f = createForecaster(NAMED_SPECS[name]!);
    const fitted = await f.fit(frames, { fitEnd: epochMs(FIT_END), seed: 7, horizonBars: HORIZON });
    const realisedAll: number[] = [];
    const forecastAll: number[] = [];
    for (const frame of frames) {
      const r = frame.columns.r!;
      const fwd = forwardRv(r, HORIZON);
      const last = trainingOrigins(frame.timeMs, H, HORIZON, TO);
      const origins = Int32Array.from(last.filter((t) => frame.timeMs[t]! + H >= FIT_END));
      const batch = fitted.predict(frame, { origins, horizonBars: HORIZON, quantiles: [0.5, 0.9] });
      expect(batch.variance).toHaveLength(origins.length);
      expect(batch.logRvQuantiles !== undefined).toBe(f.capabilities.quantiles);
      expect(batch.spikeProb !== undefined).toBe(f.capabilities.spike);
      origins.forEach((t, i) => {
        const v = batch.variance[i]!;
        if (Number.isNaN(v)) return;
        expect(v).toBeGreaterThan(0);
        realisedAll.push(fwd[t]!);
        forecastAll.push(v);
      });
      if (batch.logRvQuantiles) {
        const q50 = batch.logRvQuantiles.get(0.5)!;
        const q90 = batch.logRvQuantiles.get(0.9)!;
        for (let i = 0; i < origins.length; i++) if (Number.isFinite(q50[i]!)) expect(q90[i]!).toBeGreaterThanOrEqual(q50[i]!);
      }
      if (batch.spikeProb) for (const p of batch.spikeProb) if (Number.isFinite(p)) expect(p > 0 && p < 1).toBe(true);
      // Save → load → identical predictions.
      const again = await f.load(fitted.toArtifact());
      const b2 = again.predict(frame, { origins, horizonBars: HORIZON, quantiles: [0.5, 0.9] });
      expect(Array.from(b2.variance)).toEqual(Array.from(batch.variance));
      again.dispose();
    }
    fitted.dispose();
    expect(forecastAll.length).toBeGreaterThan(0.95 * 2 * (TO - FIT_END) / H - 2 * HORIZON - 10);
    const q = qlike(Float64Array.from(realisedAll), Float64Array.from(forecastAll)).value;
    process.stdout.write(`contract ${name}: QLIKE ${q.toFixed(4)}\n`);
    expect(q).toBeLessThan(CEILINGS[name]!);
  }, 120_000);
});
