/**
 * The report's charts as vega-lite specs, rendered to SVG at build time (vega's headless 'none' renderer, no
 * browser, no scripts in the output): per market (1) forecast vs realised volatility, (2) maintenance margin with
 * its breaches, (3) spike probability over the circuit-breaker states; and (4) the policy comparison when the run
 * has a backtest. Times on the x axes are UTC; volatility and margins are in percent of notional.
 */
import type { TopLevelSpec } from 'vega-lite';
import { pct } from './format.ts';
import type { ChartSeries, ReportModel } from './model.ts';

/** One rendered chart: a file-safe name, its title, the caption shown under it, and the SVG document. */
export interface Chart {
  readonly name: string;
  readonly kind: 'volatility' | 'margin' | 'spike' | 'policies';
  readonly market: string | null;
  readonly title: string;
  readonly caption: string;
  readonly svg: string;
}

/** A chart before rendering: its vega-lite spec. */
export interface ChartSpec extends Omit<Chart, 'svg'> {
  readonly spec: TopLevelSpec;
}

const WIDTH = 760;
const HEIGHT = 240;
const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';
/** Circuit-breaker state colours (bands), from calm to halted. */
export const BREAKER_COLOURS: Readonly<Record<string, string>> = { NORMAL: '#d9f0d3', CAUTION: '#fee08b', REDUCE_ONLY: '#fdae61', HALT: '#d73027' };

const CONFIG = {
  font: FONT,
  background: 'white',
  title: { anchor: 'start', fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555' },
  axis: { labelFontSize: 10, titleFontSize: 11, gridColor: '#eee' },
  legend: { labelFontSize: 10, titleFontSize: 11, orient: 'top', labelLimit: 400 },
  view: { stroke: '#ccc' },
} as const;

const timeX = { field: 't', type: 'temporal', title: 'time (UTC)', scale: { type: 'utc' }, axis: { format: '%d %b %Y', labelAngle: 0, tickCount: 8 } } as const;

function base(title: string, subtitle: string): Record<string, unknown> {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: WIDTH, height: HEIGHT, title: { text: title, subtitle }, config: CONFIG, padding: 8 };
}

function period(s: ChartSeries): string {
  const d = (t: number | undefined): string => (t === undefined ? '—' : new Date(t).toISOString().slice(0, 10));
  return `${d(s.timeMs[0])} – ${d(s.timeMs.at(-1))} UTC, ${s.timeMs.length === s.sourcePoints ? `${s.sourcePoints} hourly decisions` : `${s.timeMs.length} of ${s.sourcePoints} hourly decisions shown`}`;
}

function volatilitySpec(m: ReportModel, s: ChartSeries): ChartSpec {
  const h = m.policy.horizon;
  const values: { t: number; series: string; v: number }[] = [];
  const fc = `forecast σ over ${h}`;
  const re = `realised σ over the next ${h}`;
  s.timeMs.forEach((t, i) => {
    const f = s.sigmaH[i];
    const r = s.realisedSigmaH[i];
    if (f !== null && f !== undefined) values.push({ t, series: fc, v: f * 100 });
    if (r !== null && r !== undefined) values.push({ t, series: re, v: r * 100 });
  });
  const title = `${s.market}: forecast vs realised volatility`;
  return {
    name: `${s.market}-volatility`, kind: 'volatility', market: s.market, title,
    caption: `The ${m.policy.model ?? m.policy.name} forecast of σ (standard deviation of the log return) over the ${h} liquidation horizon at each hourly decision, against the σ realised over the ${h} that followed. ${period(s)}.`,
    spec: {
      ...base(title, `policy ${m.policy.name}, model ${m.policy.model ?? 'none'}`),
      data: { values },
      mark: { type: 'line', strokeWidth: 1, interpolate: 'linear' },
      encoding: {
        x: timeX,
        y: { field: 'v', type: 'quantitative', title: `σ over ${h} (% of price)` },
        color: { field: 'series', type: 'nominal', title: null, scale: { domain: [re, fc], range: ['#9ecae1', '#08519c'] } },
      },
    } as TopLevelSpec,
  };
}

