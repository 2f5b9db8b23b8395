/**
 * Logging: pino JSON lines on stderr (stdout stays for command results).
 *
 * Every line of a run should carry its run id, so that an operator can pull one run's lines out of a
 * daemon's interleaved stream (`grep '"runId":"20250101T000000-ab12cd34"'`, or `jq 'select(.runId == …)'`):
 * open the run in the ledger, then log through `runLogger(runId)` (and hand that logger to whatever the run
 * calls). Levels: `LIQCAL_LOG_LEVEL` (default `warn`, so interactive commands stay quiet unless something is
 * retried or skipped); set `info` to see milestones (series ingested, epochs trained, stages finished) and
 * `debug` for more.
 */
import pino from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level (`trace` … `fatal`, or `silent`); default `LIQCAL_LOG_LEVEL`, else `warn`. */
  readonly level?: string;
  /** Where JSON lines go; default stderr, written synchronously so no line is lost on exit. */
  readonly destination?: pino.DestinationStream;
}

/** Builds a liqcal logger (`name: liqcal`, `pid` on every line). The process logger {@link log} is one. */
export function createLogger(opts: LoggerOptions = {}): pino.Logger {
  return pino(
    { name: 'liqcal', level: opts.level ?? process.env.LIQCAL_LOG_LEVEL ?? 'warn', base: { pid: process.pid } },
    opts.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/**
 * The process logger: JSON lines on stderr (stdout stays for command results). Level from
 * `LIQCAL_LOG_LEVEL` (default `warn`, so interactive commands stay quiet unless something is retried
 * or skipped); set `info` or `debug` for operations.
 */
export const log: pino.Logger = createLogger();

/** A child logger carrying fixed fields, e.g. `{ runId }` or `{ venue }`. */
export function childLog(fields: Record<string, unknown>): pino.Logger {
  return log.child(fields);
}

/**
 * The logger of one run: every line it (and its children) writes carries `runId`, the id the run ledger
 * gave the run (`RunLedger.start`). Pass `parent` to bind the id to another logger (tests, a component
 * logger); by default it is the process logger.
 * @param runId - The run's ledger id, e.g. `20250101T000000-ab12cd34`.
 */
export function runLogger(runId: string, parent: pino.Logger = log): pino.Logger {
  return parent.child({ runId });
}
