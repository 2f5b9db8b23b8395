// %% [markdown]
/*
# 01 — Volatility regimes around the stress episodes

How volatile were the eight Binance spot markets of the shared data, how often were they in a stressed regime,
and what did the stress episodes that every margin policy is judged on look like hour by hour?

- **Realised volatility**: the 24h realised variance (Σ of the last 24 squared hourly log returns, the
  `rv_1d` feature), shown annualised as √(365 · RV).
- **Regime** of an hour: its 24h RV against the trailing 30-day median of 24h RV — *calm* below the median,
  *elevated* up to twice it, *stressed* above twice it (the k = 2 of liqcal's spike definition, here applied
  to the RV just realised rather than the forward RV).
- **Episodes**: liqcal's stress dates (`STRESS_DATES`), ±14 days. The spot 1h files start on 2022-01-01; the
  2020-03-12 and 2021-05-19 episodes are read from the USDT-M perpetual 1h files (BTC ETH SOL BNB DOGE LINK
  AVAX; no XRP), which start on 2020-01-01.

Run: `node --import tsx notebooks/01-volatility-regimes.ts [--symbols BTCUSDT,ETHUSDT] [--from 2024-07-01]
[--to 2024-09-01] [--out DIR]` — by default all 8 symbols, 2020-01-01 → 2025-11-01.
*/

// %%
import { iso, loadFeatureFrames, rollingMedian, STRESS_DATES, type FeatureFrame } from '../src/index.ts';
import { fmt, importPerp, importSpot, memoryStore, NotebookPage, notebookArgs, pct, SPOT_START_MS, SPOT_SYMBOLS } from './lib/notebook.ts';

const started = performance.now();
const args = notebookArgs('01-volatility-regimes', { symbols: SPOT_SYMBOLS, from: '2020-01-01', to: '2025-11-01' });
const DAY_MS = 86_400_000;
const HALF_WINDOW_DAYS = 14;
const BASELINE_DAYS = 30;
const STRESS_K = 2;

// %% [markdown]
/*
## 1. Data

Spot bars for the part of the period from 2022 on, perpetual bars before it; a month of history before the
start feeds the first trailing medians. Each symbol's hourly series is the perpetual's up to 2022-01-01 and
the spot market's after.
*/

// %%
const { store, md } = memoryStore();
const loadFrom = args.fromMs - (BASELINE_DAYS + 2) * DAY_MS;
const needsPerp = loadFrom < SPOT_START_MS;
const needsSpot = args.toMs > SPOT_START_MS;
if (needsSpot) await importSpot(md, args.symbols, loadFrom, args.toMs);
const perpSymbols = needsPerp ? await importPerp(md, args.symbols) : [];

/** One symbol's hourly series: time, log return, 24h RV, and which market it came from. */
interface HourlySeries {
  symbol: string; timeMs: Float64Array; r: Float64Array; rv: Float64Array;
  /** Per-day average RV over the last 7 days (`rv_1w`), for the smoothed history. */
  rvWeek: Float64Array;
  /** Low of the bar against the previous close, minus 1: the deepest move inside the hour. */
  lowMove: Float64Array;
  source: string[];
}

function concatFrames(symbol: string, parts: { frame: FeatureFrame; source: string; untilMs: number }[]): HourlySeries {
  const t: number[] = []; const r: number[] = []; const rv: number[] = []; const rvWeek: number[] = []; const lowMove: number[] = []; const source: string[] = [];
  for (const p of parts) {
    const f = p.frame;
    for (let i = 0; i < f.timeMs.length; i++) {
      const tm = f.timeMs[i]!;
      if (tm >= p.untilMs || (t.length > 0 && tm <= t[t.length - 1]!)) continue;
      t.push(tm); r.push(f.columns.r![i]!); rv.push(f.columns.rv_1d![i]!); rvWeek.push(f.columns.rv_1w![i]!); source.push(p.source);
      lowMove.push(i > 0 ? f.bars.low[i]! / f.bars.close[i - 1]! - 1 : Number.NaN);
    }
  }
  return { symbol, timeMs: Float64Array.from(t), r: Float64Array.from(r), rv: Float64Array.from(rv), rvWeek: Float64Array.from(rvWeek), lowMove: Float64Array.from(lowMove), source };
}