function marginSpec(m: ReportModel, s: ChartSeries): ChartSpec {
  const line = s.timeMs.flatMap((t, i) => (s.margin[i] === null || s.margin[i] === undefined ? [] : [{ t, v: s.margin[i]! * 100 }]));
  const breaches = s.breachTimeMs.flatMap((t, i) => (s.breachMargin[i] === null || s.breachMargin[i] === undefined ? [] : [{ t, v: s.breachMargin[i]! * 100, kind: 'breach' }]));
  const title = `${s.market}: maintenance margin and its breaches`;
  return {
    name: `${s.market}-margin`, kind: 'margin', market: s.market, title,
    caption: `The maintenance margin the ${m.policy.name} policy had in force at each decision (a step line), and in red every decision at which the adverse excursion over the next ${m.policy.horizon} plus the liquidation cost exceeded it: ${s.breachTimeMs.length} breach${s.breachTimeMs.length === 1 ? '' : 'es'} at hourly decisions (overlapping horizons; the validation counts non-overlapping ones). ${period(s)}.`,
    spec: {
      ...base(title, `${s.breachTimeMs.length} breach${s.breachTimeMs.length === 1 ? '' : 'es'} marked`),
      layer: [
        { data: { values: line }, mark: { type: 'line', interpolate: 'step-after', color: '#08519c', strokeWidth: 1.5 }, encoding: { x: timeX, y: { field: 'v', type: 'quantitative', title: 'margin (% of notional)', scale: { zero: false } } } },
        {
          data: { values: breaches.length ? breaches : [{ t: s.timeMs[0] ?? 0, v: null, kind: 'breach' }] },
          mark: { type: 'point', shape: 'triangle-down', filled: true, size: 40, color: '#cb181d' },
          encoding: { x: timeX, y: { field: 'v', type: 'quantitative' }, opacity: breaches.length ? { value: 1 } : { value: 0 } },
        },
      ],
    } as TopLevelSpec,
  };
}

function spikeSpec(m: ReportModel, s: ChartSeries): ChartSpec {
  const points = s.timeMs.flatMap((t, i) => (s.spikeProb[i] === null || s.spikeProb[i] === undefined ? [] : [{ t, v: s.spikeProb[i]! * 100 }]));
  const bands = s.breakerBands.map((b) => ({ t: b.fromMs, t2: b.toMs, state: b.state }));
  const states = Object.keys(BREAKER_COLOURS);
  const title = `${s.market}: spike probability and circuit-breaker state`;
  const counts = states.map((st) => [st, s.breakerBands.filter((b) => b.state === st).reduce((a, b) => a + (b.toMs - b.fromMs), 0)] as const);
  const total = counts.reduce((a, [, v]) => a + v, 0);
  const shares = counts.filter(([, v]) => v > 0).map(([st, v]) => `${st} ${pct(total > 0 ? v / total : null, 1)}`).join(', ');
  return {
    name: `${s.market}-spike`, kind: 'spike', market: s.market, title,
    caption: `The forecast probability of a volatility spike (next 24 h realised variance above twice its trailing 30-day median) at each decision${points.length === 0 ? ' — this policy has no spike forecast, so only the breaker states are shown' : ''}, over the circuit-breaker state the market was in under the ${m.policy.name} policy (coloured bands; time share: ${shares || 'none'}). ${period(s)}.`,
    spec: {
      ...base(title, points.length ? 'bands: circuit-breaker state' : 'no spike forecast for this policy; bands: circuit-breaker state'),
      layer: [
        {
          data: { values: bands },
          mark: { type: 'rect', opacity: 0.6 },
          encoding: {
            x: timeX, x2: { field: 't2' },
            color: { field: 'state', type: 'nominal', title: 'circuit breaker', scale: { domain: states, range: states.map((st) => BREAKER_COLOURS[st]!) } },
          },
        },
        {
          data: { values: points.length ? points : [{ t: s.timeMs[0] ?? 0, v: 0 }] },
          mark: { type: 'line', color: '#54278f', strokeWidth: 1, opacity: points.length ? 1 : 0 },
          encoding: { x: timeX, y: { field: 'v', type: 'quantitative', title: 'spike probability (%)', scale: { domain: [0, 100] } } },
        },
      ],
    } as TopLevelSpec,
  };
}

