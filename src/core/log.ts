import pino from 'pino';

/**
 * The process logger: JSON lines on stderr (stdout stays for command results). Level from
 * `LIQCAL_LOG_LEVEL` (default `warn`, so interactive commands stay quiet unless something is retried
 * or skipped); set `info` or `debug` for operations.
 */
export const log = pino({ name: 'liqcal', level: process.env.LIQCAL_LOG_LEVEL ?? 'warn', base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));

/** A child logger carrying fixed fields, e.g. `{ runId }` or `{ venue }`. */
export function childLog(fields: Record<string, unknown>): pino.Logger {
  return log.child(fields);
}
