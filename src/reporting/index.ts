/**
 * Risk-committee reports of a run (issue 6 item 3): {@link buildReportModel} turns what a pipeline run produced
 * into a versioned, JSON-serialisable model, {@link saveReportModel} / {@link loadReportModel} keep it in the store
 * (table `run_reports`), and {@link writeReport} renders it as Markdown, self-contained HTML with inline SVG charts,
 * JSON and (optionally) one PNG per chart. vega, vega-lite and resvg load lazily, on the first render.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../core/errors.ts';
import { renderCharts } from './charts.ts';
import type { ReportModel } from './model.ts';
import { renderHtml } from './render-html.ts';
import { renderMarkdown } from './render-markdown.ts';

export { buildReportModel, type ReportInput } from './build.ts';
export { loadReportModel, saveReportModel } from './store.ts';
export { REPORT_MODEL_VERSION, ReportModelSchema, type ReportModel } from './model.ts';
export { renderMarkdown } from './render-markdown.ts';
export { renderHtml } from './render-html.ts';
export { chartSpecs, renderCharts, type Chart, type ChartSpec } from './charts.ts';

/** Paths of the files {@link writeReport} wrote (absolute). */
export interface WrittenReport {
  readonly dir: string;
  readonly markdown: string;
  readonly html: string;
  readonly json: string;
  /** One PNG per chart with `png: true`, else empty. */
  readonly png: string[];
}

/**
 * Writes `report.md`, `report.html` (self-contained: inline CSS and SVG, no scripts, no external requests) and
 * `report.json` (the model) into `outDir` (created if missing), and with `png: true` one `chart-<name>.png` per chart.
 */
export async function writeReport(model: ReportModel, outDir: string, opts: { png?: boolean } = {}): Promise<WrittenReport> {
  const dir = resolve(outDir);
  const charts = await renderCharts(model);
  const files = { markdown: join(dir, 'report.md'), html: join(dir, 'report.html'), json: join(dir, 'report.json') };
  const png: string[] = [];
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(files.markdown, renderMarkdown(model));
    writeFileSync(files.html, renderHtml(model, charts));
    writeFileSync(files.json, `${JSON.stringify(model, null, 2)}\n`);
    if (opts.png) {
      const { svgToPng } = await import('./png.ts');
      for (const c of charts) {
        const p = join(dir, `chart-${c.name}.png`);
        writeFileSync(p, svgToPng(c.svg));
        png.push(p);
      }
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('io', `Cannot write the report into ${dir}: ${(e as Error).message}. Check that --out is a writable directory.`, { context: { dir }, cause: e });
  }
  return { dir, ...files, png };
}
