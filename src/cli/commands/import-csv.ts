import type { Command } from 'commander';
import { AppError } from '../../core/errors.ts';
import { runLogger } from '../../core/log.ts';
import { iso, parseInterval } from '../../core/time.ts';
import { importCsv } from '../../ingest/csv.ts';
import { DEFAULT_DB_PATH, openStore } from '../../store/db.ts';
import { MarketData } from '../../store/market-data.ts';
import { RunLedger } from '../../store/runs.ts';
import { makeOutput, peakRssMb, table } from '../output.ts';
import { createProgress } from '../progress.ts';
import { abandonOnSignals } from '../signals.ts';

interface ImportFlags { db: string; venue: string; symbol: string; interval: string; kind?: string; json?: boolean; quiet?: boolean }

/** `liqcal import-csv`: load CSV files (the ../shared/data formats) into the store, validated row by row. */
export function registerImportCsv(program: Command): void {
  program.command('import-csv')
    .description('Import bar, funding or implied-volatility CSV files into the store; a bad row names file and line, and nothing of that file is written.')
    .argument('<files...>', 'CSV files, imported in the order given')
    .requiredOption('--venue <name>', 'venue name to store the rows under (e.g. binance-spot)')
    .requiredOption('--symbol <sym>', 'symbol to store the rows under (e.g. BTCUSDT)')
    .option('--interval <iv>', 'bar interval of the files', '1h')
    .option('--kind <kind>', 'bars | funding | impliedVol (default: detected from the header)')
    .option('--db <path>', 'store file', DEFAULT_DB_PATH)
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress lines')
    .addHelpText('after', `
Headers understood:
  open_time_ms,open,high,low,close,volume[,quote_volume,trades[,taker_buy_base_volume]]   bars
  funding_time_ms,funding_rate | funding_time_ms,funding_rate_pct                       funding (fraction | percent)
  date_ms,dvol_close                                                                      implied volatility index
Examples:
  $ liqcal import-csv --db data/liqcal.db --venue binance-spot --symbol BTCUSDT --interval 1h ../shared/data/market/binance-spot__finom-static-klines/BTCUSDT/1h/*.csv
  $ liqcal import-csv --venue binance-usdm --symbol BTCUSDT --kind funding ../shared/data/market/binance-funding-btcusdt__eth-dashboard/BTCUSDT-funding-8h-pct.csv
  $ liqcal import-csv --venue deribit --symbol BTC --interval 1d ../shared/data/market/deribit-dvol-btc__eth-dashboard/BTC-DVOL-1d-close.csv
Give a symbol's files oldest first. A file with a bad row is skipped whole (the error names file, line and
field) and the files before it stay imported: fix or remove that file and rerun; rows are upserted, so
importing a file twice changes nothing.`)
    .action(async (files: string[], flags: ImportFlags) => {
      const out = makeOutput(flags);
      const interval = parseInterval(flags.interval);
      const kind = flags.kind === undefined ? undefined : (['bars', 'funding', 'impliedVol'] as const).find((k) => k === flags.kind);
      if (flags.kind !== undefined && kind === undefined) throw new AppError('config', `--kind must be bars, funding or impliedVol, not "${flags.kind}"; or leave it out to detect the kind from each file's header.`);
      const store = openStore(flags.db);
      const ledger = new RunLedger(store);
      const runId = ledger.start({ kind: 'import-csv', config: { ...flags, files } });
      const releaseSignals = abandonOnSignals(store, runId, `the import of ${files.length} file(s)`, out);
      const progress = createProgress({ ...flags, logger: runLogger(runId) });
      try {
        const task = progress.task(`import ${flags.symbol}`, files.length);
        let rows = 0;
        const r = await importCsv({
          md: new MarketData(store), venue: flags.venue, symbol: flags.symbol, interval, files, ...(kind ? { kind } : {}),
          onFile: (f, i) => {
            rows += f.rows;
            task.update(i + 1, `${i + 1}/${files.length} files · ${rows.toLocaleString('en-US')} rows`);
            progress.milestone('file imported', { file: f.file, kind: f.kind, rows: f.rows, duplicates: f.duplicates });
          },
        });
        task.done({ rows: r.rows, files: files.length });
        progress.stop();
        const summary = { runId, venue: flags.venue, symbol: flags.symbol, interval, ...r, first: r.firstMs === undefined ? null : iso(r.firstMs), last: r.lastMs === undefined ? null : iso(r.lastMs), rowsPerSecond: Math.round(r.rows / Math.max(r.elapsedMs / 1000, 1e-9)), peakRssMb: peakRssMb() };
        ledger.finish(runId, { status: 'succeeded', stats: summary });
        out.result(summary, () => table(['file', 'rows', 'duplicates'], r.files.map((f) => [f.file, f.rows, f.duplicates])) + `\n${r.rows} rows in ${(r.elapsedMs / 1000).toFixed(2)} s (${summary.rowsPerSecond} rows/s)`);
      } catch (e) {
        progress.stop();
        ledger.finish(runId, { status: 'failed', error: (e as Error).message });
        throw e;
      } finally {
        releaseSignals();
        store.close();
      }
    });
}
