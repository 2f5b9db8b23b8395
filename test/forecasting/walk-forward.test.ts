import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { forwardRv, spikeLabels } from '../../src/dataset/targets.ts';
import { planWalkForward, trainingOrigins } from '../../src/dataset/walk-forward.ts';
import { dieboldMariano, summarise } from '../../src/evaluation/compare.ts';
import { coverage, logRealised, lossSeries, mincerZarnowitz, mseLog, pinballLoss, qlike } from '../../src/evaluation/metrics.ts';
import { brier, brierSkill, precisionRecall, rocAuc } from '../../src/evaluation/spike-metrics.ts';
import type { FeatureFrame } from '../../src/features/frame.ts';
import type { FittedForecaster, Forecaster, ForecasterSpec, PredictRequest } from '../../src/forecasting/forecaster.ts';
import { runWalkForward, type ModelSeries, type WalkForwardOptions } from '../../src/forecasting/walk-forward.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2024, 0, 1);
const H = 4;

/** A 1h frame of GARCH(1,1)-like returns, built by hand from a seeded generator; column `r` = log returns. */
function syntheticFrame(symbol: string, seed: number, nBars: number): FeatureFrame {
  const rng = createRng(seed);
  const timeMs = new Float64Array(nBars);
  const close = new Float64Array(nBars);
  const r = new Float64Array(nBars);
  let sigma2 = 1e-4;
  let price = 100;
  r[0] = Number.NaN;
  for (let t = 0; t < nBars; t++) {
    timeMs[t] = T0 + t * HOUR;
    if (t > 0) {
      const eps = Math.sqrt(sigma2) * rng.normal();
      sigma2 = 2e-6 + 0.1 * eps * eps + 0.88 * sigma2;
      r[t] = eps;
      price *= Math.exp(eps);
    }
    close[t] = price;
  }
  const open = close.map((_, t) => (t === 0 ? close[0]! : close[t - 1]!));
  const high = close.map((c, t) => Math.max(c, open[t]!) * 1.001);
  const low = close.map((c, t) => Math.min(c, open[t]!) * 0.999);
  const ones = new Float64Array(nBars).fill(1);
  return {
    symbol, interval: '1h', timeMs, gaps: 0, columns: { r },
    bars: { openTimeMs: timeMs, open, high, low, close, volume: ones, quoteVolume: ones, trades: ones, takerBuyBaseVolume: ones },
  };
}

interface Log {
  fits: { model: string; fitEnd: number; lastTrainCloseMs: number[] }[];
  predicts: { model: string; symbol: string; fitEnd: number; origins: Int32Array; historyRows: number; quantiles?: readonly number[] }[];
  disposed: number;
}

/** Builds a toy forecaster; `forecastAt` gives the variance forecast at origin t from the history and the fitted level. */
function toy(
  spec: ForecasterSpec, caps: { quantiles: boolean; spike: boolean }, log: Log,
  forecastAt: (r: Float64Array, t: number, level: number) => number,
): Forecaster {
  const forecaster: Forecaster = {
    spec,
    capabilities: { ...caps, pooled: true },
    async fit(train, opts) {
      log.fits.push({ model: spec.kind, fitEnd: opts.fitEnd, lastTrainCloseMs: train.map((f) => f.timeMs[f.timeMs.length - 1]! + HOUR) });
      // Fitted "level": mean r² over the training rows (all of which closed by fitEnd).
      let s = 0;
      let n = 0;
      for (const f of train) for (const v of f.columns.r!) if (Number.isFinite(v)) { s += v * v; n++; }
      const level = s / n;
      const fitted: FittedForecaster = {
        spec, symbols: train.map((f) => f.symbol),
        predict(history: FeatureFrame, req: PredictRequest) {
          log.predicts.push({ model: spec.kind, symbol: history.symbol, fitEnd: opts.fitEnd, origins: req.origins, historyRows: history.timeMs.length, ...(req.quantiles ? { quantiles: req.quantiles } : {}) });
          const r = history.columns.r!;
          const variance = Float64Array.from(req.origins, (t) => forecastAt(r, t, level) * req.horizonBars);
          const originMs = Float64Array.from(req.origins, (t) => history.timeMs[t]!);
          const batch = { symbol: history.symbol, horizonBars: req.horizonBars, originMs, variance };
          if (caps.spike) {
            const spikeProb = Float64Array.from(req.origins, (t) => Math.min(1, (r[t]! * r[t]!) / (4 * level)));
            return { ...batch, spikeProb };
          }
          if (caps.quantiles && req.quantiles) {
            const z: Record<number, number> = { 0.5: 0, 0.9: 1.2815515655446004 };
            return { ...batch, logRvQuantiles: new Map(req.quantiles.map((q) => [q, variance.map((v) => Math.log(v) + (z[q] ?? 0))])) };
          }
          return batch;
        },
        toArtifact: () => ({ spec, state: { level } }),
        dispose: () => { log.disposed++; },
      };
      return fitted;
    },
    load: () => Promise.reject(new Error('not used')),
  };
  return forecaster;
}

