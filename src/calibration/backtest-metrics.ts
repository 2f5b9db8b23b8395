/**
 * Validation statistics of one policy's margins over a test period (issue 4 item 5), pure: breaches of the
 * margin by the realised maximum adverse excursion over H plus the liquidation cost, sampled at
 * non-overlapping horizons (every H bars from the test start) so that the hits are independent under a
 * correct model; Kupiec POF, Christoffersen independence and conditional coverage, the Basel zone, the
 * expected shortfall of the excess; procyclicality (peak-to-trough, largest 1/7/30-day increase) and
 * capital (mean margin) over every decision instant of the test period.
 */
import { baselZone, christoffersen, expectedShortfallOfExcess, kupiecPof } from '../evaluation/var-tests.ts';
import { procyclicalitySummary } from '../evaluation/procyclicality.ts';
import type { MarketSeries, PolicySeries } from './policy-series.ts';

/** Coverage and procyclicality of one policy on one market (or pooled). */
export interface CoverageRow {
  readonly policy: string;
  readonly symbol: string;
  readonly observations: number;
  readonly breaches: number;
  readonly breachRate: number;
  readonly kupiecP: number;
  readonly christoffersenP: number;
  readonly christoffersenIndP: number;
  readonly baselZone: 'green' | 'yellow' | 'red';
  /** Expected shortfall at 97.5 % of (excursion + cost − margin), fraction of notional; negative: the tail is covered. */
  readonly esExcess: number;
  readonly meanMarginRatio: number;
  readonly peakToTrough: number;
  /** Largest relative increase of the margin over any 1, 7 and 30-day window (0.5 = +50 %). */
  readonly maxIncrease1d: number;
  readonly maxIncrease7d: number;
  readonly maxIncrease30d: number;
  /** Number of margin changes in the test period. */
  readonly changes: number;
}

/** The hit sequence (0/1, NaN where unknown) of a policy over test origins, and the usable loss/margin pairs. */
export interface Hits {
  readonly hits: Float64Array;
  readonly loss: Float64Array;
  readonly margin: Float64Array;
}

/** Index range [from, to) of origins whose decision instant lies in [fromMs, toMs). */
export function testRange(m: MarketSeries, fromMs: number, toMs: number): [number, number] {
  let a = 0;
  while (a < m.originMs.length && m.originMs[a]! + m.barMs < fromMs) a++;
  let b = a;
  while (b < m.originMs.length && m.originMs[b]! + m.barMs < toMs) b++;
  return [a, b];
}

/** Non-overlapping hits: every H-th origin of [from, to). */
export function policyHits(m: MarketSeries, p: PolicySeries, from: number, to: number): Hits {
  const h = m.horizonBars;
  const k = Math.max(0, Math.ceil((to - from) / h));
  const hits = new Float64Array(k);
  const loss = new Float64Array(k);
  const margin = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const u = from + i * h;
    const l = m.mae[u]! + m.liqCost[u]!;
    const g = p.margin[u]!;
    loss[i] = l;
    margin[i] = g;
    hits[i] = Number.isFinite(l) && Number.isFinite(g) ? (l > g ? 1 : 0) : Number.NaN;
  }
  return { hits, loss, margin };
}

function concat(parts: readonly Float64Array[], sep: boolean): Float64Array {
  const n = parts.reduce((a, p) => a + p.length + (sep ? 1 : 0), 0);
  const out = new Float64Array(n).fill(Number.NaN);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + (sep ? 1 : 0);
  }
  return out;
}

function coverageStats(h: Hits, confidence: number) {
  let breaches = 0;
  let observations = 0;
  for (const x of h.hits) {
    if (Number.isNaN(x)) continue;
    observations++;
    breaches += x;
  }
  const k = kupiecPof(breaches, observations, confidence);
  const c = christoffersen(h.hits, confidence);
  return {
    observations, breaches, breachRate: observations > 0 ? breaches / observations : Number.NaN,
    kupiecP: k.p, christoffersenP: c.pCc, christoffersenIndP: c.pInd,
    baselZone: baselZone(breaches, observations, confidence).zone,
    esExcess: observations > 0 ? expectedShortfallOfExcess(h.loss, h.margin, 0.975).es : Number.NaN,
  };
}

/** Mean margin and procyclicality over origins [from, to). */
function marginStats(m: MarketSeries, p: PolicySeries, from: number, to: number) {
  const t = m.originMs.subarray(from, to).map((x) => x + m.barMs);
  const g = p.margin.subarray(from, to);
  let sum = 0;
  let n = 0;
  for (const x of g) {
    if (!Number.isFinite(x)) continue;
    sum += x;
    n++;
  }
  const pc = procyclicalitySummary(t, g);
  const fromMs = from < m.originMs.length ? m.originMs[from]! + m.barMs : Number.POSITIVE_INFINITY;
  const toMs = to > 0 ? m.originMs[to - 1]! + m.barMs : Number.NEGATIVE_INFINITY;
  const changes = p.changes.filter((c) => c.effectiveMs >= fromMs && c.effectiveMs <= toMs).length;
  return { meanMarginRatio: n > 0 ? sum / n : Number.NaN, peakToTrough: pc.peakToTrough, maxIncrease1d: pc.maxIncrease1d, maxIncrease7d: pc.maxIncrease7d, maxIncrease30d: pc.maxIncrease30d, changes };
}

/** The coverage row of one policy on one market over the decision instants in [fromMs, toMs). */
export function coverageRow(m: MarketSeries, p: PolicySeries, fromMs: number, toMs: number, confidence: number): { row: CoverageRow; hits: Hits } {
  const [from, to] = testRange(m, fromMs, toMs);
  const hits = policyHits(m, p, from, to);
  return { row: { policy: p.policy, symbol: m.symbol, ...coverageStats(hits, confidence), ...marginStats(m, p, from, to) }, hits };
}

/**
 * The pooled row of one policy: coverage tests on all markets' hits together (the Christoffersen chain is cut
 * between markets), mean margin and procyclicality averaged over markets, change counts summed.
 */
export function pooledRow(policy: string, rows: readonly CoverageRow[], hits: readonly Hits[], confidence: number): CoverageRow {
  const all: Hits = { hits: concat(hits.map((h) => h.hits), true), loss: concat(hits.map((h) => h.loss), true), margin: concat(hits.map((h) => h.margin), true) };
  const mean = (f: (r: CoverageRow) => number): number => rows.reduce((a, r) => a + f(r), 0) / rows.length;
  return {
    policy, symbol: 'pooled', ...coverageStats(all, confidence),
    meanMarginRatio: mean((r) => r.meanMarginRatio), peakToTrough: mean((r) => r.peakToTrough),
    maxIncrease1d: mean((r) => r.maxIncrease1d), maxIncrease7d: mean((r) => r.maxIncrease7d), maxIncrease30d: mean((r) => r.maxIncrease30d),
    changes: rows.reduce((a, r) => a + r.changes, 0),
  };
}
