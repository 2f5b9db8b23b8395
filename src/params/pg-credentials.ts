/**
 * PostgreSQL credentials without secrets in URLs (issue 10 item 6). A connection URL given on the command line or in
 * a pipeline file must not carry a password (`postgres://user:password@…` or `?password=…`): command lines are
 * visible to every user (`ps`) and pipeline files are copied into the run ledger. The password comes instead from a
 * private file (`--postgres-password-file`), the `PGPASSWORD` environment variable, or `~/.pgpass` — the last two
 * read by the pg driver itself, as libpq does.
 */
import { AppError } from '../core/errors.ts';
import { urlCredentials } from '../core/redact.ts';
import { readSecretFile } from './secret-file.ts';

/** How to pass a PostgreSQL password instead of writing it in a URL (ends a sentence). */
export const PG_PASSWORD_HOWTO = 'put the password in a file readable only by you and pass --postgres-password-file FILE, or export PGPASSWORD, or add it to ~/.pgpass (the pg driver reads both)';

/**
 * Throws `config` when a PostgreSQL URL carries a password (user-info or a secret-named query parameter); a user
 * name alone is fine. `option` names where the URL came from (e.g. `--postgres`), `howto` says how to pass the
 * password instead. The message never contains the URL.
 */
export function checkPostgresUrl(url: string, option: string, howto: string = PG_PASSWORD_HOWTO): void {
  const problem = urlCredentials(url, { allowUser: true });
  if (problem === null) return;
  throw new AppError('config', `The ${option} URL ${problem}; a password must not be written in a connection URL (it would be visible in process lists, logs and the run ledger). Write postgres://user@host:5432/db and ${howto}.`, { context: { option } });
}

/**
 * Reads a PostgreSQL password from a private file (mode 600, owned by you: see `readSecretFile`; one line, the
 * trailing newline ignored) and hands it to the pg driver of this process through `PGPASSWORD`, which pg reads for
 * every connection whose URL has no password. Throws `config` naming the file (never its content).
 */
export function usePostgresPasswordFile(path: string): void {
  const text = readSecretFile(path, 'PostgreSQL password file', `Create it readable only by you (\`install -m 600 /dev/null ${path}\`) and write the password into it with an editor.`);
  const password = text.replace(/\r?\n$/, '');
  if (password.length === 0) throw new AppError('config', `The PostgreSQL password file ${path} is empty; write the password into it (one line).`, { context: { path } });
  if (/[\r\n]/.test(password)) throw new AppError('config', `The PostgreSQL password file ${path} has more than one line; write the password alone on one line.`, { context: { path } });
  process.env.PGPASSWORD = password;
}
