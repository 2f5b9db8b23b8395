import { AppError, EXIT_CODES, isAppError } from '../core/errors.ts';

/** How a command prints: human text on stdout, or one JSON document with `--json`. */
export interface Output {
  readonly json: boolean;
  /** Prints a result: `data` as JSON with --json, else the text `human()` builds. */
  result(data: unknown, human: () => string): void;
  /** A progress or info line for people (stderr; silent with --json or --quiet). */
  info(line: string): void;
}

/** Builds an Output for the given flags. */
export function makeOutput(flags: { json?: boolean; quiet?: boolean }): Output {
  const json = flags.json ?? false;
  return {
    json,
    result(data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
    },
    info(line) {
      if (!json && !flags.quiet) process.stderr.write(`${line}\n`);
    },
  };
}

/** Turns an error into its exit code and prints it (as JSON on stdout with --json, always as a sentence on stderr). */
export function reportError(e: unknown, json: boolean): number {
  const err = isAppError(e) ? e : new AppError('internal', `Unexpected error: ${(e as Error)?.stack ?? String(e)}`);
  if (json) process.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
  process.stderr.write(`liqcal: ${err.message}\n`);
  return EXIT_CODES[err.kind];
}

/** Splits a comma-separated option into trimmed non-empty items. */
export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Parses a positive integer option, or throws a `config` error naming the option. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new AppError('config', `${name} must be a non-negative integer, not "${value}".`, { context: { [name]: value } });
    return n;
  };
}

/** Formats rows as an aligned plain-text table. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Peak resident set size of this process so far, in MB (reported by import and ingest for operators and benchmarks). */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
