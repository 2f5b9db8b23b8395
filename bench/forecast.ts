/**
 * bench/forecast: walk-forward out-of-sample comparison on the shared Binance spot 1h bars of 8 symbols
 * (2022-01 … 2025-10), origins 2024-01-01 → 2025-11-01, refit every 30 days on an expanding window with a
 * one-horizon embargo, h = 24h and 4h: every model (losers too) per symbol and pooled, DM tests vs HAR-RV,
 * spike skill; plus the time to train the pooled neural model on all 8 symbols × ~4 years.
 * Targets (issue 3): ml pooled QLIKE ≤ 0.92 × HAR-RV with DM p < 0.05; spike AUC ≥ 0.75 with positive
 * Brier skill; pooled training ≤ 120 s on wasm; each evaluate ≤ 15 min on 2 cores.
 * Run: npm run bench:forecast → bench/results/forecast.json
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { epochMs } from '../src/core/time.ts';
import { loadFeatureFrames } from '../src/features/build.ts';
import { evaluateModels, type EvaluationReport } from '../src/forecasting/evaluate.ts';
import { horizonBars } from '../src/forecasting/horizon.ts';
import { createMlForecaster } from '../src/forecasting/ml/model.ts';
import { importCsv } from '../src/ingest/csv.ts';
import { openStore } from '../src/store/db.ts';
import { MarketData } from '../src/store/market-data.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SHARED = join(ROOT, '../shared/data/market/binance-spot__finom-static-klines');
const WORK = join(ROOT, 'bench/.work-forecast');
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT', 'AVAXUSDT', 'LINKUSDT'];
const HORIZONS = (process.env.BENCH_HORIZONS ?? '24h,4h').split(',');

function pooled(r: EvaluationReport): Record<string, unknown> {
  const har = r.results.find((x) => x.model === 'har' && x.symbol === 'pooled')!;
  const ml = r.results.find((x) => x.model === 'ml' && x.symbol === 'pooled')!;
  const spike = r.spike.find((x) => x.model === 'ml' && x.symbol === 'pooled')!;
  const dm = r.dm.mlVsHar!;
  return {
    qlikeRatioMlToHar: ml.qlike / har.qlike, dmP: dm.p, dmStat: dm.stat, spikeAuc: spike.auc, spikeBrierSkill: spike.brierSkill,
    targets: { qlikeRatio: ml.qlike / har.qlike <= 0.92 && dm.p < 0.05, spike: spike.auc >= 0.75 && spike.brierSkill > 0, time: r.elapsedMs <= 15 * 60_000 },
  };
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const store = openStore(join(WORK, 'bench.db'));
  const md = new MarketData(store);
  for (const symbol of SYMBOLS) {
    const dir = join(SHARED, symbol, '1h');
    await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files: readdirSync(dir).sort().map((f) => join(dir, f)) });
  }

  // Training time of the pooled model on everything (8 symbols × 2022-01 … 2025-10), default spec.
  const frames = loadFeatureFrames(md, { venue: 'binance-spot', symbols: SYMBOLS, interval: '1h' });
  const t0 = performance.now();
  const fitted = await createMlForecaster({ kind: 'ml' }).fit(frames, { fitEnd: epochMs(Date.parse('2025-11-01')), seed: 42, horizonBars: horizonBars('24h', '1h') });
  const trainWallMs = performance.now() - t0;
  const state = fitted.toArtifact().state as { backend: string; samplesPerSec: number; trainingMs: number; metrics: Record<string, number | null> };
  fitted.dispose();
  const training = { symbols: SYMBOLS.length, bars: frames.reduce((s, f) => s + f.timeMs.length, 0), backend: state.backend, wallMs: Math.round(trainWallMs), samplesPerSec: Math.round(state.samplesPerSec), target: { maxMs: 120_000, met: trainWallMs <= 120_000 } };
  process.stdout.write(`training: ${JSON.stringify(training)}\n`);

  const evaluations: Record<string, unknown> = {};
  for (const horizon of HORIZONS) {
    const r = await evaluateModels({
      md, symbols: SYMBOLS, interval: '1h', horizon, testFromMs: Date.parse('2024-01-01'), testToMs: Date.parse('2025-11-01'), retrainEveryDays: 30, seed: 42,
      models: ['ewma', 'garch', 'har', 'har-j', 'har-sv', 'ml'],
      onFold: (i) => process.stderr.write(`${horizon} fold ${i.fold + 1}/${i.folds}\n`),
    });
    evaluations[horizon] = { summary: pooled(r), report: r };
    process.stdout.write(`${horizon}: ${JSON.stringify(pooled(r))} in ${Math.round(r.elapsedMs / 1000)} s\n`);
  }
  store.close();
  const out = {
    benchmark: 'forecast', date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    data: { venue: 'binance-spot', symbols: SYMBOLS, interval: '1h', bars: '2022-01-01 … 2025-10-31', test: '2024-01-01 → 2025-11-01', retrainEveryDays: 30 },
    training, evaluations,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/forecast.json'), `${JSON.stringify(out, null, 2)}\n`);
  rmSync(WORK, { recursive: true, force: true });
}

await main();
