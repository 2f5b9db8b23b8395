/**
 * Redaction of secrets (issue 10 item 6): one place that decides what a secret looks like, used by the logger, the
 * run ledger, the CLI's output and error messages, and the webhook delivery log.
 *
 * - {@link redact} deep-copies a value and replaces whatever sits under a secret-like key ({@link isSecretKey}:
 *   secret, token, password, passwd, passphrase, apikey / api_key, authorization, credential, private key…, in any
 *   case, at any depth, in objects, arrays, maps and error objects) with {@link REDACTED}; every string it meets goes
 *   through {@link redactText}.
 * - {@link redactText} masks secrets inside free text: the password of `scheme://user:password@host` URLs,
 *   `key=value` pairs (query strings, env assignments), `"key": "value"` and `key: 'value'` pairs with a secret-like
 *   key, and `Bearer <token>`.
 * - {@link redactUrl} masks the password and secret-named query parameters of one URL.
 * - {@link urlCredentials} tells whether a URL carries credentials, in words that never repeat them, for the config
 *   checks that refuse such URLs; {@link findUrlCredentials} finds every such URL in a parsed document.
 *
 * Redaction is a safety net: secrets are refused at the edges (URLs with passwords, files readable by others) and
 * read from private files or the environment, so that normally nothing needs masking.
 */

/** What every redacted value becomes. */
export const REDACTED = '[REDACTED]';

/** Words that make a key secret-like, matched in the key lower-cased with `-`, `_`, `.` and spaces removed. */
const SECRET_WORDS = ['secret', 'token', 'password', 'passwd', 'passphrase', 'apikey', 'authorization', 'authorisation', 'credential', 'privatekey', 'accesskey', 'cookie'] as const;
/** Keys that are secret-like only as a whole (as substrings they are too common: "compass", "cwd"). */
const SECRET_WHOLE_KEYS = new Set(['pass', 'pwd', 'pw', 'auth']);
/**
 * Endings that make a secret-like key name something *about* a secret rather than the secret itself: the file or
 * environment variable holding it (`tokenFile`, `passwordFile`, `urlEnv`), a length, a count or a kind.
 */
const NOT_SECRET_SUFFIX = /(file|path|env|dir|length|count|type|kind)$/;

/**
 * True when a value under `key` must be treated as a secret (case-insensitive, separators ignored): `secret`,
 * `apiToken`, `X-Api-Key`, `db_password`, `Authorization`, `credentials`… but not `tokenFile` or `passwordEnv`,
 * which name where a secret is kept.
 */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_.\s]/g, '');
  if (SECRET_WHOLE_KEYS.has(k)) return true;
  if (!SECRET_WORDS.some((w) => k.includes(w))) return false;
  return !NOT_SECRET_SUFFIX.test(k);
}

/** Cheap pre-check: text that can contain nothing {@link redactText} or {@link redact} would mask. */
const MAYBE_SECRET = new RegExp(`${SECRET_WORDS.join('|')}|pass|pwd|pw|auth|bearer|://`, 'i');

/** True when `text` might hold something {@link redact} or {@link redactText} masks (a fast filter for hot paths). */
export function mightHoldSecret(text: string): boolean {
  return MAYBE_SECRET.test(text);
}

/** `scheme://user:password@`: the password runs to the last `@` before whitespace, a quote or `<>` (over-masking is fine). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@"'<>]*):([^\s"'<>]*)@/gi;
/** `key=value` (query strings, env assignments, `--opt=value`); the key decides. */
const KEY_EQUALS = /([A-Za-z0-9_.$-]+)=("[^"]*"|'[^']*'|[^\s&"',;)}\]]+)/g;
/** `"key": value` as in JSON (a string, or a bare number / word; nested objects in text are not followed). */
const JSON_PAIR = /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,{}[\]"][^\s,}\]]*)/g;
/** `key: 'value'` as util.inspect prints objects. */
const INSPECT_PAIR = /([A-Za-z_$][A-Za-z0-9_$-]*)(\s*:\s*)('(?:[^'\\]|\\.)*')/g;
/** `Bearer <token>` (at least 8 token characters, so prose such as `Bearer <token>` or `Bearer realm` stays). */
const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;

/**
 * Masks secrets inside free text (messages, stack traces, log lines): URL passwords (`postgres://u:[REDACTED]@h/db`),
 * `key=value`, `"key": "value"` and `key: 'value'` with a secret-like key ({@link isSecretKey}), and bearer tokens.
 * Text without any of these is returned unchanged.
 */
export function redactText(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  return text
    .replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(JSON_PAIR, (m, key: string, sep: string) => (isSecretKey(key) ? `"${key}"${sep}"${REDACTED}"` : m))
    .replace(INSPECT_PAIR, (m, key: string, sep: string) => (isSecretKey(key) ? `${key}${sep}'${REDACTED}'` : m))
    .replace(KEY_EQUALS, (m, key: string) => (isSecretKey(key) ? `${key}=${REDACTED}` : m))
    .replace(BEARER, (_m, word: string) => `${word} ${REDACTED}`);
}

