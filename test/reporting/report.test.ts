import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { fixedClock } from '../../src/core/time.ts';
import { renderCharts, type Chart } from '../../src/reporting/charts.ts';
import { buildReportModel, loadReportModel, ReportModelSchema, saveReportModel, writeReport, type ReportInput, type ReportModel } from '../../src/reporting/index.ts';
import { PNG_SIGNATURE } from '../../src/reporting/png.ts';
import { renderHtml } from '../../src/reporting/render-html.ts';
import { renderMarkdown } from '../../src/reporting/render-markdown.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { tempDir } from '../helpers/tmp.ts';
import { MARKETS, realReportInput } from './fixture.ts';
import { checkWellFormedXml, markdownTables } from './xml.ts';

const tmp = tempDir('liqcal-report-');
let store: Store;
let input: ReportInput;
let model: ReportModel;
let charts: Chart[];

beforeAll(async () => {
  store = openStore(tmp.path('report.db'));
  input = await realReportInput(store);
  model = buildReportModel(input);
  charts = await renderCharts(model);
});
afterAll(() => {
  store.close();
  tmp.cleanup();
});

describe('buildReportModel on a real run', () => {
  it('is JSON-serialisable, valid against its schema, deterministic, and leaves its input untouched', () => {
    const before = JSON.stringify(input);
    const again = buildReportModel(input);
    expect(JSON.stringify(input)).toBe(before);
    expect(again).toEqual(model);
    const json = JSON.parse(JSON.stringify(model)) as unknown;
    expect(json).toEqual(model); // no NaN, Infinity, undefined or class instances lost on the way
    expect(ReportModelSchema.parse(json)).toEqual(model);
    expect(model.version).toBe(1);
    expect(model.run).toMatchObject({ id: input.run.id, pipeline: 'csv', configHash: 'sha256:0123abcd', gitSha: 'abc1234', seed: 42, dataWatermark: '2025-01-01T00:00:00.000Z' });
    expect(model.policy).toMatchObject({ name: 'har', model: 'har', confidence: 0.99, horizon: '4h', venue: 'binance-spot' });
  });

  it('puts the live value before the run next to the recommendation, with the change and its reason', () => {
    expect(model.markets.map((m) => m.market)).toEqual([...MARKETS]);
    for (const s of model.markets) {
      const rec = input.recommend.recommendations.find((r) => r.market === s.market)!;
      expect(s.parameters.map((p) => p.parameter)).toEqual(['maintenanceMarginRatio', 'initialMarginRatio', 'liquidationPenalty', 'oracleLatencyBufferBps', 'closeFactor', 'maxLeverage']);
      for (const p of s.parameters) {
        expect(p.previous).toBe(input.previous[s.market]![p.parameter]);
        expect(p.recommended).toBe(rec.params[p.parameter]);
        expect(p.delta).toBeCloseTo(p.recommended! - p.previous!, 12);
        expect(p.reason).toBe(rec.rationale.find((r) => r.parameter === p.parameter)!.text);
        expect(p.reason.length).toBeGreaterThan(10);
      }
      expect(s.parameters.find((p) => p.parameter === 'closeFactor')!.clippedBy).toEqual(rec.rationale.find((r) => r.parameter === 'closeFactor')!.clippedBy);
      expect(s.circuitBreaker.state).toBe(rec.circuitBreaker.state);
      expect(s.circuitBreaker.reasons.length).toBe(rec.circuitBreaker.reasons.length);
      expect(s.coverage).toMatchObject({ observations: rec.validation.observations, breaches: rec.validation.breaches, expectedRate: expect.closeTo(0.01, 12) as unknown as number });
    }
  });

  it('says what the parameter store published, held back and refused, with the rule, for each (market, type)', () => {
    const p = input.published!;
    expect(p.published.length).toBeGreaterThan(0);
    expect(p.refused.length).toBeGreaterThan(0); // the fixture's rails allow only ±0.25 pp of maintenance
    expect(p.waiting.length).toBeGreaterThan(0); // and leverage waits for a person
    expect(model.publication!.proposed).toBe(p.proposed.length);
    for (const r of p.proposed) {
      const s = model.markets.find((m) => m.market === r.market)!;
      const o = r.updateType === 'leverageTiers' ? s.leverageTiers.outcome : r.updateType === 'circuitBreaker' ? s.circuitBreaker.outcome : s.parameters.find((x) => x.parameter === r.updateType)!.outcome;
      expect(o.updateId).toBe(r.updateId);
      if (p.published.some((x) => x.updateId === r.updateId)) expect(o.status).toBe('published');
      else if (p.refused.some((x) => x.updateId === r.updateId)) expect(o).toMatchObject({ status: 'refused', detail: expect.stringMatching(/^maxChange: /) as unknown as string });
      else if (p.waiting.some((x) => x.updateId === r.updateId)) expect(o.status).toBe('held');
    }
    expect(model.publication!.refused.every((r) => r.market !== null && r.updateType !== null)).toBe(true);
  });

  it('carries the backtest table and states the trade-offs with the numbers', () => {
    const bt = model.backtest!;
    expect(bt.pooled.map((r) => r.policy)).toEqual(['static', 'ewma', 'har']);
    expect(bt.perMarket.length).toBe(6);
    const har = bt.pooled.find((r) => r.policy === 'har')!;
    const src = input.backtest!.policies.find((r) => r.policy === 'har' && r.symbol === 'pooled')!;
    expect(har).toMatchObject({ breachRate: src.breachRate, kupiecP: src.kupiecP, christoffersenP: src.christoffersenP, baselZone: src.baselZone, meanMarginRatio: src.meanMarginRatio, maxIncrease30d: src.maxIncrease30d, badDebtUsd: src.badDebtUsd, healthyLiquidatedByChange: src.healthyLiquidatedByChange });
    const t = model.tradeoffs.join('\n');
    const stat = bt.pooled.find((r) => r.policy === 'static')!;
    expect(t).toContain(`Capital: har asks for a mean maintenance margin of ${(har.meanMarginRatio! * 100).toFixed(2)}% against ${(stat.meanMarginRatio! * 100).toFixed(2)}% for the static policy`);
    expect(t).toMatch(/^Procyclicality: har is (less|more|as) procyclical (than|as) EWMA/m);
    expect(t).toMatch(/^Coverage: har breached in \d+ of \d+ horizons/m);
    expect(t).toMatch(/^Bad debt in the stress replay/m);
    expect(t).toMatch(/^Net: against the static policy, har uses/m);
  });

  it('downsamples the chart series to at most 2,000 points per line and keeps every breach', () => {
    for (const s of model.series) {
      const h = input.recommend.recommendations.find((r) => r.market === s.market)!.history!;
      expect(s.sourcePoints).toBe(h.timeMs.length);
      expect(s.timeMs.length).toBeLessThanOrEqual(2000);
      expect(s.breachTimeMs.length).toBe(h.breach.filter(Boolean).length);
      expect(s.breakerBands[0]!.fromMs).toBe(h.timeMs[0]);
      s.breakerBands.slice(1).forEach((b, i) => expect(b.fromMs).toBe(s.breakerBands[i]!.toMs));
    }
  });
});

