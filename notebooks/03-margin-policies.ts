// %% [markdown]
/*
# 03 — Margin policies: capital against coverage, procyclicality and bad debt

A maintenance margin is a value-at-risk: it should be breached by the worst hourly-decided 4h move about
1 − c of the time (c = 0.99), no more (under-margined, bad debt) and not much less (capital locked for
nothing). It should also not jump when volatility does — a sudden increase liquidates positions that were
healthy a moment before (procyclicality). This notebook replays each policy over history, walk-forward with
no look-ahead (`runBacktest`):

- **static**: one margin for the whole test period, the c-quantile of the adverse excursions before it;
- **ewma**, **garch**, **har**, **ml**: σ forecast over H × an empirical scale (filtered historical simulation);
- **ml-anticipatory**: the ml policy through the governor — announced steps, notice, hysteresis, a
  releasable buffer and a floor — with circuit breakers.

For each: breach rate with the Kupiec and Christoffersen tests and the Basel zone, mean margin, largest 30-day
increase and peak/trough ratio, and the liquidation simulator over the stress episodes inside the period
(bad debt, 95th percentile over seeds; healthy positions liquidated by a parameter change).

The full run (no arguments) is the README's calibration table, phase 1: 8 spot symbols, test 2024-01-01 →
2025-10-31, c = 0.99, H = 4h, refits every 90 days from a 180-day warm-up, 10 simulator seeds — about 4.5
minutes on 2 cores. `--small` uses a tiny network, refits every 30 days from a 45-day warm-up and 1 seed.

Run: `node --import tsx notebooks/03-margin-policies.ts [--symbols …] [--from …] [--to …] [--policies static,ewma,har,ml-anticipatory]
[--confidence 0.99] [--horizon 4h] [--retrain-every-days 90] [--warmup-days 180] [--stress-seeds 10] [--history-days N] [--small] [--out DIR]`
*/

// %%
import { AppError, iso, parsePolicies, POLICY_NAMES, runBacktest, type BacktestRow, type ForecasterSpec } from '../src/index.ts';
import { fmt, importSpot, memoryStore, NotebookPage, notebookArgs, pct, SPOT_START_MS, SPOT_SYMBOLS, usd } from './lib/notebook.ts';

const started = performance.now();
const args = notebookArgs('03-margin-policies', { symbols: SPOT_SYMBOLS, from: '2024-01-01', to: '2025-10-31' }, ['policies', 'confidence', 'horizon', 'retrain-every-days', 'warmup-days', 'stress-seeds', 'history-days']);
const DAY_MS = 86_400_000;
const num = (key: string, full: number, small: number): number => {
  const raw = args.extra[key];
  const v = raw === undefined ? (args.small ? small : full) : Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new AppError('config', `--${key} must be a non-negative number, not "${raw}".`);
  return v;
};
const policies = parsePolicies(args.extra.policies ?? (args.small ? 'static,ewma,har,ml-anticipatory' : POLICY_NAMES.join(',')));
const confidence = num('confidence', 0.99, 0.99);
const horizon = args.extra.horizon ?? '4h';
const retrainEveryDays = num('retrain-every-days', 90, 30);
const warmupDays = num('warmup-days', 180, 45);
const stressSeeds = num('stress-seeds', 10, 1);

/** The tiny network of `--small` (the same as the backtest tests'). */
const SMALL_ML: ForecasterSpec = { kind: 'ml', epochs: 3, ensemble: 1, maxTrainSamples: 4000, hidden: [16] };

// %% [markdown]
/*
## 1. Data

Spot 1h bars from 2022-01-01 (or, with `--small` or `--history-days N`, the yearly files from just far enough
back for the warm-up — the scale is calibrated on out-of-sample forecasts made before the test start — and the
30 days of bars the first forecasts need). The static policy's quantile and the forecasters' expanding windows
use all of it.
*/

