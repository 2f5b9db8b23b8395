/**
 * Reading files that hold secrets (bearer tokens, webhook signing secrets): they must exist and, on POSIX, not be
 * readable or writable by every user — as ssh insists for private keys.
 */
import { readFileSync, statSync } from 'node:fs';
import { AppError } from '../core/errors.ts';

/**
 * Reads a secret-holding file as UTF-8. `what` names it in errors ("token file", "webhook configuration"), `hint`
 * says how to create it. Throws `config` when it cannot be read or is accessible to others.
 */
export function readSecretFile(path: string, what: string, hint: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('config', `Cannot read the ${what} ${path}: ${(e as Error).message}. ${hint}`, { context: { path }, cause: e });
  }
  if (process.platform !== 'win32' && (mode & 0o006) !== 0) {
    throw new AppError('config', `The ${what} ${path} holds a secret but is accessible to every user (mode ${(mode & 0o777).toString(8)}); restrict it with \`chmod 600 ${path}\`.`, { context: { path, mode: (mode & 0o777).toString(8) } });
  }
  return text;
}
