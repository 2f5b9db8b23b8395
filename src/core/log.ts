/**
 * Logging: pino JSON lines on stderr (stdout stays for command results).
 *
 * Every line of a run should carry its run id, so that an operator can pull one run's lines out of a
 * daemon's interleaved stream (`grep '"runId":"20250101T000000-ab12cd34"'`, or `jq 'select(.runId == …)'`):
 * open the run in the ledger, then log through `runLogger(runId)` (and hand that logger to whatever the run
 * calls). Levels: `LIQCAL_LOG_LEVEL` (default `warn`, so interactive commands stay quiet unless something is
 * retried or skipped); set `info` to see milestones (series ingested, epochs trained, stages finished) and
 * `debug` for more.
 *
 * Secrets never reach the stream: every line goes through {@link redactLogLine} (values under secret-like keys become
 * `[REDACTED]` at any depth, URL passwords, `key=value` secrets and bearer tokens are masked in every string, the
 * message included; see src/core/redact.ts). It sits at the destination because pino's `redact` option only knows
 * fixed paths and its formatters do not see the bindings of child loggers (`log.child({ url })`).
 */
import pino from 'pino';
import { mightHoldSecret, redact, redactText } from './redact.ts';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level (`trace` … `fatal`, or `silent`); default `LIQCAL_LOG_LEVEL`, else `warn`. */
  readonly level?: string;
  /** Where JSON lines go; default stderr, written synchronously so no line is lost on exit. */
  readonly destination?: pino.DestinationStream;
}

/**
 * One JSON log line with its secrets masked ({@link redact} over the parsed line, so bindings, the message, error
 * stacks and nested fields are all covered). Lines that cannot hold a secret are returned as they are; a line that is
 * not JSON goes through {@link redactText}.
 */
export function redactLogLine(line: string): string {
  if (!mightHoldSecret(line)) return line;
  const newline = line.endsWith('\n') ? '\n' : '';
  let parsed: unknown;
  try { parsed = JSON.parse(line); } catch { return redactText(line); }
  const out = `${JSON.stringify(redact(parsed))}${newline}`;
  return out === line ? line : out;
}

/** Wraps a destination so that every line passes through {@link redactLogLine}; flush methods are passed on. */
function redacting(dest: pino.DestinationStream): pino.DestinationStream {
  const d = dest as pino.DestinationStream & { flush?: (cb?: (e?: Error) => void) => void; flushSync?: () => void; end?: () => void };
  const out: pino.DestinationStream & Record<string, unknown> = { write: (line: string) => d.write(redactLogLine(line)) };
  if (typeof d.flush === 'function') out.flush = d.flush.bind(d);
  if (typeof d.flushSync === 'function') out.flushSync = d.flushSync.bind(d);
  if (typeof d.end === 'function') out.end = d.end.bind(d);
  return out;
}

/**
 * Builds a liqcal logger (`name: liqcal`, `pid` on every line, secrets redacted: see {@link redactLogLine}). The
 * process logger {@link log} is one.
 */
export function createLogger(opts: LoggerOptions = {}): pino.Logger {
  return pino(
    { name: 'liqcal', level: opts.level ?? process.env.LIQCAL_LOG_LEVEL ?? 'warn', base: { pid: process.pid } },
    redacting(opts.destination ?? pino.destination({ fd: 2, sync: true })),
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
