/**
 * One error tree for the whole project. The `kind` decides behaviour: only the retryable
 * transport kinds (`network`, `rateLimited`, `unavailable`) are ever retried.
 */

/** Error kinds that a retry may cure. */
export const RETRYABLE_KINDS = ['network', 'rateLimited', 'unavailable'] as const;

/** Every error kind liqcal raises. */
export type ErrorKind =
  | (typeof RETRYABLE_KINDS)[number]
  | 'badRequest'
  | 'badSymbol'
  | 'badResponse'
  | 'schema'
  | 'dataQuality'
  | 'notSupported'
  | 'config'
  | 'io'
  | 'guardRail'
  | 'usage'
  | 'unusable'
  | 'internal';

/** Structured context attached to an error (venue, endpoint, file, line, field paths…). */
export type ErrorContext = Readonly<Record<string, unknown>>;

/** The root of every error liqcal raises on purpose. Messages are whole sentences naming the bad value and the fix. */
export class AppError extends Error {
  /** What went wrong, by category; drives retry and exit codes. */
  readonly kind: ErrorKind;
  /** Machine-readable details: where it happened and with which values. */
  readonly context: ErrorContext;
  /** For `rateLimited`: how long the server asked us to wait, in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, message: string, opts: { context?: ErrorContext; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.context = opts.context ?? {};
    this.retryAfterMs = opts.retryAfterMs;
  }

  /** True for the transport kinds that a retry may cure. */
  get retryable(): boolean {
    return (RETRYABLE_KINDS as readonly string[]).includes(this.kind);
  }

  /** A JSON-friendly form for `--json` output and logs. */
  toJSON(): { kind: ErrorKind; message: string; context: ErrorContext } {
    return { kind: this.kind, message: this.message, context: this.context };
  }
}

/** True when `e` is an AppError (of the given kind, if one is named). */
export function isAppError(e: unknown, kind?: ErrorKind): e is AppError {
  return e instanceof AppError && (kind === undefined || e.kind === kind);
}

/** Formats zod-style issues as `path: message` pairs for error messages. */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], max = 5): string {
  const parts = issues.slice(0, max).map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  if (issues.length > max) parts.push(`… and ${issues.length - max} more`);
  return parts.join('; ');
}

/**
 * Process exit codes, documented in the README and `liqcal --help`: 2 `usage` (a malformed option or argument, e.g. an
 * id that is not a positive decimal integer), 10 `guardRail` (refused by a guard rail, including a rails override that
 * would loosen the store's rails, or a lost publish race), 11 `unusable` (no usable value: nothing published for that
 * market and type, or the head is expired, disabled or the store is paused).
 */
export const EXIT_CODES: Readonly<Record<ErrorKind | 'ok', number>> = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  badRequest: 4,
  badSymbol: 4,
  schema: 5,
  badResponse: 5,
  dataQuality: 6,
  network: 7,
  rateLimited: 7,
  unavailable: 7,
  notSupported: 8,
  io: 9,
  guardRail: 10,
  unusable: 11,
};
