import { Command, CommanderError } from 'commander';
import { EXIT_CODES } from '../core/errors.ts';
import { escapeControls } from '../core/terminal.ts';
import { registerCalibration } from './commands/calibration.ts';
import { registerData } from './commands/data.ts';
import { registerDemo } from './commands/demo.ts';
import { registerImportCsv } from './commands/import-csv.ts';
import { registerForecasting } from './commands/forecasting.ts';
import { registerIngest } from './commands/ingest.ts';
import { registerParams } from './commands/params.ts';
import { registerReport } from './commands/report.ts';
import { registerRun } from './commands/run.ts';
import { registerRuns } from './commands/runs.ts';
import { registerServe } from './commands/serve.ts';
import { registerServeVenue } from './commands/serve-venue.ts';
import { reportError } from './output.ts';

/** Builds the `liqcal` command tree. Commands are thin: they parse options and call the library. */
export function buildProgram(): Command {
  const program = new Command('liqcal')
    .description('Calibrates liquidation engines: market data → volatility forecasts → anticipatory margin parameters.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Commander echoes what was typed (an unknown option, a bad argument): never raw control characters.
    .configureOutput({ writeErr: (s) => process.stderr.write(escapeControls(s)), outputError: (s, write) => write(escapeControls(s)) })
    .exitOverride();
  registerDemo(program);
  registerIngest(program);
  registerImportCsv(program);
  registerServeVenue(program);
  registerData(program);
  registerForecasting(program);
  registerCalibration(program);
  registerParams(program);
  registerServe(program);
  registerRun(program);
  registerRuns(program);
  registerReport(program);
  program.addHelpText('after', `
Examples:
  $ liqcal run --pipeline pipelines/demo.json      # the whole pipeline once: ingest → train → recommend → publish → report
  $ liqcal schedule --pipeline pipelines/live-binance.json   # the daemon: every job on its cron, UTC
  $ liqcal report --run latest --out reports/      # re-render a run's report (Markdown, HTML, JSON; --png for slides)
  $ liqcal demo                                    # simulated venue on loopback → store → data status
  $ liqcal import-csv --db data/liqcal.db --venue binance-spot --symbol BTCUSDT --interval 1h ../shared/data/market/binance-spot__finom-static-klines/BTCUSDT/1h/*.csv
  $ liqcal ingest --venue binance-usdm --symbols BTCUSDT,ETHUSDT --interval 1h --from 2025-01-01 --kinds bars,funding
  $ liqcal data status --json
  $ liqcal recommend --db data/liqcal.db --symbols BTCUSDT,ETHUSDT
  $ liqcal backtest --db data/liqcal.db --symbols BTCUSDT,ETHUSDT --from 2024-01-01 --to 2025-10-31 --horizon 4h
  $ liqcal params latest --db data/liqcal.db --market BTCUSDT --type maintenanceMarginRatio --json
  $ liqcal params rails set --db data/liqcal.db --file rails.json --by alice --reason "hourly recalibration"
  $ liqcal serve --db data/liqcal.db --port 8080 --token-file secrets/updater.token

Exit codes: 0 ok, 1 internal, 2 usage (e.g. an id or --limit that is not a positive decimal integer), 3 config,
            4 bad request/symbol, 5 schema/bad response, 6 data quality,
            7 network/rate limit/unavailable (after retries), 8 not supported, 9 I/O,
            10 refused by a parameter guard rail (params propose: any proposal refused; a --rails override that
               loosens the store's rails) or a version conflict,
            11 no usable value (params latest: nothing published, or the head is expired, disabled or paused).`);
  return program;
}

/** Runs the CLI on `argv`; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    // A command that finished but with partial failures sets process.exitCode itself.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : EXIT_CODES.usage;
    }
    return reportError(e, argv.includes('--json'));
  }
}
