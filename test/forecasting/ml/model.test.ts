import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/core/errors.ts';
import { epochMs } from '../../../src/core/time.ts';
import type { FeatureFrame } from '../../../src/features/frame.ts';
import type { FitOptions } from '../../../src/forecasting/forecaster.ts';
import { createMlForecaster, type FittedMlForecaster, type MlSpec } from '../../../src/forecasting/ml/model.ts';
import { syntheticFrames } from './synthetic.ts';

// Small and fast: 3 symbols × 1,200 4-hour bars (200 days), 1-day horizon.
const SPEC: MlSpec = { kind: 'ml', name: 'ml-test', hidden: [16, 8], epochs: 6, batchSize: 128, patience: 3 };
const H = 6;
const frames = syntheticFrames(['AAA', 'BBB', 'CCC'], { bars: 1200, seed: 5 });
const first = frames[0]!;
const fitEnd = epochMs(first.timeMs[1050]!);
const OPTS: FitOptions = { fitEnd, seed: 11, horizonBars: H };
// Test origins after fitEnd, plus one in the warm-up (rv_1m and the z-scores are NaN there).
const ORIGINS = Int32Array.from([10, ...Array.from({ length: 120 }, (_, i) => 1060 + i)]);
const LEVELS = [0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

function weightsOf(m: FittedMlForecaster): Uint8Array {
  return m.toArtifact().weights!;
}

function expectSamePredictions(a: FittedMlForecaster, b: FittedMlForecaster, frame: FeatureFrame): void {
  const pa = a.predict(frame, { origins: ORIGINS, horizonBars: H, quantiles: LEVELS });
  const pb = b.predict(frame, { origins: ORIGINS, horizonBars: H, quantiles: LEVELS });
  expect(Array.from(pb.variance)).toEqual(Array.from(pa.variance));
  expect(Array.from(pb.spikeProb!)).toEqual(Array.from(pa.spikeProb!));
  for (const tau of LEVELS) expect(Array.from(pb.logRvQuantiles!.get(tau)!)).toEqual(Array.from(pa.logRvQuantiles!.get(tau)!));
}

describe('ml forecaster (HAR-residual dense net)', () => {
  let model: FittedMlForecaster;
  let tensorsBefore = 0;

  beforeAll(async () => {
    const { loadTf } = await import('../../../src/forecasting/ml/backend.ts');
    await loadTf();
    tensorsBefore = tf.memory().numTensors;
    model = await createMlForecaster(SPEC).fit(frames, OPTS);
  });
  afterAll(() => model?.dispose());

  it('declares its capabilities and records backend, features and provenance', () => {
    expect(createMlForecaster().capabilities).toEqual({ quantiles: true, spike: true, pooled: true });
    const st = model.toArtifact().state as { backend: string; featureNames: string[]; featureHash: string; symbols: string[]; samplesPerSec: number; trainRange: { toMs: number; fitEndMs: number } };
    expect(['tensorflow', 'wasm', 'cpu']).toContain(st.backend);
    expect(st.featureNames).toContain('rv_1d');
    expect(st.featureHash).toMatch(/^[0-9a-f]{16}$/);
    expect(st.symbols).toEqual(['AAA', 'BBB', 'CCC']);
    // Embargo: the last training origin's label window closes by fitEnd.
    expect(st.trainRange.toMs + (H + 1) * 4 * 3_600_000).toBeLessThanOrEqual(fitEnd);
    // A timing print, not an assertion: throughput depends on the machine.
    console.info(`ml fit: backend ${st.backend}, ${Math.round(st.samplesPerSec)} samples/s, metrics ${JSON.stringify(model.metrics)}`);
  });

  it('averages a seed ensemble with a QLIKE variance head, and uses the default derived inputs', () => {
    const st = model.toArtifact().state as { featureNames: string[]; hyper: { ensemble: number }; calibration: { varianceScale: number }; weightSpecs: { name: string; shape: number[] }[]; quantiles: number[] };
    expect(st.hyper.ensemble).toBe(2);
    expect(st.featureNames).toEqual(expect.arrayContaining(['@rv_4h', '@rv_12h', '@hod_sin', '@hod_cos', '@dow_sin', '@dow_cos']));
    // Two members, each with Q quantile units + spike logit + log variance; the variance head needs no scale.
    const outs = st.weightSpecs.filter((w) => /deep_out\/bias/.test(w.name));
    expect(outs.map((w) => w.shape)).toEqual([[st.quantiles.length + 2], [st.quantiles.length + 2]]);
    expect(st.calibration.varianceScale).toBe(1);
    expect(Number.isFinite(model.metrics.calVarianceScaleFitted)).toBe(true);
  });

  it('is deterministic: the same seed gives bit-identical weights and predictions, another seed does not', async () => {
    const again = await createMlForecaster(SPEC).fit(frames, OPTS);
    const other = await createMlForecaster(SPEC).fit(frames, { ...OPTS, seed: 12 });
    try {
      expect(Buffer.from(weightsOf(again)).equals(Buffer.from(weightsOf(model)))).toBe(true);
      expectSamePredictions(model, again, first);
      expect(Buffer.from(weightsOf(other)).equals(Buffer.from(weightsOf(model)))).toBe(false);
    } finally {
      again.dispose();
      other.dispose();
    }
  });

  it('predicts monotone quantiles, positive variances and probabilities in (0, 1); NaN where inputs are missing', () => {
    for (const frame of frames) {
      const p = model.predict(frame, { origins: ORIGINS, horizonBars: H, quantiles: LEVELS });
      expect(p.symbol).toBe(frame.symbol);
      expect(p.originMs[1]).toBe(frame.timeMs[1060]);
      expect(Number.isNaN(p.variance[0]!)).toBe(true);
      expect(Number.isNaN(p.spikeProb![0]!)).toBe(true);
      for (let i = 1; i < ORIGINS.length; i++) {
        expect(p.variance[i]).toBeGreaterThan(0);
        expect(p.spikeProb![i]).toBeGreaterThan(0);
        expect(p.spikeProb![i]).toBeLessThan(1);
        for (let k = 1; k < LEVELS.length; k++) {
          expect(p.logRvQuantiles!.get(LEVELS[k]!)![i]!).toBeGreaterThanOrEqual(p.logRvQuantiles!.get(LEVELS[k - 1]!)![i]!);
        }
        // The point forecast is a mean of a right-skewed RV, so it lies above the median.
        expect(Math.log(p.variance[i]!)).toBeGreaterThan(p.logRvQuantiles!.get(0.5)![i]! - 0.5);
      }
    }
  });

  it('predicts an unseen symbol with the statistics pooled over the training symbols', () => {
    const renamed: FeatureFrame = { ...first, symbol: 'NEWCOIN' };
    const p = model.predict(renamed, { origins: ORIGINS, horizonBars: H });
    const own = model.predict(first, { origins: ORIGINS, horizonBars: H });
    for (let i = 1; i < ORIGINS.length; i++) expect(Number.isFinite(p.variance[i]!)).toBe(true);
    expect(Array.from(p.variance)).not.toEqual(Array.from(own.variance));
  });

  it('refuses a frame without the features it was trained on, and a horizon it was not trained for', () => {
    const columns = { ...first.columns };
    delete (columns as Record<string, Float64Array>).parkinson_1d;
    const stripped: FeatureFrame = { ...first, columns };
    try {
      model.predict(stripped, { origins: ORIGINS, horizonBars: H });
      expect.unreachable();
    } catch (e) {
      expect(isAppError(e, 'config')).toBe(true);
      expect((e as Error).message).toMatch(/model ml-test was trained on features \[.*parkinson_1d.*\] \(hash [0-9a-f]{16}\) but the frame of AAA has \[.*\].*retrain or rebuild features/);
    }
    expect(() => model.predict(first, { origins: ORIGINS, horizonBars: H + 1 })).toThrow(/horizon/);
    expect(() => model.predict(first, { origins: ORIGINS, horizonBars: H, quantiles: [1] })).toThrow(/between 0 and 1/);
    expect(() => model.predict(first, { origins: Int32Array.from([5000]), horizonBars: H })).toThrow(/outside the frame/);
  });

  it('refuses to train on a feature the frames do not have', async () => {
    await expect(createMlForecaster({ kind: 'ml', features: ['rv_1d', 'funding'] }).fit(frames, OPTS)).rejects.toSatisfy((e) => isAppError(e, 'config') && /funding/.test((e as Error).message));
  });

  it('frees its tensors on dispose', async () => {
    const m = await createMlForecaster({ ...SPEC, epochs: 1 }).fit(frames, OPTS);
    m.dispose();
    expect(() => m.predict(first, { origins: ORIGINS, horizonBars: H })).toThrow(/disposed/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model = await createMlForecaster(SPEC).fit(frames, OPTS);
  });

  it('round-trips through its artifact with identical predictions', async () => {
    const loaded = await createMlForecaster().load(model.toArtifact());
    try {
      expectSamePredictions(model, loaded, frames[1]!);
    } finally {
      loaded.dispose();
    }
  });
});
