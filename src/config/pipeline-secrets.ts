/**
 * Credentials in pipeline files (issue 10 item 6). A pipeline file is copied into the run ledger (`runs.config_json`)
 * and read by anyone who can read the store, so it must not hold passwords: {@link refusePipelineUrlCredentials}
 * refuses any URL in it that carries a password (`postgres://user:password@…`, `?password=…`, `?token=…`), naming the
 * field and how to pass the password instead, without repeating it. Values under secret-like keys that are allowed
 * (free-form objects such as `model.spec`) are redacted in the ledger by src/store/runs.ts.
 */
import { AppError } from '../core/errors.ts';
import { findUrlCredentials, type DocPath } from '../core/redact.ts';

/** `store.postgres.url`, `jobs[0].x` (as pipeline errors print paths). */
function formatDocPath(path: DocPath): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${p}`)).join('');
}

/**
 * Throws a `config` AppError when any string in the parsed pipeline document `json` is a URL carrying a password or a
 * secret-named query parameter; `file` names the pipeline in the message. User names alone
 * (`postgres://liqcal@db:5432/prod`) are fine.
 */
export function refusePipelineUrlCredentials(json: unknown, file: string): void {
  const found = findUrlCredentials(json);
  if (found.length === 0) return;
  const fields = found.slice(0, 8).map((f) => `${file}: ${formatDocPath(f.path)}: the URL ${f.problem}`);
  const pg = found.some((f) => f.path[0] === 'store');
  const fix = pg
    ? 'Write the PostgreSQL URL without the password (postgres://user@host:5432/db) and give the password through the PGPASSWORD environment variable or ~/.pgpass (both read by the pg driver), or keep the whole URL in an environment variable named by store.postgres.urlEnv'
    : 'Remove the credentials from the URL';
  throw new AppError('config', `${fields.join('; ')}. A pipeline file is copied into the run ledger, so it must not hold credentials. ${fix}.`, {
    context: { file, fields: found.map((f) => formatDocPath(f.path)) },
  });
}
