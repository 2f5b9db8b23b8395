/**
 * The report as one self-contained HTML page: inline CSS, the charts as inline SVG rendered at build time, no
 * scripts, no fonts, images or styles fetched from anywhere (a Content-Security-Policy forbids it). Pure: the SVGs
 * come in rendered (see charts.ts).
 */
import type { Chart } from './charts.ts';
import { BREAKER_COLOURS } from './charts.ts';
import { delta, num, PARAMETER_NAMES, pct, pval, rel, usd, value, when } from './format.ts';
import type { MarketSection, Outcome, PolicyRow, ReportModel } from './model.ts';

/** Escapes text for HTML element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;color:#1b1b1b;margin:0;background:#f6f7f9;line-height:1.45;font-size:14px}
main{max-width:1080px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;border-bottom:2px solid #e3e6ea;padding-bottom:4px}
h3{font-size:16px;margin:24px 0 8px}p.meta{color:#555;margin:0 0 16px}
ul.summary{background:#f1f5fb;border-left:4px solid #08519c;padding:12px 12px 12px 32px;margin:0}
ul.summary li{margin:4px 0}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px}
th,td{border:1px solid #dde1e6;padding:4px 8px;vertical-align:top}
th{background:#f3f4f6;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:bold}
.up{color:#b30000}.down{color:#006d2c}
.published{color:#006d2c}.held{color:#8a5a00}.refused{color:#b30000}.none{color:#666}
figure{margin:14px 0 22px}figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#444;font-size:12.5px;margin-top:4px;max-width:900px}
.why li{margin:3px 0}.small{color:#555;font-size:12.5px}
`;

function table(headers: readonly string[], rows: readonly (readonly string[])[], numericFrom = 1): string {
  const th = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function badge(text: string, colour: string, dark = false): string {
  return `<span class="badge" style="background:${colour};color:${dark ? '#fff' : '#222'}">${esc(text)}</span>`;
}

const ZONE: Readonly<Record<string, string>> = { green: '#a6d96a', yellow: '#fee08b', red: '#f46d43' };

function breakerBadge(state: string): string {
  return badge(state, BREAKER_COLOURS[state] ?? '#ddd', state === 'HALT');
}

function outcome(o: Outcome): string {
  const cls = o.status === 'published' ? 'published' : o.status === 'held' ? 'held' : o.status === 'refused' ? 'refused' : 'none';
  return `<span class="${cls}">${esc(o.status)}</span>${o.detail ? `<br><span class="small">${esc(o.detail)}</span>` : ''}`;
}

/** An outcome inside a sentence: "published (version 2)". */
function outcomeInline(o: Outcome): string {
  const cls = o.status === 'published' ? 'published' : o.status === 'held' ? 'held' : o.status === 'refused' ? 'refused' : 'none';
  return `<span class="${cls}">${esc(o.status)}</span>${o.detail ? ` <span class="small">(${esc(o.detail)})</span>` : ''}`;
}

function signed(text: string, x: number | null): string {
  return x === null || x === 0 ? esc(text) : `<span class="${x > 0 ? 'up' : 'down'}">${esc(text)}</span>`;
}

function figure(c: Chart): string {
  return `<figure id="${esc(c.name)}" class="chart" data-kind="${c.kind}">\n${c.svg}\n<figcaption><strong>${esc(c.title)}.</strong> ${esc(c.caption)}</figcaption>\n</figure>`;
}

