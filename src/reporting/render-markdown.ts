/**
 * The report as Markdown ready to post in a governance forum: a short summary first, then per market the current
 * (live before the run) vs recommended parameters with the change, the reason and the bounds that clipped it, the
 * circuit breaker, what the parameter store did, the validation and the trade-offs. Plain CommonMark/GFM tables,
 * no HTML. Pure.
 */
import { delta, num, PARAMETER_NAMES, pct, pval, rel, usd, value, when } from './format.ts';
import type { MarketSection, Outcome, PolicyRow, ReportModel } from './model.ts';

/** Escapes text for a GFM table cell (pipes, line breaks). */
export function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GFM table; `align` has one letter per column, l (left) or r (right; the default after the first column). */
export function mdTable(headers: readonly string[], rows: readonly (readonly string[])[], align = 'l'): string {
  const al = headers.map((_, i) => ((align[i] ?? 'r') === 'l' ? ':---' : '---:'));
  const line = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
  return [line(headers.map(cell)), line(al), ...rows.map((r) => line(headers.map((_, i) => cell(r[i] ?? ''))))].join('\n');
}

/** An outcome as a short phrase: "published (version 3)", "held: min delay…", "refused: rule: message". */
export function outcomeText(o: Outcome): string {
  return o.detail ? `${o.status}: ${o.detail}` : o.status;
}

function marketMd(s: MarketSection): string {
  const out: string[] = [];
  out.push(`### ${s.market}`, '');
  const sigma = s.forecast.sigmaH === null ? '—' : pct(s.forecast.sigmaH);
  out.push(`As of ${when(s.asOf)}, policy ${s.policy}, model ${s.forecast.model ?? 'none'}: forecast σ over ${s.forecast.horizon} ${sigma}, spike probability ${pct(s.forecast.spikeProb, 1)}.`, '');
  out.push(mdTable(['parameter', 'current', 'recommended', 'change', 'relative', 'outcome'], s.parameters.map((p) => [
    PARAMETER_NAMES[p.parameter] ?? p.parameter, value(p.previous, p.unit), value(p.recommended, p.unit), delta(p.delta, p.unit), rel(p.relative), outcomeText(p.outcome),
  ]), 'lrrrrl'), '');
  out.push('**Why these values**', '');
  for (const p of s.parameters) {
    const clip = p.clippedBy.length ? ` Clipped by: ${p.clippedBy.join('; ')}.` : '';
    out.push(`- *${PARAMETER_NAMES[p.parameter] ?? p.parameter}* ${value(p.recommended, p.unit)}: ${p.reason}${clip}`);
  }
  out.push('');
  const g = s.governor;
  if (g.change) out.push(`**Governor**: maintenance margin in force ${pct(g.inForce, 3)}; announced step ${pct(g.change.from, 3)} → ${pct(g.change.to, 3)}, announced ${when(g.change.announcedAt)}, effective ${when(g.change.effectiveAt)}.`, '');
  else out.push(`**Governor**: maintenance margin in force ${pct(g.inForce, 3)}; no step announced.`, '');
  const tiers = s.leverageTiers;
  out.push(`**Leverage tiers** (${tiers.changed ? (tiers.previous ? 'changed' : 'no live tiers before') : 'unchanged'}; ${outcomeText(tiers.outcome)})`, '');
  out.push(mdTable(['position up to', 'maintenance', 'initial', 'max leverage'], tiers.recommended.map((t) => [
    t.maxNotionalUsd === null ? 'any size' : usd(t.maxNotionalUsd), pct(t.maintenanceMarginRatio, 3), pct(t.initialMarginRatio, 3), `${t.maxLeverage}×`,
  ])), '');
  const cb = s.circuitBreaker;
  const was = cb.previous === null ? 'no live state before' : cb.previous === cb.state ? 'unchanged' : `was ${cb.previous}`;
  out.push(`**Circuit breaker**: ${cb.state} (${was}; ${outcomeText(cb.outcome)}). Blocks: ${cb.blocked.length ? cb.blocked.join(', ') : 'nothing'}.`);
  if (cb.reasons.length) {
    out.push('');
    for (const r of cb.reasons) out.push(`- ${r.text}`);
  }
  out.push('');
  return out.join('\n');
}

function policyRows(rows: readonly PolicyRow[], withSymbol: boolean): string[][] {
  return rows.map((r) => [
    ...(withSymbol ? [r.symbol] : []), r.policy, String(r.observations), pct(r.breachRate), pval(r.kupiecP), pval(r.christoffersenP), r.baselZone,
    pct(r.meanMarginRatio, 3), rel(r.maxIncrease30d), num(r.peakToTrough, 2), usd(r.badDebtUsd), String(r.healthyLiquidatedByChange),
  ]);
}