const series: HourlySeries[] = args.symbols.map((symbol) => {
  const parts: { frame: FeatureFrame; source: string; untilMs: number }[] = [];
  if (perpSymbols.includes(symbol)) {
    const [f] = loadFeatureFrames(md, { venue: 'binance-usdm', symbols: [symbol], interval: '1h', fromMs: loadFrom, toMs: Math.min(args.toMs, SPOT_START_MS) });
    if (f) parts.push({ frame: f, source: 'binance-usdm perp', untilMs: needsSpot ? SPOT_START_MS : args.toMs });
  }
  if (needsSpot) {
    const [f] = loadFeatureFrames(md, { venue: 'binance-spot', symbols: [symbol], interval: '1h', fromMs: Math.max(loadFrom, SPOT_START_MS), toMs: args.toMs });
    if (f) parts.push({ frame: f, source: 'binance-spot', untilMs: args.toMs });
  }
  return concatFrames(symbol, parts);
});
store.close();
const annualVol = (rv: number): number => Math.sqrt(365 * rv);

// %% [markdown]
/*
## 2. Regimes

The ratio of each hour's 24h RV to the median 24h RV of the trailing 30 days, and the share of hours in each
regime over the period.
*/

// %%
type Regime = 'calm' | 'elevated' | 'stressed';
const REGIMES: readonly Regime[] = ['calm', 'elevated', 'stressed'];
const regimeOf = (ratio: number): Regime | undefined => (!Number.isFinite(ratio) ? undefined : ratio < 1 ? 'calm' : ratio < STRESS_K ? 'elevated' : 'stressed');

const ratios = new Map(series.map((s) => {
  const med = rollingMedian(s.rv, BASELINE_DAYS * 24, BASELINE_DAYS * 12);
  return [s.symbol, Float64Array.from(s.rv, (v, i) => v / med[i]!)];
}));

function regimeShares(s: HourlySeries, fromMs: number, toMs: number): Record<Regime, number> & { hours: number } {
  const counts: Record<Regime, number> = { calm: 0, elevated: 0, stressed: 0 };
  let n = 0;
  const ratio = ratios.get(s.symbol)!;
  for (let i = 0; i < s.timeMs.length; i++) {
    if (s.timeMs[i]! < fromMs || s.timeMs[i]! >= toMs) continue;
    const g = regimeOf(ratio[i]!);
    if (g) { counts[g]++; n++; }
  }
  return { calm: n ? counts.calm / n : 0, elevated: n ? counts.elevated / n : 0, stressed: n ? counts.stressed / n : 0, hours: n };
}

const shares = series.map((s) => ({ symbol: s.symbol, ...regimeShares(s, args.fromMs, args.toMs) }));
const pooledHours = shares.reduce((a, s) => a + s.hours, 0);
const pooledShares = Object.fromEntries(REGIMES.map((g) => [g, pooledHours ? shares.reduce((a, s) => a + s[g] * s.hours, 0) / pooledHours : 0])) as Record<Regime, number>;

// %% [markdown]
/*
## 3. Stress episodes

For each episode in the period and each symbol with bars then: the 30-day baseline (median annualised 24h
volatility before the window), the peak inside ±14 days and its ratio to the baseline, the largest one-hour
close-to-close move, the deepest intrabar low against the previous close (what a long position lived through
inside the hour), and the share of the window's hours in the stressed regime.
*/

