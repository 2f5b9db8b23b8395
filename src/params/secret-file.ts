/**
 * Reading files that hold secrets (bearer tokens, webhook signing secrets, PostgreSQL passwords). As ssh insists for
 * private keys, on POSIX such a file must be a regular file owned by the user running liqcal with no permission bits
 * for its group or other users (mode 600 or 400). Errors name the file, its mode and owner and the `chmod` / `chown`
 * that fixes it — never its content.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { AppError } from '../core/errors.ts';
import { describeJsonPosition, parseJsonQuietly } from '../core/json-syntax.ts';

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(3, '0');

/** Who besides the owner the mode lets in, e.g. `its group (read)`, `every user (read, write)`. */
function describeAccess(mode: number): string {
  const bits = (b: number): string => [b & 4 ? 'read' : '', b & 2 ? 'write' : '', b & 1 ? 'execute' : ''].filter(Boolean).join(', ');
  const parts: string[] = [];
  if (mode & 0o070) parts.push(`its group (${bits((mode >> 3) & 7)})`);
  if (mode & 0o007) parts.push(`every other user (${bits(mode & 7)})`);
  return parts.join(' and ');
}

/**
 * Checks that a secret-holding file is private: on POSIX, `mode & 0o077 === 0` and owned by this process's user.
 * Throws `config` naming the file, its mode and owner and the fix. Does nothing on Windows.
 */
export function checkSecretFileAccess(path: string, what: string, st: Stats): void {
  if (process.platform === 'win32') return;
  const mode = st.mode & 0o777;
  const uid = process.getuid?.();
  const context = { path, mode: octal(mode), ownerUid: st.uid };
  if ((mode & 0o077) !== 0) {
    throw new AppError('config', `The ${what} ${path} holds a secret but its mode ${octal(mode)} (owner uid ${st.uid}) gives ${describeAccess(mode)} access; it must be readable by its owner only: run \`chmod 600 ${path}\`.`, { context });
  }
  if (uid !== undefined && st.uid !== uid) {
    throw new AppError('config', `The ${what} ${path} holds a secret but is owned by uid ${st.uid}, not by the user running liqcal (uid ${uid}; mode ${octal(mode)}); take it over with \`chown ${uid} ${path}\` (as root), or run liqcal as uid ${st.uid}.`, { context: { ...context, processUid: uid } });
  }
}

/**
 * Reads a secret-holding file as UTF-8. `what` names it in errors ("token file", "webhook configuration"), `hint`
 * says how to create it. Throws `config` when it is missing, not a regular file, or not private to this user
 * ({@link checkSecretFileAccess}); permissions are checked before anything is read.
 */
export function readSecretFile(path: string, what: string, hint: string): string {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new AppError('config', `Cannot read the ${what} ${path}: ${(e as Error).message}. ${hint}`, { context: { path }, cause: e });
  }
  if (!st.isFile()) throw new AppError('config', `The ${what} ${path} is not a regular file. ${hint}`, { context: { path } });
  checkSecretFileAccess(path, what, st);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('config', `Cannot read the ${what} ${path}: ${(e as Error).message}. ${hint}`, { context: { path }, cause: e });
  }
}

/**
 * Parses the JSON text of a secret-holding file. A syntax error becomes a `config` error naming the file, line and
 * column only: `JSON.parse`'s message quotes the text around the error, which may be the secret.
 */
export function parseSecretJson(text: string, path: string, what: string): unknown {
  return parseJsonQuietly(text, (at) => new AppError('config',
    `The ${what} ${path} is not valid JSON: the syntax breaks at ${describeJsonPosition(at)}. Fix it there (the file holds a secret, so its content is not shown).`,
    { context: { path, ...(at ? { line: at.line, column: at.column } : {}) } }));
}
