// %% [markdown]
/*
# 02 — Forecast comparison: EWMA, GARCH-t, HAR-RV and the neural model, out of sample

Which volatility forecaster should the margin policy read? Every model is refitted on the same expanding
windows (a one-horizon embargo between the last training label and the first forecast) and forecasts the
same hourly origins; the losses are compared like for like:

- **QLIKE** (primary: robust to the noise in realised variance, Patton 2011), its ratio to HAR-RV's, MSE of
  log RV and the Mincer–Zarnowitz R²; coverage of the 90 % and 99 % quantiles of log RV;
- **Diebold–Mariano** tests of each model's QLIKE against HAR-RV's (HAC variance over the overlapping horizon,
  Harvey–Leybourne–Newbold correction): a negative statistic means the model is better;
- the neural model's **spike** probabilities: ROC AUC and Brier skill against the training base rate.

The full run (no arguments) is the README's forecasting table: 8 spot symbols, origins 2024-01-01 →
2025-11-01, refits every 30 days on everything since 2022-01-01, h = 24h (`--horizon 4h` for the other table),
models ewma, garch, har, har-j, har-sv, ml — 9 to 13 minutes on 2 cores. `--small` runs a tiny network
(3 epochs, one member) and refits every 7 days on 60 days of history, for tests.

Run: `node --import tsx notebooks/02-forecast-comparison.ts [--symbols …] [--from …] [--to …] [--horizon 24h]
[--models ewma,garch,har,ml] [--retrain-every-days 30] [--history-days N] [--small] [--out DIR]`
*/

// %%
import {
  AppError, createForecaster, horizonBars, iso, loadFeatureFrames, loadTf, NAMED_SPECS, runWalkForward, summarise,
  type AccuracyRow, type ForecasterSpec, type ModelSeries,
} from '../src/index.ts';
import { finiteOrNull, fmt, importSpot, memoryStore, NotebookPage, notebookArgs, SPOT_START_MS, SPOT_SYMBOLS } from './lib/notebook.ts';

const started = performance.now();
const args = notebookArgs('02-forecast-comparison', { symbols: SPOT_SYMBOLS, from: '2024-01-01', to: '2025-11-01' }, ['horizon', 'models', 'retrain-every-days', 'history-days']);
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const horizon = args.extra.horizon ?? '24h';
const h = horizonBars(horizon, '1h');
const models = (args.extra.models ?? (args.small ? 'ewma,garch,har,ml' : 'ewma,garch,har,har-j,har-sv,ml')).split(',').map((m) => m.trim()).filter(Boolean);
const retrainEveryDays = Number(args.extra['retrain-every-days'] ?? (args.small ? 7 : 30));
const historyDays = args.extra['history-days'] !== undefined ? Number(args.extra['history-days']) : args.small ? 60 : undefined;
if (!models.includes('har')) throw new AppError('config', 'The comparison is against HAR-RV: include "har" in --models.');
if (!(retrainEveryDays > 0)) throw new AppError('config', `--retrain-every-days must be a positive number of days, not "${args.extra['retrain-every-days']}".`);
if (historyDays !== undefined && !(historyDays >= 35)) throw new AppError('config', `--history-days must be at least 35 (the features need a month of bars before the first fit), not "${args.extra['history-days']}".`);

/** The tiny network of `--small`: enough to exercise the whole path in a second or two per fit. */
const SMALL_ML: ForecasterSpec = { kind: 'ml', epochs: 3, ensemble: 1, maxTrainSamples: 4000, hidden: [16] };

// %% [markdown]
/*
## 1. Data and features

Binance spot 1h bars from the history start up to the last origin's forward window — nothing later is read.
*/

// %%
const { store, md } = memoryStore();
const historyFromMs = historyDays === undefined ? SPOT_START_MS : Math.max(SPOT_START_MS, args.fromMs - historyDays * DAY_MS);
const dataToMs = args.toMs + (h + 1) * HOUR_MS;
await importSpot(md, args.symbols, historyFromMs, dataToMs);
const frames = loadFeatureFrames(md, { venue: 'binance-spot', symbols: args.symbols, interval: '1h', fromMs: historyFromMs, toMs: dataToMs });
store.close();