// %%
const episodes = STRESS_DATES.map((e) => ({ ...e, atMs: Date.parse(`${e.date}T00:00:00Z`) })).filter((e) => e.atMs >= args.fromMs && e.atMs < args.toMs);

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const episodeRows = episodes.flatMap((e) => series.flatMap((s) => {
  const w0 = Math.max(args.fromMs, e.atMs - HALF_WINDOW_DAYS * DAY_MS);
  const w1 = Math.min(args.toMs, e.atMs + HALF_WINDOW_DAYS * DAY_MS);
  const base: number[] = [];
  let peak = Number.NaN; let peakAt = Number.NaN; let move = Number.NaN; let moveAt = Number.NaN; let source = '';
  let low = Number.NaN; let lowAt = Number.NaN;
  for (let i = 0; i < s.timeMs.length; i++) {
    const t = s.timeMs[i]!;
    if (t >= w0 - BASELINE_DAYS * DAY_MS && t < w0) base.push(annualVol(s.rv[i]!));
    if (t < w0 || t >= w1) continue;
    const v = annualVol(s.rv[i]!);
    if (Number.isFinite(v) && !(v <= peak)) { peak = v; peakAt = t; }
    const m = s.r[i]!;
    if (Number.isFinite(m) && !(Math.abs(m) <= Math.abs(move))) { move = m; moveAt = t; source = s.source[i]!; }
    const l = s.lowMove[i]!;
    if (Number.isFinite(l) && !(l >= low)) { low = l; lowAt = t; }
  }
  if (!Number.isFinite(peak)) return [];
  const baseline = median(base);
  const stressed = regimeShares(s, w0, w1).stressed;
  return [{ episode: e.name, symbol: s.symbol, source, baselineVol: baseline, peakVol: peak, peakAt: iso(peakAt), peakToBaseline: peak / baseline, maxHourMove: Math.expm1(move), maxHourMoveAt: iso(moveAt), deepestIntrabarLow: low, deepestIntrabarLowAt: iso(lowAt), stressedShare: stressed }];
}));

// %% [markdown]
/*
## 4. Figures and the page
*/

// %%
const page = new NotebookPage(args, 'Volatility regimes around the stress episodes');
page.text(`Annualised 24h realised volatility √(365 · RV₂₄ₕ) of hourly log returns; regimes by the ratio of RV₂₄ₕ to its trailing 30-day median (calm < 1 ≤ elevated < ${STRESS_K} ≤ stressed). Bars before 2022-01-01 are Binance USDT-M perpetual bars (${perpSymbols.join(', ') || 'none in this slice'}); from 2022 on, Binance spot.`);

// Weekly volatility (√(365 · per-day RV averaged over 7 days)) at each UTC day close: smooth enough to compare 8 markets.
const daily = series.flatMap((s) => {
  const out: { symbol: string; date: string; vol: number }[] = [];
  for (let i = 0; i < s.timeMs.length; i++) {
    const t = s.timeMs[i]!;
    if (t < args.fromMs || t >= args.toMs || (t + 3_600_000) % DAY_MS !== 0) continue;
    const v = annualVol(s.rvWeek[i]!);
    if (Number.isFinite(v) && v > 0) out.push({ symbol: s.symbol, date: iso(t), vol: v });
  }
  return out;
});
const episodeRules = episodes.map((e) => {
  const d = new Date(e.atMs);
  return { mark: { type: 'rule' as const, color: '#c00', strokeDash: [4, 3] }, encoding: { x: { datum: { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, date: d.getUTCDate() }, type: 'temporal' as const } } };
});
await page.figure('vol-history', 'Annualised realised volatility over the trailing week, at each UTC day close, per market; the dashed rules mark the stress episodes.', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: daily },
  facet: { row: { field: 'symbol', type: 'nominal', title: null, sort: [...args.symbols] } },
  spec: {
    width: 900, height: 70,
    layer: [
      { mark: { type: 'line', strokeWidth: 1 }, encoding: { x: { field: 'date', type: 'temporal', title: null, axis: { format: '%Y-%m' } }, y: { field: 'vol', type: 'quantitative', scale: { type: 'log', nice: false }, axis: { format: '.0%', values: [0.25, 0.5, 1, 2, 4] }, title: 'weekly vol' } } },
      ...episodeRules,
    ],
  },
});

