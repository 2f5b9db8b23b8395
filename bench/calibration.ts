/**
 * bench/calibration: validation backtest of every margin policy (issue 4) on the shared Binance data.
 * Phase 1 (timed, target ≤ 10 min on 2 cores): 8 spot symbols 1h, test 2024-01-01 → 2025-10-31, c = 0.99,
 * H = 4h, policies static, ewma, garch, har, ml, ml-anticipatory; forecasters refitted every 90 days from a
 * 180-day warm-up; stress replay of 2024-08-05 and 2025-10-10 (10 simulator seeds).
 * Phase 2: the earlier stress episodes (2020-03-12, 2021-05-19, 2022-06, 2022-11) on the Binance USDT-M
 * perpetual 1h bars of BTC and ETH (the markets with history before them), test 2020-03-05 → 2022-12-31 after a
 * 28-day warm-up (the data start on 2020-01-01: the models behind the first episode were fitted on five weeks).
 * Targets for ml-anticipatory: green zone and Kupiec p > 0.05 on every symbol; mean margin ≤ 0.85 × static;
 * largest 30-day increase ≤ EWMA's; bad debt over the stress episodes ≤ 0.5 × EWMA's; no healthy position
 * liquidated by a parameter change.
 * Run: npm run bench:calibration → bench/results/calibration.json
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { runBacktest, type BacktestReport, type BacktestRow } from '../src/calibration/backtest.ts';
import { POLICY_NAMES } from '../src/calibration/policy-series.ts';
import { importCsv } from '../src/ingest/csv.ts';
import { openStore } from '../src/store/db.ts';
import { MarketData } from '../src/store/market-data.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const MARKET = join(ROOT, '../shared/data/market');
const WORK = join(ROOT, 'bench/.work-calibration');
const SPOT = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT', 'AVAXUSDT', 'LINKUSDT'];
const PERP = ['BTCUSDT', 'ETHUSDT'];

const row = (r: BacktestReport, policy: string, symbol: string): BacktestRow => r.policies.find((p) => p.policy === policy && p.symbol === symbol)!;

/** Target checks on one report (phase 1) plus the stress totals of both phases. */
function targets(main: BacktestReport, early: BacktestReport) {
  const a = (s: string): BacktestRow => row(main, 'ml-anticipatory', s);
  const perSymbol = SPOT.map((s) => ({ symbol: s, zone: a(s).baselZone, kupiecP: a(s).kupiecP, maxIncrease30d: a(s).maxIncrease30d, ewmaMaxIncrease30d: row(main, 'ewma', s).maxIncrease30d }));
  const badDebt = (p: string): number => row(main, p, 'pooled').badDebtUsd + row(early, p, 'pooled').badDebtUsd;
  const healthy = row(main, 'ml-anticipatory', 'pooled').healthyLiquidatedByChange + row(early, 'ml-anticipatory', 'pooled').healthyLiquidatedByChange;
  const marginRatio = a('pooled').meanMarginRatio / row(main, 'static', 'pooled').meanMarginRatio;
  return {
    coverage: { met: perSymbol.every((x) => x.zone === 'green' && x.kupiecP > 0.05), perSymbol },
    capital: { meanMarginToStatic: marginRatio, target: 0.85, met: marginRatio <= 0.85 },
    procyclicality: {
      pooled: a('pooled').maxIncrease30d, ewmaPooled: row(main, 'ewma', 'pooled').maxIncrease30d,
      symbolsAtOrBelowEwma: perSymbol.filter((x) => x.maxIncrease30d <= x.ewmaMaxIncrease30d).length,
      met: a('pooled').maxIncrease30d <= row(main, 'ewma', 'pooled').maxIncrease30d,
    },
    badDebt: {
      mlAnticipatoryUsd: badDebt('ml-anticipatory'), ewmaUsd: badDebt('ewma'), ratio: badDebt('ml-anticipatory') / badDebt('ewma'), target: 0.5,
      met: badDebt('ml-anticipatory') <= 0.5 * badDebt('ewma'),
      byPolicyUsd: Object.fromEntries(POLICY_NAMES.map((p) => [p, badDebt(p)])),
    },
    healthyLiquidatedByChange: { count: healthy, met: healthy === 0 },
    time: { phase1Ms: main.elapsedMs, target: 600_000, met: main.elapsedMs <= 600_000 },
  };
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const store = openStore(join(WORK, 'bench.db'));
  const md = new MarketData(store);
  for (const symbol of SPOT) {
    const dir = join(MARKET, 'binance-spot__finom-static-klines', symbol, '1h');
    await importCsv({ md, venue: 'binance-spot', symbol, interval: '1h', files: readdirSync(dir).sort().map((f) => join(dir, f)) });
  }
  for (const symbol of PERP) {
    await importCsv({ md, venue: 'binance-usdm', symbol, interval: '1h', files: [join(MARKET, 'binance-usdm-perp__pixelalpha-markettrend', `${symbol}-perp-1h.csv`)] });
  }
  const progress = (phase: string) => (i: { fold: number; folds: number }): void => {
    process.stderr.write(`${phase}: forecast fold ${i.fold + 1}/${i.folds}\n`);
  };
  const main = await runBacktest({
    md, venue: 'binance-spot', symbols: SPOT, interval: '1h', fromMs: Date.parse('2024-01-01'), toMs: Date.parse('2025-10-31'),
    confidence: 0.99, horizon: '4h', policies: [...POLICY_NAMES], retrainEveryDays: 90, warmupDays: 180, seed: 42, stress: { seeds: 10 }, onFold: progress('phase 1'),
  });
  process.stdout.write(`phase 1: ${(main.elapsedMs / 1000).toFixed(1)} s\n`);
  const early = await runBacktest({
    md, venue: 'binance-usdm', symbols: PERP, interval: '1h', fromMs: Date.parse('2020-03-05'), toMs: Date.parse('2022-12-31'),
    confidence: 0.99, horizon: '4h', policies: [...POLICY_NAMES], retrainEveryDays: 90, warmupDays: 28, seed: 42, stress: { seeds: 10 }, onFold: progress('phase 2'),
  });
  process.stdout.write(`phase 2: ${(early.elapsedMs / 1000).toFixed(1)} s\n`);
  store.close();
  const t = targets(main, early);
  process.stdout.write(`${JSON.stringify(t, null, 2)}\n`);
  const out = {
    benchmark: 'calibration', date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    targets: t, phase1: main, phase2: early,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/calibration.json'), `${JSON.stringify(out, null, 2)}\n`);
  rmSync(WORK, { recursive: true, force: true });
}

await main();