/** Trailing mean of r² over the last 24 bars (×h), and a constant (training mean r² × h). */
function toyForecasters(log: Log): Forecaster[] {
  const trailing = toy({ kind: 'trailing', window: 24 }, { quantiles: false, spike: true }, log, (r, t) => {
    let s = 0;
    let n = 0;
    for (let j = Math.max(0, t - 23); j <= t; j++) if (Number.isFinite(r[j]!)) { s += r[j]! * r[j]!; n++; }
    return s / n;
  });
  const constant = toy({ kind: 'constant' }, { quantiles: true, spike: false }, log, (_r, _t, level) => level);
  return [trailing, constant];
}

const frames = [syntheticFrame('AAA', 1, 60 * 24), syntheticFrame('BBB', 2, 60 * 24)];
const baseOpts = {
  frames, horizonBars: H, stepMs: HOUR, seed: 11, spikeK: 2, quantiles: [0.5, 0.9],
  testFromMs: T0 + 35 * DAY, testToMs: T0 + 59 * DAY, retrainEveryMs: 7 * DAY,
} satisfies Omit<WalkForwardOptions, 'forecasters'>;

async function run(): Promise<{ log: Log; result: Awaited<ReturnType<typeof runWalkForward>>; foldInfos: number[] }> {
  const log: Log = { fits: [], predicts: [], disposed: 0 };
  const foldInfos: number[] = [];
  const result = await runWalkForward({ ...baseOpts, forecasters: toyForecasters(log), onFold: (i) => foldInfos.push(i.fitEnd) });
  return { log, result, foldInfos };
}

const seriesOf = (series: readonly ModelSeries[], model: string, symbol: string): ModelSeries => series.find((s) => s.model === model && s.symbol === symbol)!;

describe('runWalkForward', () => {
  it('plans the folds of the dataset stage and refits every model once per fold', async () => {
    const { log, result, foldInfos } = await run();
    const plan = planWalkForward({ timeMs: frames[0]!.timeMs, stepMs: HOUR, horizonBars: H, testFromMs: baseOpts.testFromMs, testToMs: baseOpts.testToMs, retrainEveryMs: baseOpts.retrainEveryMs });
    expect(plan.length).toBe(4); // fold starts on days 35, 42, 49, 56
    expect(result.folds).toBe(4);
    expect(foldInfos).toEqual(plan.map((f) => f.fitEnd));
    expect(log.fits.length).toBe(8);
    expect(log.disposed).toBe(8);
    expect(result.timing.map((t) => [t.model, t.fits])).toEqual([['trailing', 4], ['constant', 4]]);
    expect(result.models).toEqual(['trailing', 'constant']);
    expect(result.symbols).toEqual(['AAA', 'BBB']);
  });

  it('gives every model exactly the same origins per symbol', async () => {
    const { result } = await run();
    for (const f of frames) {
      const plan = planWalkForward({ timeMs: f.timeMs, stepMs: HOUR, horizonBars: H, testFromMs: baseOpts.testFromMs, testToMs: baseOpts.testToMs, retrainEveryMs: baseOpts.retrainEveryMs });
      const expected = Float64Array.from(plan.flatMap((fold) => [...fold.origins]), (t) => f.timeMs[t]!);
      expect(seriesOf(result.series, 'trailing', f.symbol).originMs).toEqual(expected);
      expect(seriesOf(result.series, 'constant', f.symbol).originMs).toEqual(expected);
    }
  });

  it('never fits past the close of the origins it then predicts, nor shows rows after them', async () => {
    const { log } = await run();
    expect(log.predicts.length).toBe(16);
    for (const p of log.predicts) {
      const f = frames.find((x) => x.symbol === p.symbol)!;
      expect(p.fitEnd).toBeLessThanOrEqual(f.timeMs[p.origins[0]!]! + HOUR);
      expect(p.historyRows).toBe(p.origins[p.origins.length - 1]! + 1);
    }
    for (const fit of log.fits) for (const close of fit.lastTrainCloseMs) expect(close).toBeLessThanOrEqual(fit.fitEnd);
    // quantiles are requested only from the model that declares them
    expect(log.predicts.filter((p) => p.quantiles).every((p) => p.model === 'constant')).toBe(true);
  });

  it('scores against the realised forward variance at each origin, and keeps spikes and quantiles', async () => {
    const { result } = await run();
    for (const f of frames) {
      const fwd = forwardRv(f.columns.r!, H);
      const s = seriesOf(result.series, 'trailing', f.symbol);
      const idx = Array.from(s.originMs, (ms) => (ms - T0) / HOUR);
      expect(s.realised).toEqual(Float64Array.from(idx, (t) => fwd[t]!));
      expect(s.spikeProb?.length).toBe(idx.length);
      expect(s.spikeLabel?.length).toBe(idx.length);
      expect(s.logRvQuantiles).toBeUndefined();
      const c = seriesOf(result.series, 'constant', f.symbol);
      expect(c.spikeProb).toBeUndefined();
      expect([...c.logRvQuantiles!.keys()]).toEqual([0.5, 0.9]);
      // the climatology in force during each fold = base rate of the spike labels at that fit's training origins
      const allLabels = spikeLabels(f.columns.r!, H, { k: 2, lookbackBars: 30 * 24 });
      expect(s.spikeLabel).toEqual(Float64Array.from(idx, (t) => allLabels[t]!));
      for (const fold of planWalkForward({ timeMs: f.timeMs, stepMs: HOUR, horizonBars: H, testFromMs: baseOpts.testFromMs, testToMs: baseOpts.testToMs, retrainEveryMs: baseOpts.retrainEveryMs })) {
        const train = Array.from(trainingOrigins(f.timeMs, HOUR, H, fold.fitEnd), (t) => allLabels[t]!).filter((y) => !Number.isNaN(y));
        expect(train.length).toBeGreaterThan(0);
        const at = idx.indexOf(fold.origins[0]!);
        expect(s.spikeClimatology![at]).toBeCloseTo(train.reduce((a, y) => a + y, 0) / train.length, 15);
        expect(fold.origins[0]!).toBeGreaterThan(trainingOrigins(f.timeMs, HOUR, H, fold.fitEnd).at(-1)! + H - 1);
      }
    }
  });

  it('is deterministic', async () => {
    const a = (await run()).result;
    const b = (await run()).result;
    expect(a.series.map((s) => s.forecast)).toEqual(b.series.map((s) => s.forecast));
  });

  it('refuses a step that is not the bar length, and duplicate model names', async () => {
    const log: Log = { fits: [], predicts: [], disposed: 0 };
    const fs = toyForecasters(log);
    await expect(runWalkForward({ ...baseOpts, stepMs: 2 * HOUR, forecasters: fs })).rejects.toSatisfy((e: unknown) => isAppError(e, 'config'));
    await expect(runWalkForward({ ...baseOpts, forecasters: [fs[0]!, fs[0]!] })).rejects.toThrow(/both named "trailing"/);
    expect(log.fits.length).toBe(0);
  });
});