if (episodes.length > 0) {
  const around = episodes.flatMap((e) => series.flatMap((s) => {
    const pts: { episode: string; symbol: string; day: number; vol: number }[] = [];
    for (let i = 0; i < s.timeMs.length; i += 2) {
      const d = (s.timeMs[i]! - e.atMs) / DAY_MS;
      const v = annualVol(s.rv[i]!);
      if (Math.abs(d) <= HALF_WINDOW_DAYS && s.timeMs[i]! >= args.fromMs && s.timeMs[i]! < args.toMs && Number.isFinite(v) && v > 0) pts.push({ episode: e.name, symbol: s.symbol, day: d, vol: v });
    }
    return pts;
  }));
  await page.figure('episodes', `Annualised 24h realised volatility (every 2 h) from ${HALF_WINDOW_DAYS} days before to ${HALF_WINDOW_DAYS} days after each stress date (day 0).`, {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: around }, columns: 2,
    facet: { field: 'episode', type: 'nominal', title: null, sort: episodes.map((e) => e.name) },
    spec: { width: 420, height: 200, mark: { type: 'line', strokeWidth: 1 }, encoding: { x: { field: 'day', type: 'quantitative', title: 'days from the stress date' }, y: { field: 'vol', type: 'quantitative', scale: { type: 'log' }, axis: { format: '.0%' }, title: 'annualised 24h vol' }, color: { field: 'symbol', type: 'nominal' } } },
  });
}

await page.figure('regimes', 'Share of hours in each regime over the period.', {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 600, height: { step: 22 },
  data: { values: shares.flatMap((s) => REGIMES.map((g) => ({ symbol: s.symbol, regime: g, share: s[g] }))) },
  mark: 'bar',
  encoding: {
    y: { field: 'symbol', type: 'nominal', title: null }, x: { field: 'share', type: 'quantitative', stack: 'normalize', axis: { format: '.0%' }, title: 'share of hours' },
    color: { field: 'regime', type: 'nominal', sort: [...REGIMES], scale: { domain: [...REGIMES], range: ['#9ecae1', '#fdae6b', '#d62728'] } },
    order: { field: 'regimeOrder', type: 'quantitative' },
  },
  transform: [{ calculate: "indexof(['calm','elevated','stressed'], datum.regime)", as: 'regimeOrder' }],
});

page.text('## Regime shares');
page.table(['symbol', 'hours', 'calm', 'elevated', 'stressed'], [...shares.map((s) => [s.symbol, s.hours, pct(s.calm, 1), pct(s.elevated, 1), pct(s.stressed, 1)]), ['pooled', pooledHours, pct(pooledShares.calm, 1), pct(pooledShares.elevated, 1), pct(pooledShares.stressed, 1)]]);
page.text('## Stress episodes');
if (episodeRows.length === 0) page.text('No stress date falls inside this period.');
else {
  page.table(['episode', 'symbol', 'market', '30-day baseline vol', 'peak 24h vol', 'peak / baseline', 'largest 1h close-to-close', 'deepest intrabar low', 'stressed hours'],
    episodeRows.map((r) => [r.episode, r.symbol, r.source, pct(r.baselineVol, 0), `${pct(r.peakVol, 0)} (${r.peakAt.slice(0, 13)}h)`, fmt(r.peakToBaseline, 1), `${pct(r.maxHourMove, 1)} (${r.maxHourMoveAt.slice(0, 13)}h)`, `${pct(r.deepestIntrabarLow, 1)} (${r.deepestIntrabarLowAt.slice(0, 13)}h)`, pct(r.stressedShare, 0)]));
  const worst = episodeRows.reduce((a, b) => (b.peakToBaseline > a.peakToBaseline ? b : a));
  const gap = episodeRows.reduce((a, b) => (b.deepestIntrabarLow < a.deepestIntrabarLow ? b : a));
  page.text(`The sharpest jump in volatility: ${worst.symbol} in ${worst.episode}, ${fmt(worst.peakToBaseline, 1)} × its 30-day baseline (peak ${pct(worst.peakVol, 0)} annualised). The deepest fall inside one hour: ${gap.symbol} ${pct(gap.deepestIntrabarLow, 1)} from the previous close to the low of the ${gap.deepestIntrabarLowAt.slice(0, 13)}h bar (${gap.episode}; close to close ${pct(gap.maxHourMove, 1)} at most) — a gap that no hourly margin update can react to.`);
}

const out = page.write({
  regimeDefinition: { ratio: 'rv24h / trailing 30-day median of rv24h', calmBelow: 1, stressedFrom: STRESS_K },
  regimeShares: { bySymbol: shares, pooled: { ...pooledShares, hours: pooledHours } },
  episodes: episodeRows,
}, performance.now() - started);
process.stdout.write(`${out}\n`);