// %%
// The static policy's quantile and the forecasters' expanding windows use all the history loaded: the full run
// loads everything since 2022-01-01 (as the README's benchmark does); --small only what the warm-up needs.
const historyDays = args.extra['history-days'] !== undefined ? num('history-days', 0, 0) : args.small ? warmupDays + 40 : undefined;
if (historyDays !== undefined && historyDays < warmupDays + 30) throw new AppError('config', `--history-days must cover the warm-up and the 30 days of bars before it (at least ${warmupDays + 30}), not ${historyDays}.`);
const historyFromMs = historyDays === undefined ? SPOT_START_MS : Math.max(SPOT_START_MS, args.fromMs - historyDays * DAY_MS);
const { store, md } = memoryStore();
const stored = await importSpot(md, args.symbols, historyFromMs, args.toMs + DAY_MS);

// %% [markdown]
/*
## 2. Backtest
*/

// %%
const report = await runBacktest({
  md, venue: 'binance-spot', symbols: args.symbols, interval: '1h', fromMs: args.fromMs, toMs: args.toMs, policies, confidence, horizon,
  retrainEveryDays, warmupDays, seed: 42, stress: { seeds: stressSeeds }, ...(args.small ? { modelSpecs: { ml: SMALL_ML } } : {}),
  onFold: (f) => process.stderr.write(`forecast fold ${f.fold + 1}/${f.folds} fitted to ${iso(f.fitEnd).slice(0, 10)}\n`),
});
store.close();

// %% [markdown]
/*
## 3. The trade-off
*/

// %%
const pick = (r: BacktestRow) => ({
  policy: r.policy, symbol: r.symbol, observations: r.observations, breaches: r.breaches, breachRate: r.breachRate, kupiecP: r.kupiecP,
  christoffersenP: r.christoffersenP, baselZone: r.baselZone, meanMarginRatio: r.meanMarginRatio, maxIncrease30d: r.maxIncrease30d,
  peakToTrough: r.peakToTrough, changes: r.changes, badDebtP95Usd: r.badDebtUsd, liquidations: r.liquidations, healthyLiquidatedByChange: r.healthyLiquidatedByChange,
  ...(r.breakers ? { breakerShare: r.breakers.share } : {}),
});
const rows = report.policies.map(pick);
const pooled = rows.filter((r) => r.symbol === 'pooled');
const perSymbol = rows.filter((r) => r.symbol !== 'pooled');
const staticPooled = pooled.find((r) => r.policy === 'static');

const page = new NotebookPage(args, 'Margin policies: capital, coverage, procyclicality and bad debt');
page.text(`Walk-forward backtest on Binance spot 1h bars from ${iso(stored.firstMs).slice(0, 10)}, test ${report.from.slice(0, 10)} → ${report.to.slice(0, 10)}, c = ${confidence}, H = ${horizon}; forecasters refitted every ${retrainEveryDays} days (${report.folds} refits) from a ${warmupDays}-day warm-up${args.small ? ', tiny network' : ''}. Stress replay: ${report.episodes.length ? report.episodes.map((e) => `${e.name} (${e.from.slice(0, 10)} → ${e.to.slice(0, 10)})`).join(', ') : 'none'}, ${stressSeeds} simulator seed(s). Pooled over ${args.symbols.length} symbol(s); mean margin and procyclicality averaged over symbols.`);
page.table(['policy', 'breach rate', 'Kupiec p', 'Christoffersen p', 'zone', 'mean margin', 'largest 30-day increase', 'peak/trough', 'bad debt p95', 'healthy liquidated by a change'],
  pooled.map((r) => [r.policy, pct(r.breachRate), fmt(r.kupiecP, 3), fmt(r.christoffersenP, 3), r.baselZone, pct(r.meanMarginRatio), `+${(r.maxIncrease30d * 100).toFixed(0)} %`, fmt(r.peakToTrough, 1), usd(r.badDebtP95Usd), r.healthyLiquidatedByChange]));
