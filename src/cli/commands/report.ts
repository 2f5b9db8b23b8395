import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { loadReportModel, writeReport } from '../../reporting/index.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { makeOutput } from '../output.ts';

/** `liqcal report`: renders a run's stored report model again as Markdown, HTML, JSON and optionally PNG charts. */
export function registerReport(program: Command): void {
  program.command('report')
    .description("Render a run's risk-committee report (Markdown, self-contained HTML with SVG charts, JSON; PNG charts with --png) from the model stored with the run.")
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--run <id>', 'run id (see `liqcal runs`), or latest', 'latest')
    .option('--out <dir>', 'output directory (default: reports/<run id>)')
    .option('--png', 'also write one PNG per chart (for slides)')
    .option('--json', 'print the written paths as JSON')
    .addHelpText('after', `
Examples:
  $ liqcal report --db data/liqcal.db --run latest --out reports/latest
  $ liqcal report --db data/liqcal.db --run 20251101T003000-1a2b3c4d --out /tmp/report --png --json

Writes report.md (for a governance forum), report.html (open in any browser; no network needed), report.json (the
model) and with --png chart-<name>.png. The model is stored by the report stage of a pipeline run (liqcal run).`)
    .action(async (flags: { db: string; run: string; out?: string; png?: boolean; json?: boolean }) => {
      const out = makeOutput(flags);
      if (flags.run.trim() === '') throw new AppError('config', '--run must name a run id or "latest", not an empty string.');
      const store = openStore(flags.db);
      let model;
      try {
        model = loadReportModel(store, flags.run);
      } finally {
        store.close();
      }
      const written = await writeReport(model, flags.out ?? `reports/${model.run.id}`, { png: flags.png ?? false });
      out.result({ run: model.run.id, ...written }, () => [
        `Report of run ${model.run.id} (${model.run.pipeline ?? 'ad hoc'}, ${model.run.status}):`,
        `  markdown  ${written.markdown}`,
        `  html      ${written.html}`,
        `  json      ${written.json}`,
        ...written.png.map((p) => `  png       ${p}`),
      ].join('\n'));
    });
}
