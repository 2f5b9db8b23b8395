import type { Command } from 'commander';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { AppError } from '../../core/errors.ts';
import type { ParamBackend } from '../../params/backend.ts';
import { readTokenFile, startParamsApi } from '../../params/http-api.ts';
import { checkPostgresUrl, usePostgresPasswordFile } from '../../params/pg-credentials.ts';
import { openSqliteBackend } from '../../params/sqlite-backend.ts';
import { ParameterStore } from '../../params/store.ts';
import { loadWebhookConfig, SqliteDeliveryLog, WebhookPublisher } from '../../params/webhook.ts';
import { DEFAULT_DB_PATH } from '../../store/db.ts';
import { makeOutput, nonNegativeInt, positiveInt } from '../output.ts';

interface ServeFlags {
  db: string; postgres?: string; postgresPasswordFile?: string; pgSchema: string; port: number; host: string; tokenFile: string;
  webhooks?: string; webhookLog?: string; pollMs: number; json?: boolean;
}

/** Parses `--port`: a decimal integer 0–65535 (0 picks a free port), else a `usage` error (exit code 2). */
function portNumber(value: string): number {
  const n = nonNegativeInt('--port')(value);
  if (n > 65_535) throw new AppError('usage', `--port must be at most 65535, not ${n}.`, { context: { option: '--port', value } });
  return n;
}

/** `liqcal serve`: the read-only HTTP API for automated updaters (latest, history, health) with bearer-token auth, and optionally the webhook publisher. */
export function registerServe(program: Command): void {
  program.command('serve')
    .description('Serve the parameter store read-only over HTTP for updaters: GET /v1/health, /v1/latest?market=M&type=T, /v1/history?market=M[&type=T][&fromId=N][&limit=N]. Every request needs "Authorization: Bearer <token>". With --webhooks, also POST each newly published record to the configured URLs (signed, retried, logged).')
    .requiredOption('--token-file <path>', 'file holding the bearer token (≥ 16 characters, not readable by others: chmod 600)')
    .option('--db <path>', 'SQLite parameter store', DEFAULT_DB_PATH)
    .option('--postgres <url>', 'serve a PostgreSQL parameter store instead of --db (postgres://user@host:5432/db; no password in the URL: use --postgres-password-file, PGPASSWORD or ~/.pgpass)')
    .option('--postgres-password-file <path>', 'file holding the PostgreSQL password (one line; chmod 600, owned by you)')
    .option('--pg-schema <name>', 'PostgreSQL schema of the store', 'liqcal')
    .option('--port <n>', 'port, 0–65535 (0 picks a free one)', portNumber, 8788)
    .option('--host <host>', 'bind address (loopback by default)', '127.0.0.1')
    .option('--webhooks <file>', 'webhook configuration JSON {"urls":[…],"secret":"…","retry":{…}} (chmod 600: it holds the secret)')
    .option('--webhook-log <path>', 'SQLite file of the webhook delivery log (default: <db>.webhooks.db, or data/webhooks.db with --postgres)')
    .option('--poll-ms <n>', 'how often the webhook publisher looks for new publications, in ms', positiveInt('--poll-ms'), 1000)
    .option('--json', 'print the listening URL as JSON')
    .action(async (flags: ServeFlags) => {
      const out = makeOutput(flags);
      // Checked before opening anything: a server must not start without a usable secret.
      const token = readTokenFile(flags.tokenFile);
      const webhooks = flags.webhooks ? loadWebhookConfig(flags.webhooks) : undefined;
      if (flags.postgres !== undefined) checkPostgresUrl(flags.postgres, '--postgres');
      if (flags.postgresPasswordFile !== undefined) {
        if (flags.postgres === undefined) throw new AppError('config', '--postgres-password-file needs --postgres URL (the SQLite store has no password); add --postgres or drop the option.', { context: { option: '--postgres-password-file' } });
        usePostgresPasswordFile(flags.postgresPasswordFile);
      }
      // A read-only server must not create an empty store by accident (a typo in --db would serve nothing, quietly).
      if (!flags.postgres && !existsSync(flags.db)) throw new AppError('config', `There is no parameter store at ${flags.db}; check --db (create one with \`liqcal params propose --db ${flags.db} …\`).`, { context: { db: flags.db } });
      const backend: ParamBackend = flags.postgres
        // pg is loaded only when asked for, so other commands do not pay for it at start-up.
        ? await (await import('../../params/postgres-backend.ts')).openPostgresBackend({ url: flags.postgres, schema: flags.pgSchema })
        : openSqliteBackend(flags.db);
      const cleanups: (() => Promise<void> | void)[] = [() => backend.close()];
      const cleanup = async (): Promise<void> => { for (const c of cleanups.splice(0).reverse()) await c(); };
      try {
        const store = new ParameterStore(backend);
        const server = await startParamsApi({ store, token, host: flags.host, port: flags.port });
        cleanups.push(() => server.close());
        let logPath: string | undefined;
        if (webhooks) {
          logPath = flags.webhookLog ?? (flags.postgres ? 'data/webhooks.db' : `${flags.db}.webhooks.db`);
          const logDb = new Database(logPath);
          logDb.pragma('journal_mode = WAL');
          const publisher = new WebhookPublisher({ config: webhooks, log: new SqliteDeliveryLog(logDb), readPublished: (after, limit) => backend.publishedAfter(after, limit) });
          const ctl = new AbortController();
          const running = publisher.run({ pollMs: flags.pollMs, signal: ctl.signal });
          cleanups.push(() => { logDb.close(); }, async () => { ctl.abort(); await running; });
        }
        out.result({ url: server.url, backend: backend.name, ...(webhooks ? { webhooks: webhooks.urls.length, webhookLog: logPath } : {}) },
          () => `parameter API for ${backend.name} listening on ${server.url}${webhooks ? `, webhooks to ${webhooks.urls.length} URL(s)` : ''} (Ctrl-C to stop)`);
      } catch (e) {
        await cleanup();
        throw e;
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      // Stop in reverse order: webhooks finish their pass, the API lets requests in flight finish, then the store closes.
      await cleanup();
      out.info('parameter API stopped');
    });
}