function policiesSpec(m: ReportModel): ChartSpec | null {
  const bt = m.backtest;
  if (!bt || bt.pooled.length === 0) return null;
  const rows = bt.pooled.map((r) => ({
    policy: r.policy, margin: (r.meanMarginRatio ?? Number.NaN) * 100, breach: (r.breachRate ?? Number.NaN) * 100,
    debt: r.badDebtUsd ?? 0, zone: r.baselZone, chosen: r.policy === m.policy.name ? 'recommended' : 'alternative',
  }));
  const target = (1 - bt.confidence) * 100;
  const title = 'Policy comparison: capital, coverage and bad debt';
  const zones = { domain: ['green', 'yellow', 'red'], range: ['#1a9850', '#d9a400', '#d73027'] };
  return {
    name: 'policies', kind: 'policies', market: null, title,
    caption: `Each policy of the backtest pooled over ${bt.symbols.join(', ')} from ${bt.from.slice(0, 10)} to ${bt.to.slice(0, 10)}: mean maintenance margin (capital) against the breach rate at non-overlapping ${bt.horizon} horizons, coloured by Basel traffic-light zone, with the ${target.toFixed(1)} % target as a dashed line; and the bad debt of the stress replay (95th percentile over seeds, summed over episodes and markets). Lower-left is cheaper and safer; the recommended policy (${m.policy.name}) is ringed.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: { text: title, subtitle: `pooled over ${bt.symbols.length} markets, ${bt.from.slice(0, 10)} – ${bt.to.slice(0, 10)}` }, config: CONFIG, padding: 8,
      data: { values: rows },
      hconcat: [
        {
          width: 400, height: 260,
          layer: [
            { mark: { type: 'rule', strokeDash: [4, 4], color: '#777' }, data: { values: [{ x: target }] }, encoding: { x: { field: 'x', type: 'quantitative' } } },
            {
              mark: { type: 'point', filled: true, size: 110 },
              encoding: {
                x: { field: 'breach', type: 'quantitative', title: `breach rate (% of ${bt.horizon} horizons)`, scale: { zero: true, padding: 16 } },
                y: { field: 'margin', type: 'quantitative', title: 'mean maintenance margin (% of notional)', scale: { zero: false, padding: 16 } },
                color: { field: 'zone', type: 'nominal', title: 'Basel zone', scale: zones },
              },
            },
            { mark: { type: 'point', size: 380, strokeWidth: 2, color: '#222' }, transform: [{ filter: "datum.chosen === 'recommended'" }], encoding: { x: { field: 'breach', type: 'quantitative' }, y: { field: 'margin', type: 'quantitative' } } },
            { mark: { type: 'text', dx: 9, align: 'left', fontSize: 11 }, encoding: { x: { field: 'breach', type: 'quantitative' }, y: { field: 'margin', type: 'quantitative' }, text: { field: 'policy' } } },
          ],
        },
        {
          width: 280, height: 260,
          mark: { type: 'bar' },
          encoding: {
            y: { field: 'policy', type: 'nominal', title: 'policy', sort: null },
            x: { field: 'debt', type: 'quantitative', title: 'bad debt in the stress replay (USD)' },
            color: { field: 'chosen', type: 'nominal', title: null, scale: { domain: ['recommended', 'alternative'], range: ['#08519c', '#9ecae1'] } },
          },
        },
      ],
      resolve: { scale: { color: 'independent' } },
    } as TopLevelSpec,
  };
}

/** The specs of every chart of the model, in report order: per market volatility, margin, spike; then the policies. */
export function chartSpecs(model: ReportModel): ChartSpec[] {
  const out: ChartSpec[] = [];
  for (const s of model.series) out.push(volatilitySpec(model, s), marginSpec(model, s), spikeSpec(model, s));
  const p = policiesSpec(model);
  if (p) out.push(p);
  return out;
}

/**
 * Makes the ids of an SVG document unique to `prefix` and independent of vega's process-wide counters (clip paths,
 * gradients), so several charts can be inlined in one page and the output is the same on every render.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(m[1]!)) ids.set(m[1]!, `${prefix}-${ids.size + 1}`);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_, a: string, id: string, c: string) => `${a}${ids.get(id) ?? id}${c}`)
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : all))
    .replace(/(href=")#([^"]+)(")/g, (all, a: string, id: string, c: string) => (ids.has(id) ? `${a}#${ids.get(id)}${c}` : all));
}

/** Renders one vega-lite spec to an SVG document with vega's headless renderer. */
export async function renderSvg(spec: TopLevelSpec, prefix = 'c'): Promise<string> {
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return scopeSvgIds(await view.toSVG(), prefix);
  } finally {
    view.finalize();
  }
}

/** Renders every chart of the model to SVG (see {@link chartSpecs}). */
export async function renderCharts(model: ReportModel): Promise<Chart[]> {
  const out: Chart[] = [];
  for (const [i, c] of chartSpecs(model).entries()) {
    const { spec, ...rest } = c;
    out.push({ ...rest, svg: await renderSvg(spec, `chart${i + 1}`) });
  }
  return out;
}
