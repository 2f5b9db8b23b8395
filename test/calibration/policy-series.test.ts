import { describe, expect, it } from 'vitest';
import { parsePolicyConfig } from '../../src/calibration/config.ts';
import { orderQuantile, parsePolicies, policySeries, staticMargin, type MarketSeries } from '../../src/calibration/policy-series.ts';
import { createRng } from '../../src/core/rng.ts';

const H_MS = 3_600_000;
const h = 4;
const cfg = parsePolicyConfig({ scale: { lookbackDays: 120, minObservations: 300, everyMs: 7 * 86_400_000 } });

/** A market whose σ switches between regimes; the excursion is |N(0, σ√h)|·1.2 so the true σ is the perfect forecast. */
function market(n: number, seed: number): { m: MarketSeries; sigmaH: Float64Array } {
  const rng = createRng(seed);
  const sigma = new Float64Array(n);
  let s = 0.01;
  for (let t = 0; t < n; t++) {
    if (rng.next() < 0.01) s = [0.004, 0.01, 0.025][Math.floor(rng.next() * 3)]!;
    sigma[t] = s;
  }
  const sigmaH = sigma.map((x) => x * Math.sqrt(h));
  const mae = Float64Array.from(sigmaH, (x) => Math.abs(rng.normal() * x) * 1.2);
  const c = new Float64Array(n).fill(0.001);
  const originMs = Float64Array.from({ length: n }, (_, i) => i * H_MS);
  const m: MarketSeries = { symbol: 'SIM', originMs, barMs: H_MS, horizonBars: h, mae, oracle: c, liqCost: c, sigmaLongH: new Float64Array(n).fill(0.02), sigmaPastH: sigmaH, sigmaRecentH: sigmaH };
  return { m, sigmaH };
}

function breachRate(m: MarketSeries, margin: Float64Array, from: number): number {
  let x = 0;
  let k = 0;
  for (let u = from; u < m.mae.length; u += h) {
    if (!Number.isFinite(m.mae[u]!) || !Number.isFinite(margin[u]!)) continue;
    k++;
    if (m.mae[u]! + m.liqCost[u]! > margin[u]!) x++;
  }
  return x / k;
}

describe('policySeries', () => {
  const n = 24 * 400;
  const { m, sigmaH } = market(n, 7);
  const from = 24 * 150;

  it('scales a perfect forecast to the stated coverage out of sample (ungoverned and governed)', () => {
    for (const policy of ['ml', 'ml-anticipatory'] as const) {
      const p = policySeries({ policy, market: m, sigmaH, spikeProb: new Float64Array(n).fill(0.1), cfg, trainEndMs: from * H_MS });
      const rate = breachRate(m, p.margin, from);
      expect(rate, policy).toBeGreaterThan(0.003);
      expect(rate, policy).toBeLessThan(0.02);
    }
  });

  it('moves an ungoverned margin with the forecast but a governed one in bounded, announced steps', () => {
    const naive = policySeries({ policy: 'ml', market: m, sigmaH, cfg, trainEndMs: from * H_MS });
    const gov = policySeries({ policy: 'ml-anticipatory', market: m, sigmaH, cfg, trainEndMs: from * H_MS });
    const jump = (cs: typeof naive.changes): number => Math.max(...cs.slice(1).map((c) => c.to / c.from));
    expect(jump(naive.changes)).toBeGreaterThan(2);
    expect(jump(gov.changes)).toBeLessThanOrEqual(1 + cfg.governor.maxStepUp + 1e-9);
    for (const c of gov.changes.slice(1)) if (c.to > c.from) expect(c.effectiveMs).toBeGreaterThan(c.announcedMs);
    expect(gov.bindings!.steps).toBeGreaterThan(0);
  });

  it('never looks ahead: changing an excursion does not move any margin decided before its window closed', () => {
    const base = policySeries({ policy: 'ml-anticipatory', market: m, sigmaH, cfg, trainEndMs: from * H_MS });
    const k = 24 * 300;
    const mae2 = m.mae.slice();
    mae2[k] = 10; // a huge excursion at origin k, known only at k + h + 1 bars
    const moved = policySeries({ policy: 'ml-anticipatory', market: { ...m, mae: mae2 }, sigmaH, cfg, trainEndMs: from * H_MS });
    const closesAt = k + h + 1;
    for (let u = 0; u < closesAt - 1; u++) expect(moved.margin[u]).toBe(base.margin[u]);
  });

  it('sizes the static margin as the lowest constant one covering the training window', () => {
    const mm = staticMargin(m, from * H_MS, 0.99);
    let x = 0;
    let k = 0;
    for (let u = 0; u + h + 1 <= from; u++) {
      k++;
      if (m.mae[u]! + m.liqCost[u]! > mm) x++;
    }
    expect(x / k).toBeLessThanOrEqual(0.01);
    expect(orderQuantile([3, 1, 2, 4], 0.5)).toBe(2);
  });

  it('parses policy lists and refuses unknown names', () => {
    expect(parsePolicies('static, har,ml-anticipatory')).toEqual(['static', 'har', 'ml-anticipatory']);
    expect(() => parsePolicies('har,magic')).toThrow(/magic/);
  });
});
