import { AppError, EXIT_CODES, isAppError } from '../core/errors.ts';
import { redact, redactText } from '../core/redact.ts';
import { escapeControls, jsonForTerminal } from '../core/terminal.ts';

/** How a command prints: human text on stdout, or one JSON document with `--json`. */
export interface Output {
  readonly json: boolean;
  /** Prints a result: `data` as JSON with --json, else the text `human()` builds (secrets redacted either way: src/core/redact.ts). */
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
      process.stdout.write(json ? `${jsonForTerminal(JSON.stringify(redact(data), null, 2))}\n` : `${escapeControls(redactText(human()))}\n`);
    },
    info(line) {
      if (!json && !flags.quiet) process.stderr.write(`${escapeControls(redactText(line))}\n`);
    },
  };
}

/**
 * Turns an error into its exit code and prints it (as JSON on stdout with --json, always as a sentence on stderr),
 * with secrets redacted: URL passwords and `key=value` secrets in the message, secret-like keys in the context.
 */
export function reportError(e: unknown, json: boolean): number {
  const err = isAppError(e) ? e : new AppError('internal', `Unexpected error: ${(e as Error)?.stack ?? String(e)}`);
  if (json) process.stdout.write(`${jsonForTerminal(JSON.stringify({ error: redact(err.toJSON()) }, null, 2))}\n`);
  process.stderr.write(`liqcal: ${escapeControls(redactText(err.message))}\n`);
  return EXIT_CODES[err.kind];
}

/** Splits a comma-separated option into trimmed non-empty items. */
export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A positive decimal integer as typed: no sign, exponent, hex, fraction, spaces or leading zeros. */
const POSITIVE_DECIMAL = /^[1-9][0-9]*$/;
/** A non-negative decimal integer as typed: `0` or a positive decimal integer. */
const NON_NEGATIVE_DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function decimalParser(name: string, re: RegExp, what: string) {
  return (value: string): number => {
    const n = re.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      throw new AppError('usage', `${name} must be ${what} written in decimal digits (no sign, exponent, hex, fraction or leading zeros, at most ${Number.MAX_SAFE_INTEGER}), not ${JSON.stringify(value)}.`, { context: { option: name, value } });
    }
    return n;
  };
}

/**
 * Parses an option that is a positive integer (1, 2, …: counts, limits, intervals), strictly: only decimal digits
 * without leading zeros, at most `Number.MAX_SAFE_INTEGER`. Anything else (`0`, `0x7`, `1e0`, `-1`, `07`, `''`)
 * throws a `usage` AppError (exit code 2) naming the option.
 */
export function positiveInt(name: string): (value: string) => number {
  return decimalParser(name, POSITIVE_DECIMAL, 'a positive whole number');
}

/** Like {@link positiveInt} for an id (an update id, a version): a positive decimal integer, else a `usage` error naming it. */
export function positiveId(name: string): (value: string) => number {
  return decimalParser(name, POSITIVE_DECIMAL, 'a positive whole number (an id)');
}

/** Like {@link positiveInt} but also accepts `0` (e.g. `--port 0` picks a free port, `--after-seq 0` starts at the beginning). */
export function nonNegativeInt(name: string): (value: string) => number {
  return decimalParser(name, NON_NEGATIVE_DECIMAL, 'zero or a positive whole number');
}

/** Formats rows as an aligned plain-text table; control characters (newlines included) in a cell are shown escaped. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => escapeControls(String(c), { newlines: false })))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Peak resident set size of this process so far, in MB (reported by import and ingest for operators and benchmarks). */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