const POLICY_HEADERS = ['policy', 'horizons', 'breach rate', 'Kupiec p', 'Christoffersen p', 'Basel zone', 'mean margin', 'max 30-day increase', 'peak/trough', 'bad debt (p95)', 'healthy liquidated'];

/** Renders the report model as Markdown. */
export function renderMarkdown(m: ReportModel): string {
  const out: string[] = [];
  out.push(`# Risk report: ${m.policy.name} margin policy, run ${m.run.id}`, '');
  out.push(`Pipeline ${m.run.pipeline ?? '(ad hoc)'} · ${m.markets.map((s) => s.market).join(', ')} · ${m.policy.interval} bars from ${m.policy.venue} · data to ${when(m.run.dataWatermark)}`, '');
  out.push('## Summary', '');
  for (const s of m.summary) out.push(`- ${s}`);
  out.push('');

  out.push('## Trade-offs against the alternatives', '');
  for (const t of m.tradeoffs) out.push(`- ${t}`);
  out.push('');

  out.push('## Current vs recommended, per market', '');
  out.push(`"Current" is the value live in the parameter store before this run (— where none was published). Ratios are percent of notional, the oracle buffer is in basis points. Confidence ${m.policy.confidence}, liquidation horizon ${m.policy.horizon}.`, '');
  for (const s of m.markets) out.push(marketMd(s));

  out.push('## What the parameter store did', '');
  const p = m.publication;
  if (!p) out.push('The run did not publish: nothing was proposed to the parameter store.', '');
  else {
    out.push(`${p.proposed} updates proposed, ${p.published.length} published, ${p.held.length} held back, ${p.refused.length} refused by the guard rails.`, '');
    if (p.refused.length) out.push('**Refused**', '', mdTable(['update', 'market', 'parameter', 'rule', 'why'], p.refused.map((r) => [`#${r.updateId}`, r.market ?? '—', r.updateType ?? '—', r.rule, r.message]), 'rllll'), '');
    if (p.held.length) out.push('**Held back**', '', mdTable(['update', 'market', 'parameter', 'reason'], p.held.map((r) => [`#${r.updateId}`, r.market ?? '—', r.updateType ?? '—', r.reason]), 'rlll'), '');
    if (p.published.length) out.push('**Published**', '', mdTable(['update', 'market', 'parameter', 'version'], p.published.map((r) => [`#${r.updateId}`, r.market, r.updateType, r.version === null ? '—' : String(r.version)]), 'rllr'), '');
  }

  out.push('## Validation', '');
  out.push(`### Coverage over the calibration window`, '');
  out.push(`Out of sample, non-overlapping ${m.policy.horizon} horizons: a breach is an adverse excursion plus the liquidation cost above the margin in force. Target breach rate ${pct(1 - m.policy.confidence)}.`, '');
  out.push(mdTable(['market', 'horizons', 'breaches', 'breach rate', 'target', 'Kupiec p'], m.markets.map((s) => [
    s.market, String(s.coverage.observations), String(s.coverage.breaches), pct(s.coverage.breachRate), pct(s.coverage.expectedRate), pval(s.coverage.kupiecP),
  ])), '');
  const bt = m.backtest;
  if (bt) {
    out.push('### Policy comparison (backtest)', '');
    out.push(`Walk-forward from ${when(bt.from)} to ${when(bt.to)} on ${bt.symbols.join(', ')}, confidence ${bt.confidence}, horizon ${bt.horizon}, ${bt.folds} refits, seed ${bt.seed}. Stress episodes: ${bt.episodes.length ? bt.episodes.map((e) => `${e.name} (${e.from.slice(0, 10)} – ${e.to.slice(0, 10)})`).join(', ') : 'none'}. Pooled over markets:`, '');
    out.push(mdTable(POLICY_HEADERS, policyRows(bt.pooled, false), 'lrrrrl'), '');
    if (bt.perMarket.length) {
      out.push('Per market:', '');
      out.push(mdTable(['market', ...POLICY_HEADERS], policyRows(bt.perMarket, true), 'llrrrrl'), '');
    }
  } else out.push('No backtest ran with this report.', '');

  out.push('## Run', '');
  const r = m.run;
  out.push(mdTable(['field', 'value'], [
    ['run id', r.id], ['pipeline', r.pipeline ?? '—'], ['status', r.status], ['started', when(r.startedAt)], ['ended', when(r.endedAt)],
    ['config hash', r.configHash ?? '—'], ['git sha', r.gitSha ?? '—'], ['seed', r.seed === null ? '—' : String(r.seed)], ['data watermark', when(r.dataWatermark)],
    ['policy', m.policy.name], ['model', m.policy.model ?? 'none'], ['venue, interval', `${m.policy.venue}, ${m.policy.interval}`], ['report model version', String(m.version)],
  ], 'll'), '');
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