describe('renderers', () => {
  it('Markdown: summary first, well-formed tables, no HTML', () => {
    const md = renderMarkdown(model);
    const h2 = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(h2[0]).toBe('Summary');
    expect(h2).toEqual(['Summary', 'Trade-offs against the alternatives', 'Current vs recommended, per market', 'What the parameter store did', 'Validation', 'Run']);
    expect(md).not.toMatch(/<\/?[a-z][^>]*>/i);
    const tables = markdownTables(md);
    for (const t of tables) for (const row of t.rows) expect(row.length, t.header.join('|')).toBe(t.header.length);
    const params = tables.filter((t) => t.header.join('|') === 'parameter|current|recommended|change|relative|outcome');
    expect(params.length).toBe(MARKETS.length);
    for (const t of params) expect(t.rows.map((r) => r[0])).toEqual(['maintenance margin', 'initial margin', 'liquidation penalty', 'oracle latency buffer', 'close factor', 'maximum leverage']);
    expect(params.flatMap((t) => t.rows.map((r) => r[5])).some((o) => o!.startsWith('refused: maxChange'))).toBe(true);
    const pooled = tables.find((t) => t.header[0] === 'policy' && t.header.includes('Kupiec p'))!;
    expect(pooled.rows.map((r) => r[0])).toEqual(['static', 'ewma', 'har']);
    expect(tables.find((t) => t.header.join('|') === 'market|horizons|breaches|breach rate|target|Kupiec p')!.rows.length).toBe(MARKETS.length);
    expect(md).toContain(`| run id | ${model.run.id} |`);
  });

  it('charts: one volatility, margin and spike chart per market plus the policy comparison, each well-formed SVG with marks, titled and captioned', () => {
    expect(charts.map((c) => c.name)).toEqual([...MARKETS.flatMap((m) => [`${m}-volatility`, `${m}-margin`, `${m}-spike`]), 'policies']);
    for (const c of charts) {
      expect(() => checkWellFormedXml(c.svg), c.name).not.toThrow();
      expect(c.svg.startsWith('<svg')).toBe(true);
      expect(c.svg).toContain('role-mark');
      expect(c.svg).toContain(`>${c.title}</text>`);
      expect(c.caption.length).toBeGreaterThan(40);
    }
    // Axis titles with units.
    expect(charts[0]!.svg).toContain('σ over 4h (% of price)');
    expect(charts[1]!.svg).toContain('margin (% of notional)');
    expect(charts[2]!.svg).toContain('spike probability (%)');
    expect(charts.at(-1)!.svg).toContain('breach rate (% of 4h horizons)');
    // The same model renders the same SVG again (ids do not depend on vega's process-wide counters).
    return renderCharts(model).then((again) => expect(again.map((c) => c.svg)).toEqual(charts.map((c) => c.svg)));
  });

  it('HTML: self-contained (no scripts, no external resources), every chart inline with a caption, ids unique', () => {
    const html = renderHtml(model, charts);
    expect(() => checkWellFormedXml(html.replace(/^<!DOCTYPE html>/, '').replace(/<meta[^>]*>/g, '').replace(/<br>/g, '<br/>'))).not.toThrow();
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|\ssrc=/i);
    const urls = [...html.matchAll(/https?:\/\/[^\s"')<]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
    expect(html.match(/<svg/g)!.length).toBe(charts.length);
    expect(html.match(/<figcaption>/g)!.length).toBe(charts.length);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('storage and files', () => {
  it('saves and loads the model by run id and as latest; a missing run is an error naming it', () => {
    saveReportModel(store, model, fixedClock(1_000));
    const other = { ...model, run: { ...model.run, id: 'second-run' } };
    saveReportModel(store, other, fixedClock(2_000));
    expect(loadReportModel(store, model.run.id)).toEqual(model);
    expect(loadReportModel(store, 'latest').run.id).toBe('second-run');
    saveReportModel(store, model, fixedClock(3_000)); // saving again replaces and becomes the latest
    expect(loadReportModel(store, 'latest')).toEqual(model);
    try {
      loadReportModel(store, 'no-such-run');
      expect.unreachable();
    } catch (e) {
      expect(isAppError(e, 'badRequest')).toBe(true);
      expect((e as Error).message).toContain('no-such-run');
    }
    store.db.prepare("INSERT INTO run_reports (run_id, created_at_ms, model_json) VALUES ('broken', 0, '{\"version\":1,\"run\":{}}')").run();
    expect(() => loadReportModel(store, 'broken')).toThrow(/report of run broken is malformed: run\.id/);
  });

  it('writes Markdown, HTML, JSON and PNG charts', async () => {
    const w = await writeReport(model, tmp.path('out'), { png: true });
    for (const f of [w.markdown, w.html, w.json]) expect(existsSync(f)).toBe(true);
    expect(JSON.parse(readFileSync(w.json, 'utf8'))).toEqual(model);
    expect(readFileSync(w.markdown, 'utf8')).toBe(renderMarkdown(model));
    expect(w.png.length).toBe(charts.length);
    for (const p of w.png) {
      const bytes = readFileSync(p);
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from(PNG_SIGNATURE));
      // IHDR: width and height (big-endian) at bytes 16..23; scale 2 of the SVG's size.
      expect(bytes.readUInt32BE(16)).toBeGreaterThan(1000);
      expect(bytes.readUInt32BE(20)).toBeGreaterThan(300);
    }
    const noPng = await writeReport(model, tmp.path('out2'));
    expect(noPng.png).toEqual([]);
  });
});