// %% [markdown]
/*
## 2. Walk-forward

The registry's named specs (`NAMED_SPECS`), each named after its model so the results are keyed by it.
*/

// %%
const { backend } = await loadTf();
const forecasters = models.map((name) => {
  const spec = name === 'ml' && args.small ? SMALL_ML : NAMED_SPECS[name];
  if (!spec) throw new AppError('config', `Unknown model "${name}" in --models: use ${Object.keys(NAMED_SPECS).join(', ')}.`);
  return createForecaster({ ...spec, name });
});
const wf = await runWalkForward({
  frames, forecasters, horizonBars: h, stepMs: HOUR_MS, testFromMs: args.fromMs, testToMs: args.toMs,
  retrainEveryMs: retrainEveryDays * DAY_MS, seed: 42, quantiles: [0.5, 0.9, 0.99],
  onFold: (f) => process.stderr.write(`fold ${f.fold + 1}/${f.folds} fitted to ${iso(f.fitEnd).slice(0, 10)}\n`),
});
const summary = summarise(wf, { baseline: 'har' });

// %% [markdown]
/*
## 3. Scores
*/

// %%
const row = (model: string, symbol: string): AccuracyRow | undefined => summary.accuracy.find((a) => a.model === model && a.symbol === symbol);
const harPooled = row('har', 'pooled');
if (!harPooled) throw new AppError('dataQuality', 'HAR-RV produced no scored forecast: the slice is too short for the horizon; widen --from/--to.');
const dm = (model: string, symbol: string) => summary.dm.find((d) => d.model === model && d.symbol === symbol);
const pooled = models.map((m) => {
  const a = row(m, 'pooled')!;
  const d = dm(m, 'pooled');
  return {
    model: m, n: a.n, qlike: a.qlike, qlikeRatioToHar: a.qlike / harPooled.qlike, mseLog: a.mseLog, mzR2: finiteOrNull(a.mzR2),
    coverage90: finiteOrNull(a.coverage['0.9'] ?? Number.NaN), coverage99: finiteOrNull(a.coverage['0.99'] ?? Number.NaN),
    dmStat: m === 'har' || !d ? null : finiteOrNull(d.stat), dmP: m === 'har' || !d ? null : finiteOrNull(d.p),
  };
});
const bySymbol = args.symbols.flatMap((s) => {
  const har = row('har', s);
  return har ? models.map((m) => ({ model: m, symbol: s, qlike: row(m, s)!.qlike, ratioToHar: row(m, s)!.qlike / har.qlike, dmP: m === 'har' ? null : finiteOrNull(dm(m, s)?.p ?? Number.NaN) })) : [];
});
const spike = summary.spike.filter((x) => x.symbol === 'pooled').map((x) => ({ model: x.model, n: x.n, auc: finiteOrNull(x.auc), brier: finiteOrNull(x.brier), brierSkill: finiteOrNull(x.brierSkill), precision: finiteOrNull(x.precision), recall: finiteOrNull(x.recall), medianLeadTimeH: finiteOrNull(x.medianLeadTimeH) }));

// %% [markdown]
/*
## 4. Figures and the page
*/

// %%
const page = new NotebookPage(args, `Forecast comparison at h = ${horizon}, out of sample`);
page.text(`Walk-forward over origins ${iso(args.fromMs).slice(0, 10)} → ${iso(args.toMs).slice(0, 10)}: ${wf.folds} refits every ${retrainEveryDays} days on an expanding window from ${iso(historyFromMs).slice(0, 10)}, one-horizon embargo, all models scored on the same origins (backend ${backend}${args.small ? '; tiny network' : ''}).`);
page.table(['model', 'pooled QLIKE', 'vs HAR-RV', 'MSE log RV', 'MZ R²', 'coverage q90 / q99', 'DM vs HAR (stat, p)'],
  pooled.map((p) => [p.model, fmt(p.qlike), fmt(p.qlikeRatioToHar, 3), fmt(p.mseLog), fmt(p.mzR2, 3), `${fmt(p.coverage90, 3)} / ${fmt(p.coverage99, 3)}`, p.dmStat === null ? '–' : `${fmt(p.dmStat, 2)}, ${p.dmP === null ? '-' : p.dmP.toExponential(1)}`]));