/**
 * Masks the password and every secret-named query parameter (`?token=…`, `?password=…`) of a URL; the user name,
 * host, path and other parameters stay. A string that is not an absolute URL goes through {@link redactText}.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { return redactText(url); }
  // URL would percent-encode "[REDACTED]"; set a marker and swap it in afterwards.
  const marker = 'liqcalredactedmarker';
  let changed = false;
  if (u.password !== '') { u.password = marker; changed = true; }
  for (const key of [...u.searchParams.keys()]) {
    if (isSecretKey(key)) { u.searchParams.set(key, marker); changed = true; }
  }
  return changed ? u.toString().replaceAll(marker, REDACTED) : url;
}

/**
 * A deep copy of `value` with every value under a secret-like key ({@link isSecretKey}) replaced by {@link REDACTED}
 * (null and undefined are kept: they reveal nothing) and every string passed through {@link redactText}. Plain
 * objects, arrays, Maps and Sets are copied; Errors become `{ type, message, stack, …own fields }`; objects with
 * `toJSON` (other than Dates) are redacted in their JSON form; other class instances are copied field by field.
 * Cycles become `"[Circular]"`. The static type is kept for convenience (the shape only changes for Errors).
 */
export function redact<T>(value: T): T {
  return walk(value, new Set()) as T;
}

function walk(v: unknown, path: Set<object>): unknown {
  if (typeof v === 'string') return redactText(v);
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Date || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v;
  if (path.has(v)) return '[Circular]';
  path.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => walk(x, path));
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, typeof k === 'string' && isSecretKey(k) && x != null ? REDACTED : walk(x, path)]));
    if (v instanceof Set) return new Set([...v].map((x) => walk(x, path)));
    if (v instanceof Error) {
      const out: Record<string, unknown> = { type: v.name, message: redactText(v.message) };
      if (v.stack !== undefined) out.stack = redactText(v.stack);
      copyFields(v, out, path);
      if (v.cause !== undefined) out.cause = walk(v.cause, path);
      return out;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (proto !== Object.prototype && proto !== null && typeof toJSON === 'function') return walk(toJSON.call(v), path);
    const out: Record<string, unknown> = {};
    copyFields(v, out, path);
    return out;
  } finally {
    path.delete(v);
  }
}

function copyFields(from: object, to: Record<string, unknown>, path: Set<object>): void {
  for (const [k, x] of Object.entries(from)) to[k] = isSecretKey(k) && x != null ? REDACTED : walk(x, path);
}

/** Path segments of a value inside a parsed document, as zod gives them (`['store', 'postgres', 'url']`). */
export type DocPath = readonly (string | number)[];

/** A URL that carries credentials, found by {@link findUrlCredentials}; `problem` never repeats the secret. */
export interface UrlCredentialFinding {
  readonly path: DocPath;
  readonly problem: string;
}

/**
 * Describes the credentials `url` carries, in words that do not repeat them, or returns null when it carries none
 * (or is not a URL). A password in the user-info part (`user:password@`) and a secret-named query parameter
 * (`?password=…`, `?token=…`) always count; a user name alone (`postgres://alice@host/db`) counts only when
 * `allowUser` is false (fetch refuses any user-info).
 */
export function urlCredentials(url: string, opts: { allowUser?: boolean } = {}): string | null {
  let u: URL;
  try { u = new URL(url); } catch { return null; }
  if (!/^[a-z][a-z0-9+.-]*:$/i.test(u.protocol) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url.trimStart())) return null;
  const what: string[] = [];
  if (u.password !== '') what.push('a password in its user-info part (user:password@)');
  else if (u.username !== '' && !opts.allowUser) what.push('a user name in its user-info part (user@)');
  const keys = [...new Set([...u.searchParams.keys()].filter(isSecretKey))];
  if (keys.length > 0) what.push(`the secret query parameter${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`);
  return what.length === 0 ? null : `carries ${what.join(' and ')}`;
}

/**
 * Every string in a parsed document (objects and arrays, at any depth) that is a URL carrying a password or a
 * secret-named query parameter (see {@link urlCredentials}; user names alone are allowed), with its path.
 */
export function findUrlCredentials(doc: unknown, path: DocPath = []): UrlCredentialFinding[] {
  if (typeof doc === 'string') {
    const problem = doc.includes('://') ? urlCredentials(doc, { allowUser: true }) : null;
    return problem === null ? [] : [{ path, problem }];
  }
  if (Array.isArray(doc)) return doc.flatMap((x, i) => findUrlCredentials(x, [...path, i]));
  if (doc !== null && typeof doc === 'object') return Object.entries(doc).flatMap(([k, x]) => findUrlCredentials(x, [...path, k]));
  return [];
}
