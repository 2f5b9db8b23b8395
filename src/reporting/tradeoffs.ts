/**
 * The trade-off of the recommended policy against the alternatives (DOMAIN §E3: "highlight the differences in
 * recommendations and the trade-offs"), as plain sentences computed from the backtest's pooled rows: capital
 * against the static policy, procyclicality against EWMA, coverage against the target, and bad debt in the
 * stress replay. Pure.
 */
import { pct, pval, rel, usd } from './format.ts';
import type { BacktestSection, MarketSection, PolicyRow } from './model.ts';

const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b !== 0 ? a / b - 1 : null);

function more(x: number | null, lessWord: string, moreWord: string): string {
  if (x === null) return 'an unknown amount of';
  return `${Math.abs(x * 100).toFixed(1)}% ${x < 0 ? lessWord : moreWord}`;
}

/**
 * Sentences on the trade-off of `policy` against the other policies of the backtest (pooled over markets).
 * Without a backtest: one sentence saying the comparison was not measured in this run.
 */
export function tradeoffSentences(policy: string, bt: BacktestSection | null, markets: readonly MarketSection[], confidence: number): string[] {
  if (!bt || bt.pooled.length === 0) {
    const obs = markets.reduce((a, m) => a + m.coverage.observations, 0);
    return [`No backtest ran with this report, so the trade-off against the static and EWMA policies is not measured here; the only validation is the coverage over the calibration window (${obs} horizons).`];
  }
  const target = 1 - bt.confidence;
  const rows = bt.pooled;
  const get = (p: string): PolicyRow | undefined => rows.find((r) => r.policy === p);
  const out: string[] = [];
  let ref = get(policy);
  if (!ref) {
    const green = rows.filter((r) => r.baselZone === 'green' && r.meanMarginRatio !== null).sort((a, b) => a.meanMarginRatio! - b.meanMarginRatio!);
    ref = green[0] ?? rows[0]!;
    out.push(`The backtest did not run the recommended ${policy} policy; among the policies it ran, ${ref.policy} is the reference below (${green.length ? 'the cheapest in the Basel green zone' : 'no policy reached the green zone'}).`);
  }
  const name = ref.policy;
  const stat = get('static');
  const ewma = get('ewma');
  const others = rows.filter((r) => r.policy !== name);

  // Capital.
  if (stat && name !== 'static') {
    const d = ratio(ref.meanMarginRatio, stat.meanMarginRatio);
    out.push(`Capital: ${name} asks for a mean maintenance margin of ${pct(ref.meanMarginRatio)} against ${pct(stat.meanMarginRatio)} for the static policy, ${more(d, 'less', 'more')} collateral locked per position over ${bt.from.slice(0, 10)} – ${bt.to.slice(0, 10)}.`);
  } else if (name === 'static' && others.length) {
    const cheapest = [...others].filter((r) => r.meanMarginRatio !== null).sort((a, b) => a.meanMarginRatio! - b.meanMarginRatio!)[0];
    if (cheapest) out.push(`Capital: the static policy holds a mean margin of ${pct(ref.meanMarginRatio)}; the cheapest alternative, ${cheapest.policy}, holds ${pct(cheapest.meanMarginRatio)} (${rel(ratio(cheapest.meanMarginRatio, ref.meanMarginRatio))}).`);
  }

  // Coverage.
  const cov = (r: PolicyRow): string => `${r.policy} ${pct(r.breachRate)} (${r.baselZone})`;
  out.push(`Coverage: ${name} breached in ${ref.breaches} of ${ref.observations} horizons, ${pct(ref.breachRate)} against the ${pct(target)} target (Kupiec p ${pval(ref.kupiecP)}, Christoffersen p ${pval(ref.christoffersenP)}, Basel ${ref.baselZone} zone)${others.length ? `; the alternatives: ${others.map(cov).join(', ')}` : ''}.`);

  // Procyclicality.
  if (ewma && name !== 'ewma') {
    const smoother = ref.maxIncrease30d !== null && ewma.maxIncrease30d !== null ? (ref.maxIncrease30d < ewma.maxIncrease30d ? 'less procyclical than' : ref.maxIncrease30d > ewma.maxIncrease30d ? 'more procyclical than' : 'as procyclical as') : 'not comparable with';
    out.push(`Procyclicality: ${name} is ${smoother} EWMA — its largest 30-day margin increase is ${rel(ref.maxIncrease30d)} against ${rel(ewma.maxIncrease30d)}, its peak-to-trough ratio ${ref.peakToTrough?.toFixed(2) ?? '—'} against ${ewma.peakToTrough?.toFixed(2) ?? '—'}${ref.changes === ewma.changes ? '' : `, with ${ref.changes} margin changes against ${ewma.changes}`}.`);
  }

  // Bad debt in the stress replay.
  if (bt.episodes.length > 0) {
    const eps = bt.episodes.map((e) => e.name).join(', ');
    const debt = (r: PolicyRow): string => `${r.policy} ${usd(r.badDebtUsd)}`;
    const healthy = others.filter((r) => r.healthyLiquidatedByChange > 0).map((r) => `${r.policy} ${r.healthyLiquidatedByChange}`);
    out.push(`Bad debt in the stress replay (${eps}; 95th percentile over seeds): ${name} ${usd(ref.badDebtUsd)}${others.length ? ` against ${others.map(debt).join(', ')}` : ''}; healthy positions liquidated by a parameter change: ${ref.healthyLiquidatedByChange} for ${name}${healthy.length ? ` against ${healthy.join(', ')}` : ', none for the others either'}.`);
  }

  // Net.
  if (stat && name !== 'static') {
    const cap = ratio(ref.meanMarginRatio, stat.meanMarginRatio);
    const dBreach = ref.breachRate !== null && stat.breachRate !== null ? ref.breachRate - stat.breachRate : null;
    const dDebt = ref.badDebtUsd !== null && stat.badDebtUsd !== null ? ref.badDebtUsd - stat.badDebtUsd : null;
    const capWord = cap === null ? 'an unmeasured change in capital' : cap <= 0 ? `${(Math.abs(cap) * 100).toFixed(1)}% less capital` : `${(cap * 100).toFixed(1)}% more capital`;
    const brWord = dBreach === null ? 'an unmeasured breach rate' : `a breach rate ${dBreach === 0 ? 'equal to' : `${Math.abs(dBreach * 100).toFixed(2)} pp ${dBreach > 0 ? 'above' : 'below'}`} static's`;
    const debtWord = dDebt === null || bt.episodes.length === 0 ? '' : `, and ${dDebt === 0 ? 'the same' : `${usd(Math.abs(dDebt))} ${dDebt > 0 ? 'more' : 'less'}`} bad debt under stress`;
    const verdict = ref.baselZone === 'green' ? 'within the green zone' : `in the ${ref.baselZone} zone, which needs the committee's attention`;
    out.push(`Net: against the static policy, ${name} uses ${capWord} for ${brWord}${debtWord}, ${verdict} at ${confidence} confidence.`);
  }
  return out;
}