function marketHtml(s: MarketSection, charts: readonly Chart[]): string {
  const out: string[] = [`<section class="market" id="market-${esc(s.market)}">`, `<h3>${esc(s.market)} ${breakerBadge(s.circuitBreaker.state)}</h3>`];
  out.push(`<p class="small">As of ${esc(when(s.asOf))}, policy ${esc(s.policy)}, model ${esc(s.forecast.model ?? 'none')}: forecast σ over ${esc(s.forecast.horizon)} ${esc(pct(s.forecast.sigmaH))}, spike probability ${esc(pct(s.forecast.spikeProb, 1))}.</p>`);
  out.push(table(['parameter', 'current', 'recommended', 'change', 'relative', 'outcome'], s.parameters.map((p) => [
    esc(PARAMETER_NAMES[p.parameter] ?? p.parameter), esc(value(p.previous, p.unit)), `<strong>${esc(value(p.recommended, p.unit))}</strong>`,
    signed(delta(p.delta, p.unit), p.delta), signed(rel(p.relative), p.relative), outcome(p.outcome),
  ])).replace(/<td class="n">(<span class="(?:published|held|refused|none)")/g, '<td>$1'));
  out.push('<ul class="why">');
  for (const p of s.parameters) {
    const clip = p.clippedBy.length ? ` <em>Clipped by: ${esc(p.clippedBy.join('; '))}.</em>` : '';
    out.push(`<li><strong>${esc(PARAMETER_NAMES[p.parameter] ?? p.parameter)}</strong> ${esc(value(p.recommended, p.unit))}: ${esc(p.reason)}${clip}</li>`);
  }
  out.push('</ul>');
  const g = s.governor;
  out.push(`<p><strong>Governor:</strong> maintenance margin in force ${esc(pct(g.inForce, 3))}; ${g.change ? `announced step ${esc(pct(g.change.from, 3))} → ${esc(pct(g.change.to, 3))}, announced ${esc(when(g.change.announcedAt))}, effective ${esc(when(g.change.effectiveAt))}.` : 'no step announced.'}</p>`);
  const t = s.leverageTiers;
  out.push(`<p><strong>Leverage tiers</strong> (${esc(t.changed ? (t.previous ? 'changed' : 'no live tiers before') : 'unchanged')}; ${outcomeInline(t.outcome)})</p>`);
  out.push(table(['position up to', 'maintenance', 'initial', 'max leverage'], t.recommended.map((x) => [
    esc(x.maxNotionalUsd === null ? 'any size' : usd(x.maxNotionalUsd)), esc(pct(x.maintenanceMarginRatio, 3)), esc(pct(x.initialMarginRatio, 3)), esc(`${x.maxLeverage}×`),
  ])));
  const cb = s.circuitBreaker;
  const was = cb.previous === null ? 'no live state before' : cb.previous === cb.state ? 'unchanged' : `was ${cb.previous}`;
  out.push(`<p><strong>Circuit breaker:</strong> ${breakerBadge(cb.state)} (${esc(was)}; ${outcomeInline(cb.outcome)}). Blocks: ${esc(cb.blocked.length ? cb.blocked.join(', ') : 'nothing')}.</p>`);
  if (cb.reasons.length) out.push(`<ul>${cb.reasons.map((r) => `<li>${esc(r.text)}</li>`).join('')}</ul>`);
  for (const c of charts.filter((x) => x.market === s.market)) out.push(figure(c));
  out.push('</section>');
  return out.join('\n');
}

function policyRows(rows: readonly PolicyRow[], chosen: string, withSymbol: boolean): string[][] {
  return rows.map((r) => [
    ...(withSymbol ? [esc(r.symbol)] : []), r.policy === chosen ? `<strong>${esc(r.policy)}</strong>` : esc(r.policy), String(r.observations), esc(pct(r.breachRate)),
    esc(pval(r.kupiecP)), esc(pval(r.christoffersenP)), badge(r.baselZone, ZONE[r.baselZone] ?? '#ddd'), esc(pct(r.meanMarginRatio, 3)), esc(rel(r.maxIncrease30d)),
    esc(num(r.peakToTrough, 2)), esc(usd(r.badDebtUsd)), String(r.healthyLiquidatedByChange),
  ]);
}

const POLICY_HEADERS = ['policy', 'horizons', 'breach rate', 'Kupiec p', 'Christoffersen p', 'Basel zone', 'mean margin', 'max 30-day increase', 'peak/trough', 'bad debt (p95)', 'healthy liquidated'];