const anticipatory = pooled.find((r) => r.policy === 'ml-anticipatory');
if (anticipatory && staticPooled) {
  const ewma = pooled.find((r) => r.policy === 'ewma');
  page.text(`ml-anticipatory holds ${fmt(anticipatory.meanMarginRatio / staticPooled.meanMarginRatio, 3)} × the static policy's mean margin at a breach rate of ${pct(anticipatory.breachRate)} (target ${pct(1 - confidence)}; Kupiec p ${fmt(anticipatory.kupiecP, 3)}, ${anticipatory.baselZone} zone)${ewma ? `; its largest 30-day increase is +${(anticipatory.maxIncrease30d * 100).toFixed(0)} % against EWMA's +${(ewma.maxIncrease30d * 100).toFixed(0)} %, and its bad debt over the stress replay ${ewma.badDebtP95Usd > 0 ? `${fmt(anticipatory.badDebtP95Usd / ewma.badDebtP95Usd, 2)} × EWMA's` : `${usd(anticipatory.badDebtP95Usd)} (EWMA's: none)`}` : ''}.`);
}

// %% [markdown]
/*
## 4. Figures
*/

// %%
const order = [...policies];
await page.figure('margin-vs-breaches', `Mean maintenance margin against breach rate, per symbol (small) and pooled (large); the dashed line is the target breach rate 1 − c = ${pct(1 - confidence)}.`, {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 520, height: 340,
  layer: [
    { data: { values: perSymbol }, mark: { type: 'point', filled: true, opacity: 0.45, size: 40 }, encoding: { x: { field: 'meanMarginRatio', type: 'quantitative', axis: { format: '.1%' }, scale: { zero: false }, title: 'mean maintenance margin' }, y: { field: 'breachRate', type: 'quantitative', axis: { format: '.2%' }, title: 'breach rate' }, color: { field: 'policy', type: 'nominal', sort: order }, tooltip: [{ field: 'symbol' }] } },
    { data: { values: pooled }, mark: { type: 'point', filled: true, size: 220, stroke: 'black', strokeWidth: 1 }, encoding: { x: { field: 'meanMarginRatio', type: 'quantitative' }, y: { field: 'breachRate', type: 'quantitative' }, color: { field: 'policy', type: 'nominal', sort: order }, shape: { field: 'policy', type: 'nominal', sort: order } } },
    { data: { values: [{ y: 1 - confidence }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
  ],
});
await page.figure('procyclicality', 'Largest increase of the margin over any 30 days (pooled: mean over symbols).', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 480, height: { step: 26 },
  data: { values: pooled.map((r) => ({ policy: r.policy, increase: r.maxIncrease30d })) },
  mark: 'bar',
  encoding: { y: { field: 'policy', type: 'nominal', sort: order, title: null }, x: { field: 'increase', type: 'quantitative', axis: { format: '.0%' }, title: 'largest 30-day increase' }, color: { field: 'policy', type: 'nominal', sort: order, legend: null } },
});
await page.figure('bad-debt', 'Bad debt of the simulated position population over the stress episodes (95th percentile over seeds, summed over episodes and symbols), USD.', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 480, height: { step: 26 },
  data: { values: pooled.map((r) => ({ policy: r.policy, badDebt: r.badDebtP95Usd })) },
  mark: 'bar',
  encoding: { y: { field: 'policy', type: 'nominal', sort: order, title: null }, x: { field: 'badDebt', type: 'quantitative', axis: { format: '$~s' }, title: 'bad debt p95 (USD)' }, color: { field: 'policy', type: 'nominal', sort: order, legend: null } },
});

page.text('## Per symbol');
page.table(['policy', 'symbol', 'breach rate', 'Kupiec p', 'zone', 'mean margin', 'largest 30-day increase', 'bad debt p95'],
  perSymbol.map((r) => [r.policy, r.symbol, pct(r.breachRate), fmt(r.kupiecP, 3), r.baselZone, pct(r.meanMarginRatio), `+${(r.maxIncrease30d * 100).toFixed(0)} %`, usd(r.badDebtP95Usd)]));

const out = page.write({
  config: { policies, confidence, horizon, retrainEveryDays, warmupDays, stressSeeds, historyFrom: iso(stored.firstMs), folds: report.folds, seed: report.seed, smallMl: args.small ? SMALL_ML : null },
  episodes: report.episodes, pooled, perSymbol, timing: report.timing, backtestElapsedMs: report.elapsedMs,
}, performance.now() - started);
process.stdout.write(`${out}\n`);
