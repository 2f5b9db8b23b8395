import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReportModel, chartSeries, downsampleIndices } from '../../src/reporting/build.ts';
import { chartSpecs, renderCharts } from '../../src/reporting/charts.ts';
import { mdTable, renderMarkdown } from '../../src/reporting/render-markdown.ts';
import { backtest, HOUR, rec, report, row, RUN, T0 } from './synthetic.ts';

describe('downsampleIndices', () => {
  it('keeps everything up to the limit, else at most `max` sorted indices with both ends and every key series\' peak', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 10, max: 2500 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (n, max, seed) => {
        let s = seed >>> 0;
        const u = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
        const a = Array.from({ length: n }, () => (u() < 0.05 ? null : u()));
        const b = Array.from({ length: n }, () => u());
        const idx = downsampleIndices(n, [a, b], max);
        if (n <= max) {
          expect(idx).toEqual(Array.from({ length: n }, (_, i) => i));
          return;
        }
        expect(idx.length).toBeLessThanOrEqual(max);
        expect(idx[0]).toBe(0);
        expect(idx.at(-1)).toBe(n - 1);
        for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]!);
        const peak = (k: readonly (number | null)[]): number => k.reduce<number>((best, v, i) => (v !== null && (best < 0 || v > k[best]!) ? i : best), -1);
        expect(idx).toContain(peak(a));
        expect(idx).toContain(peak(b));
      },
    ), { numRuns: 150, seed: 7 });
  });
});

describe('chartSeries', () => {
  it('downsamples a long history to ≤ 2,000 points, keeps every breach, and turns breaker states into contiguous bands', () => {
    const r = rec('BTCUSDT', 8000);
    const s = chartSeries('BTCUSDT', r.history!);
    expect(s.sourcePoints).toBe(8000);
    expect(s.timeMs.length).toBeLessThanOrEqual(2000);
    expect(s.timeMs.length).toBeGreaterThan(1000);
    expect(s.breachTimeMs).toEqual(r.history!.timeMs.filter((_, i) => i % 97 === 0));
    expect(s.breakerBands.length).toBe(16);
    expect(s.breakerBands[0]).toEqual({ fromMs: T0, toMs: T0 + 500 * HOUR, state: 'NORMAL' });
    expect(s.breakerBands.at(-1)!.toMs).toBe(T0 + 8000 * HOUR);
    expect(s.realisedSigmaH.at(-1)).toBeNull(); // NaN is not JSON: stored as null
    expect(s.spikeProb.every((x) => x === null)).toBe(true);
  });
});

describe('buildReportModel without publication or backtest', () => {
  it('marks everything as not proposed, says the run published nothing, and that no trade-off was measured', () => {
    const m = buildReportModel({ run: RUN, recommend: report([rec('BTCUSDT', 50, 'REDUCE_ONLY')]), previous: {} });
    expect(m.publication).toBeNull();
    expect(m.backtest).toBeNull();
    const s = m.markets[0]!;
    expect(s.parameters.every((p) => p.outcome.status === 'not proposed' && p.previous === null && p.delta === null)).toBe(true);
    expect(s.parameters[0]!.drivers).toEqual({ sigmaH: 0.01, scale: null });
    expect(s.circuitBreaker).toMatchObject({ previous: null, state: 'REDUCE_ONLY', blocked: ['openRisk'] });
    expect(s.circuitBreaker.reasons[0]!.text).toBe('spike probability 70.0% (threshold 50.0%) → REDUCE_ONLY');
    expect(m.tradeoffs).toEqual(['No backtest ran with this report, so the trade-off against the static and EWMA policies is not measured here; the only validation is the coverage over the calibration window (100 horizons).']);
    expect(m.summary).toContain('This run published nothing: the values above are recommendations only.');
    expect(m.summary[1]).toBe('BTCUSDT: maintenance margin set to 5.000% (no live value before), held by bounds.minMaintenance; maximum leverage 13.33×; circuit breaker REDUCE_ONLY.');
    expect(chartSpecs(m).map((c) => c.kind)).toEqual(['volatility', 'margin', 'spike']);
    const md = renderMarkdown(m);
    expect(md).toContain('The run did not publish: nothing was proposed to the parameter store.');
    expect(md).toContain('No backtest ran with this report.');
    expect(md).toContain('- *maintenance margin* 5.000%: Because | pipes are escaped. Clipped by: bounds.minMaintenance.');
    // In a table cell the pipe is escaped.
    expect(mdTable(['a', 'b'], [['x | y', '1']], 'lr')).toBe('| a | b |\n| :--- | ---: |\n| x \\| y | 1 |');
  });

  it('computes the trade-off sentences from the backtest numbers, and names a reference when the recommended policy was not backtested', () => {
    const rows = [row('static', 'pooled', 0.08, 0.012, 5000, 0), row('ewma', 'pooled', 0.06, 0.009, 1000, 2.5), row('har', 'pooled', 0.06, 0.011, 2000, 1.2)];
    const m = buildReportModel({ run: RUN, recommend: report([rec('BTCUSDT', 50)]), previous: {}, backtest: backtest(rows) });
    expect(m.tradeoffs[0]).toBe('Capital: har asks for a mean maintenance margin of 6.00% against 8.00% for the static policy, 25.0% less collateral locked per position over 2024-01-01 – 2024-07-01.');
    expect(m.tradeoffs).toContain('Procyclicality: har is less procyclical than EWMA — its largest 30-day margin increase is +120.0% against +250.0%, its peak-to-trough ratio 2.20 against 3.50.');
    expect(m.tradeoffs.at(-1)).toBe('Net: against the static policy, har uses 25.0% less capital for a breach rate 0.10 pp below static\'s, and $3,000 less bad debt under stress, within the green zone at 0.99 confidence.');
    const noHar = buildReportModel({ run: RUN, recommend: report([rec('BTCUSDT', 50)]), previous: {}, backtest: backtest(rows.filter((r) => r.policy !== 'har')) });
    expect(noHar.tradeoffs[0]).toBe('The backtest did not run the recommended har policy; among the policies it ran, ewma is the reference below (the cheapest in the Basel green zone).');
  });

  it('draws the spike probability over the breaker bands when the policy forecasts spikes, and only the bands when it does not', async () => {
    const m = buildReportModel({ run: RUN, recommend: report([rec('BTCUSDT', 300, 'NORMAL', true), rec('ETHUSDT', 300)]), previous: {} });
    const spikes = (await renderCharts(m)).filter((c) => c.kind === 'spike');
    expect(spikes.map((c) => c.market)).toEqual(['BTCUSDT', 'ETHUSDT']);
    const line = (svg: string): string => /<g class="mark-line role-mark[^"]*"[^>]*>\s*<path[^>]*d="([^"]*)"/.exec(svg)?.[1] ?? '';
    expect(line(spikes[0]!.svg).length).toBeGreaterThan(300);
    expect(spikes[0]!.caption).not.toContain('no spike forecast');
    expect(spikes[1]!.caption).toContain('this policy has no spike forecast');
    for (const c of spikes) expect(c.svg.match(/class="mark-rect role-mark/g)?.length).toBe(1);
  });
});