describe('summarise', () => {
  it('reproduces direct metric calls per symbol and pooled', async () => {
    const { result } = await run();
    const sum = summarise(result, { baseline: 'constant' });
    const cat = (xs: Float64Array[]): Float64Array => Float64Array.from(xs.flatMap((x) => [...x]));
    for (const model of ['trailing', 'constant']) {
      for (const symbol of ['AAA', 'BBB', 'pooled']) {
        const parts = (symbol === 'pooled' ? ['AAA', 'BBB'] : [symbol]).map((s) => seriesOf(result.series, model, s));
        const realised = cat(parts.map((p) => p.realised));
        const forecast = cat(parts.map((p) => p.forecast));
        const row = sum.accuracy.find((r) => r.model === model && r.symbol === symbol)!;
        expect(row.qlike).toBe(qlike(realised, forecast).value);
        expect(row.n).toBe(realised.length);
        expect(row.mseLog).toBe(mseLog(realised, forecast).value);
        expect(row.mzR2).toBe(mincerZarnowitz(realised, forecast).r2);
        if (model === 'constant') {
          const q90 = cat(parts.map((p) => p.logRvQuantiles!.get(0.9)!));
          expect(row.pinball['0.9']).toBe(pinballLoss(logRealised(realised), q90, 0.9).value);
          expect(row.coverage['0.9']).toBe(coverage(logRealised(realised), q90).value);
        } else {
          expect(row.pinball).toEqual({});
          const labels = cat(parts.map((p) => p.spikeLabel!));
          const probs = cat(parts.map((p) => p.spikeProb!));
          const clim = cat(parts.map((p) => p.spikeClimatology!));
          const spike = sum.spike.find((r) => r.model === model && r.symbol === symbol)!;
          expect(spike.auc).toBe(rocAuc(labels, probs).auc);
          expect(spike.brier).toBe(brier(labels, probs).brier);
          expect(spike.brierSkill).toBe(brierSkill(labels, probs, clim).skill);
          expect(spike.precision).toBe(precisionRecall(labels, probs, 0.5).precision);
          expect(spike.recall).toBe(precisionRecall(labels, probs, 0.5).recall);
          expect(spike.episodesDetected + spike.episodesMissed).toBeGreaterThan(0);
          const base = cat(parts.map((p) => seriesOf(result.series, 'constant', p.symbol).forecast));
          const dm = sum.dm.find((r) => r.model === model && r.symbol === symbol)!;
          expect(dm).toMatchObject({ baseline: 'constant', ...dieboldMariano(lossSeries('qlike', realised, forecast), lossSeries('qlike', realised, base), { horizon: H }) });
        }
      }
    }
    expect(sum.spike.every((r) => r.model === 'trailing')).toBe(true);
    expect(sum.dm.length).toBe(3); // trailing vs constant: AAA, BBB, pooled
  });

  it('refuses a baseline that was not evaluated', async () => {
    const { result } = await run();
    expect(() => summarise(result, { baseline: 'har' })).toThrow(/Baseline "har"/);
  });
});