const best = pooled.reduce((a, b) => (b.qlike < a.qlike ? b : a));
page.text(`Lowest pooled QLIKE: **${best.model}** (${fmt(best.qlikeRatioToHar, 3)} × HAR-RV${best.dmP !== null ? `, DM p = ${best.dmP.toExponential(1)}` : ''}).`);
if (spike.length > 0) page.table(['spike model', 'AUC', 'Brier', 'Brier skill', 'precision', 'recall', 'median lead (h)'], spike.map((x) => [x.model, fmt(x.auc, 3), fmt(x.brier), fmt(x.brierSkill, 3), fmt(x.precision, 2), fmt(x.recall, 2), fmt(x.medianLeadTimeH, 0)]));

await page.figure('qlike-ratio', 'QLIKE of each model relative to HAR-RV, per symbol and pooled (below 1: better than HAR-RV).', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  data: { values: [...bySymbol.filter((b) => b.model !== 'har'), ...pooled.filter((p) => p.model !== 'har').map((p) => ({ model: p.model, symbol: 'pooled', ratioToHar: p.qlikeRatioToHar }))] },
  width: 560, height: 260,
  layer: [
    { mark: { type: 'point', filled: true, size: 60, opacity: 0.55 }, transform: [{ filter: "datum.symbol !== 'pooled'" }], encoding: { x: { field: 'model', type: 'nominal', sort: models, title: null }, y: { field: 'ratioToHar', type: 'quantitative', scale: { zero: false }, title: 'QLIKE / HAR-RV QLIKE' }, color: { field: 'symbol', type: 'nominal' } } },
    { mark: { type: 'tick', thickness: 3, size: 34, color: 'black' }, transform: [{ filter: "datum.symbol === 'pooled'" }], encoding: { x: { field: 'model', type: 'nominal', sort: models }, y: { field: 'ratioToHar', type: 'quantitative' } } },
    { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { datum: 1 } } },
  ],
});

// Forecast against realised volatility for the first symbol: HAR-RV and the best other model, daily.
const first = args.symbols[0]!;
const other = pooled.filter((p) => p.model !== 'har').reduce((a, b) => (b.qlike < a.qlike ? b : a), pooled[0]!).model;
const seriesOf = (m: string): ModelSeries | undefined => wf.series.find((s) => s.model === m && s.symbol === first);
const lines: { date: string; what: string; vol: number }[] = [];
for (const [m, label] of [['har', 'HAR-RV forecast'], [other, `${other} forecast`]] as const) {
  const s = seriesOf(m);
  if (!s) continue;
  for (let i = 0; i < s.originMs.length; i += 24) {
    const f = Math.sqrt(s.forecast[i]!); const r = Math.sqrt(s.realised[i]!);
    if (Number.isFinite(f)) lines.push({ date: iso(s.originMs[i]!), what: label, vol: f });
    if (m === 'har' && Number.isFinite(r)) lines.push({ date: iso(s.originMs[i]!), what: 'realised', vol: r });
  }
}
await page.figure('forecast-vs-realised', `${first}: forecast and realised volatility over the next ${horizon} (√RV, not annualised), at 00:00 UTC origins.`, {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: lines }, width: 800, height: 260,
  mark: { type: 'line', strokeWidth: 1 },
  encoding: {
    x: { field: 'date', type: 'temporal', title: null, axis: { format: '%Y-%m-%d' } }, y: { field: 'vol', type: 'quantitative', scale: { type: 'log', nice: false }, axis: { format: '.1%' }, title: `volatility over ${horizon}` },
    color: { field: 'what', type: 'nominal', title: null, sort: ['realised', 'HAR-RV forecast', `${other} forecast`], scale: { range: ['#999999', '#1f77b4', '#ff7f0e'] }, legend: { orient: 'top' } },
  },
});

const out = page.write({
  config: { horizon, horizonBars: h, models, retrainEveryDays, historyFrom: iso(historyFromMs), folds: wf.folds, backend, seed: 42, smallMl: args.small ? SMALL_ML : null },
  pooled, bySymbol, spike,
  timing: wf.timing.map((t) => ({ model: t.model, fits: t.fits, fitMs: Math.round(t.fitMs), predictMs: Math.round(t.predictMs) })),
}, performance.now() - started);
process.stdout.write(`${out}\n`);