/** Renders the report model and its rendered charts as one self-contained HTML document. */
export function renderHtml(m: ReportModel, charts: readonly Chart[]): string {
  const o: string[] = [];
  const title = `Risk report: ${m.policy.name} margin policy, run ${m.run.id}`;
  o.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', '<meta name="viewport" content="width=device-width, initial-scale=1">');
  o.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  o.push(`<title>${esc(title)}</title>`, `<style>${CSS}</style>`, '</head>', '<body>', '<main>');
  o.push(`<h1>${esc(title)}</h1>`);
  o.push(`<p class="meta">Pipeline ${esc(m.run.pipeline ?? '(ad hoc)')} · ${esc(m.markets.map((s) => s.market).join(', '))} · ${esc(m.policy.interval)} bars from ${esc(m.policy.venue)} · data to ${esc(when(m.run.dataWatermark))}</p>`);
  o.push('<h2>Summary</h2>', '<ul class="summary">', ...m.summary.map((s) => `<li>${esc(s)}</li>`), '</ul>');

  o.push('<h2>Trade-offs against the alternatives</h2>', '<ul>', ...m.tradeoffs.map((t) => `<li>${esc(t)}</li>`), '</ul>');
  for (const c of charts.filter((x) => x.kind === 'policies')) o.push(figure(c));
  o.push('<h2>Current vs recommended, per market</h2>');
  o.push(`<p class="small">"Current" is the value live in the parameter store before this run (— where none was published). Ratios are percent of notional, the oracle buffer is in basis points. Confidence ${m.policy.confidence}, liquidation horizon ${esc(m.policy.horizon)}.</p>`);
  for (const s of m.markets) o.push(marketHtml(s, charts));

  o.push('<h2>What the parameter store did</h2>');
  const p = m.publication;
  if (!p) o.push('<p>The run did not publish: nothing was proposed to the parameter store.</p>');
  else {
    o.push(`<p>${p.proposed} updates proposed, ${p.published.length} published, ${p.held.length} held back, ${p.refused.length} refused by the guard rails.</p>`);
    if (p.refused.length) o.push('<h3>Refused</h3>', table(['update', 'market', 'parameter', 'rule', 'why'], p.refused.map((r) => [`#${r.updateId}`, esc(r.market ?? '—'), esc(r.updateType ?? '—'), esc(r.rule), esc(r.message)]), 9));
    if (p.held.length) o.push('<h3>Held back</h3>', table(['update', 'market', 'parameter', 'reason'], p.held.map((r) => [`#${r.updateId}`, esc(r.market ?? '—'), esc(r.updateType ?? '—'), esc(r.reason)]), 9));
    if (p.published.length) o.push('<h3>Published</h3>', table(['update', 'market', 'parameter', 'version'], p.published.map((r) => [`#${r.updateId}`, esc(r.market), esc(r.updateType), r.version === null ? '—' : String(r.version)]), 3));
  }

  o.push('<h2>Validation</h2>', '<h3>Coverage over the calibration window</h3>');
  o.push(`<p class="small">Out of sample, non-overlapping ${esc(m.policy.horizon)} horizons: a breach is an adverse excursion plus the liquidation cost above the margin in force. Target breach rate ${esc(pct(1 - m.policy.confidence))}.</p>`);
  o.push(table(['market', 'horizons', 'breaches', 'breach rate', 'target', 'Kupiec p'], m.markets.map((s) => [
    esc(s.market), String(s.coverage.observations), String(s.coverage.breaches), esc(pct(s.coverage.breachRate)), esc(pct(s.coverage.expectedRate)), esc(pval(s.coverage.kupiecP)),
  ])));
  const bt = m.backtest;
  if (bt) {
    o.push('<h3>Policy comparison (backtest)</h3>');
    o.push(`<p class="small">Walk-forward from ${esc(when(bt.from))} to ${esc(when(bt.to))} on ${esc(bt.symbols.join(', '))}, confidence ${bt.confidence}, horizon ${esc(bt.horizon)}, ${bt.folds} refits, seed ${bt.seed}. Stress episodes: ${esc(bt.episodes.length ? bt.episodes.map((e) => `${e.name} (${e.from.slice(0, 10)} – ${e.to.slice(0, 10)})`).join(', ') : 'none')}. Pooled over markets:</p>`);
    o.push(table(POLICY_HEADERS, policyRows(bt.pooled, m.policy.name, false)));
    if (bt.perMarket.length) o.push('<p class="small">Per market:</p>', table(['market', ...POLICY_HEADERS], policyRows(bt.perMarket, m.policy.name, true), 2));
  } else o.push('<p>No backtest ran with this report.</p>');

  const r = m.run;
  o.push('<h2>Run</h2>', table(['field', 'value'], [
    ['run id', r.id], ['pipeline', r.pipeline ?? '—'], ['status', r.status], ['started', when(r.startedAt)], ['ended', when(r.endedAt)],
    ['config hash', r.configHash ?? '—'], ['git sha', r.gitSha ?? '—'], ['seed', r.seed === null ? '—' : String(r.seed)], ['data watermark', when(r.dataWatermark)],
    ['policy', m.policy.name], ['model', m.policy.model ?? 'none'], ['venue, interval', `${m.policy.venue}, ${m.policy.interval}`], ['report model version', String(m.version)],
  ].map(([k, v]) => [esc(k!), esc(v!)]), 9));
  o.push('</main>', '</body>', '</html>');
  return `${o.join('\n')}\n`;
}
