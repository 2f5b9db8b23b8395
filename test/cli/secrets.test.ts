/**
 * Issue 10 items 6 and 7 through the real CLI: secrets in URLs are refused (exit 3) without being echoed, secret-like
 * values that are allowed are redacted in the ledger (SQLite bytes), `runs --json` and the logs, and secret files
 * must be private to the user running liqcal.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/http-server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { writeTickPipeline } from '../pipeline/fixture.ts';

const tmp = tempDir('liqcal-secrets-');
/** Secrets are mixed-case random letters and digits, so none of their 4-character pieces occurs in a message by chance. */
const TOKEN = 'Tk9Qw2Ez7Rx4Yc8Vb3Nm6LpJ5';
const WEBHOOK_SECRET = 'Wq7Zx9Kp2Vn4Jm8Ty3RbHs6F';
const db = tmp.path('params.db');
const tokenFile = tmp.path('token');
const uid = process.getuid?.() ?? -1;
const DEBUG = { LIQCAL_LOG_LEVEL: 'debug' };
let receiver: TestServer;

beforeAll(async () => {
  await openSqliteBackend(db).close();
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
  receiver = await startTestServer(() => ({ status: 204 }));
});
afterAll(async () => {
  await receiver.close();
  tmp.cleanup();
});

/** Writes a file with the given mode (and owner) and returns its path. */
function file(name: string, text: string, mode = 0o600, owner?: number): string {
  const p = tmp.path(name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  if (owner !== undefined) chownSync(p, owner, owner);
  return p;
}

/** Every byte of the files in `dir` whose names start with `prefix` (a SQLite file with its -wal and -shm). */
function bytesOf(dir: string, prefix: string): string {
  return readdirSync(dir).filter((f) => f.startsWith(prefix)).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
}

/** Expects none of the 4-character pieces of `secret` in `text` (so no prefix or snippet of it leaked either). */
function expectNoPieceOf(text: string, secret: string): void {
  for (let i = 0; i + 4 <= secret.length; i++) expect(text, `"${secret.slice(i, i + 4)}" of the secret leaked`).not.toContain(secret.slice(i, i + 4));
}

/** Spawns `liqcal serve … --port 0 --json` and resolves once it prints its URL. */
async function startServe(args: string[]) {
  const p = spawnCli(['serve', ...args, '--port', '0', '--json']);
  let stdout = '';
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((ok) => p.on('close', (code) => ok(code)));
  const started = await new Promise<{ url: string; backend: string }>((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      try { resolve(JSON.parse(stdout) as { url: string; backend: string }); } catch { /* not complete yet */ }
    });
    void exited.then((code) => reject(new Error(`serve exited early with ${code}: ${stderr}`)));
  });
  return { p, exited, started, stderr: () => stderr };
}

describe('webhook configuration secrets', () => {
  it('refuses a webhook URL with user:password@ (exit 3): the password is in no output, log or delivery-log byte, and nothing is sent', async () => {
    const hookUrl = receiver.url.replace('http://', 'http://user:hunter2@');
    const cfg = file('webhooks-userinfo.json', JSON.stringify({ urls: [`${hookUrl}/hook`], secret: WEBHOOK_SECRET }));
    const deliveries = tmp.path('deliveries-userinfo.db');
    const [human, json] = await Promise.all([
      runCli(['serve', '--db', db, '--port', '0', '--token-file', tokenFile, '--webhooks', cfg, '--webhook-log', deliveries], { env: DEBUG }),
      runCli(['serve', '--db', db, '--port', '0', '--token-file', tokenFile, '--webhooks', cfg, '--webhook-log', deliveries, '--json'], { env: DEBUG }),
    ]);
    for (const r of [human, json]) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`The webhook configuration ${cfg} is invalid: urls.0: the URL carries a password in its user-info part`);
      expect(r.stderr).toContain('X-Liqcal-Signature');
      expect(`${r.stdout}${r.stderr}`).not.toContain('hunter2');
      expectNoPieceOf(`${r.stdout}${r.stderr}`, WEBHOOK_SECRET);
    }
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { kind: 'config', context: { path: cfg } } });
    expect(existsSync(deliveries) ? bytesOf(tmp.dir, 'deliveries-userinfo.db') : '').not.toContain('hunter2');
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a webhook file with a JSON syntax error after the secret, naming the file, line and column only', async () => {
    const text = `{\n  "urls": ["${receiver.url}/hook"],\n  "secret": "${WEBHOOK_SECRET}"\n  "timeoutMs": 1000\n}\n`;
    const cfg = file('webhooks-broken.json', text);
    const r = await runCli(['serve', '--db', db, '--port', '0', '--token-file', tokenFile, '--webhooks', cfg, '--json'], { env: DEBUG });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`The webhook configuration ${cfg} is not valid JSON: the syntax breaks at line 4, column 3 (expected ',' or '}')`);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'config', context: { path: cfg, line: 4, column: 3 } } });
    expectNoPieceOf(`${r.stdout}${r.stderr}`, WEBHOOK_SECRET);
  });
});

describe('token file permissions and ownership', () => {
  it.each([
    ['group-readable (640)', 0o640, 'its group (read)'],
    ['world-readable (604)', 0o604, 'every other user (read)'],
  ])('refuses a %s token file with exit 3 naming the file, mode, owner and chmod', async (_name, mode, who) => {
    const p = file(`token-${mode.toString(8)}`, TOKEN, mode);
    const r = await runCli(['serve', '--db', db, '--port', '0', '--token-file', p], { env: DEBUG });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`The token file ${p} holds a secret but its mode ${mode.toString(8)} (owner uid ${uid}) gives ${who} access`);
    expect(r.stderr).toContain(`chmod 600 ${p}`);
    expectNoPieceOf(`${r.stdout}${r.stderr}`, TOKEN);
  });

  it.runIf(uid === 0)('refuses a mode-600 token file owned by another user (exit 3), naming both uids and the chown', async () => {
    const p = file('token-foreign', TOKEN, 0o600, 65534);
    const r = await runCli(['serve', '--db', db, '--port', '0', '--token-file', p, '--json'], { env: DEBUG });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`The token file ${p} holds a secret but is owned by uid 65534, not by the user running liqcal (uid 0; mode 600)`);
    expect(r.stderr).toContain(`chown 0 ${p}`);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'config', context: { path: p, mode: '600', ownerUid: 65534, processUid: 0 } } });
    expectNoPieceOf(`${r.stdout}${r.stderr}`, TOKEN);
  });

  it('serves with a mode-600 token file of its own user', async () => {
    const { p, exited, started } = await startServe(['--db', db, '--token-file', tokenFile]);
    try {
      expect((await fetch(`${started.url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      p.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

describe('PostgreSQL passwords', () => {
  it('refuses --postgres with a password in the URL or its query (exit 3), saying how to pass it, without the password', async () => {
    const [userinfo, query, orphan] = await Promise.all([
      runCli(['serve', '--postgres', 'postgres://u:s3cret@127.0.0.1:9/db', '--token-file', tokenFile, '--port', '0', '--json'], { env: DEBUG }),
      runCli(['serve', '--postgres', 'postgres://u@127.0.0.1:9/db?password=s3cret', '--token-file', tokenFile, '--port', '0'], { env: DEBUG }),
      runCli(['serve', '--db', db, '--postgres-password-file', tokenFile, '--token-file', tokenFile, '--port', '0'], { env: DEBUG }),
    ]);
    expect(userinfo.code).toBe(3);
    expect(userinfo.stderr).toContain('The --postgres URL carries a password in its user-info part (user:password@)');
    expect(userinfo.stderr).toContain('--postgres-password-file');
    expect(userinfo.stderr).toContain('PGPASSWORD');
    expect(JSON.parse(userinfo.stdout)).toMatchObject({ error: { kind: 'config', context: { option: '--postgres' } } });
    expect(query.code).toBe(3);
    expect(query.stderr).toContain('The --postgres URL carries the secret query parameter "password"');
    for (const r of [userinfo, query]) expect(`${r.stdout}${r.stderr}`).not.toContain('s3cret');
    expect(orphan.code).toBe(3);
    expect(orphan.stderr).toContain('--postgres-password-file needs --postgres URL');
  });

  it.skipIf(inject('pgUrl') === '')('serves PostgreSQL with --postgres-password-file of mode 600, and refuses a readable one (exit 3) without showing it', async () => {
    const url = inject('pgUrl');
    const schema = `secrets_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const good = file('pg-password', 'Xk4Qz8Wp2Lm6Nv9Tg\n');
    try {
      const { p, exited, started } = await startServe(['--postgres', url, '--pg-schema', schema, '--postgres-password-file', good, '--token-file', tokenFile]);
      try {
        expect(started.backend).toMatch(new RegExp(`^postgres:.*/${schema}$`));
        expect((await fetch(`${started.url}/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      } finally {
        p.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
    } finally {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
    const open = file('pg-password-open', 'Xk4Qz8Wp2Lm6Nv9Tg\n', 0o644);
    const r = await runCli(['serve', '--postgres', url, '--postgres-password-file', open, '--token-file', tokenFile, '--port', '0'], { env: DEBUG });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`The PostgreSQL password file ${open} holds a secret but its mode 644`);
    expectNoPieceOf(`${r.stdout}${r.stderr}`, 'Xk4Qz8Wp2Lm6Nv9Tg');
  });
});

describe('pipeline files', () => {
  it('refuses a store.postgres.url with a password (exit 3): not in stdout, stderr or any store byte', async () => {
    const dir = tmp.path('');
    const p = writeTickPipeline(dir, { store: { db: 'pg-refused.db', postgres: { url: 'postgres://u:s3cret@127.0.0.1/db' } } }, { name: 'pgrefused' });
    const [human, json] = await Promise.all([
      runCli(['run', '--pipeline', p], { env: DEBUG }),
      runCli(['run', '--pipeline', p, '--json'], { env: DEBUG }),
    ]);
    for (const r of [human, json]) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`${p}: store.postgres.url: the URL carries a password in its user-info part (user:password@)`);
      expect(r.stderr).toContain('PGPASSWORD');
      expect(r.stderr).toContain('store.postgres.urlEnv');
      expect(`${r.stdout}${r.stderr}`).not.toContain('s3cret');
    }
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { kind: 'config', context: { fields: ['store.postgres.url'] } } });
    expect(bytesOf(dir, 'pg-refused.db')).not.toContain('s3cret');
  });

  it('a pipeline file with a JSON syntax error after a password names the position only', async () => {
    const p = file('broken-pipeline.json', '{\n  "store": {"postgres": {"url": "postgres://u:s3cret@h/db" oops}}\n}');
    const r = await runCli(['run', '--pipeline', p, '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${p}: (root): not valid JSON at line 2, column 60 (expected ',' or '}')`);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/s3cret|oops/);
  });

  it('redacts secret-like values in allowed fields in the ledger (SQLite bytes), runs --json and the logs', async () => {
    const dir = tmp.path('');
    const secrets = { description: 'ops note: run with PGPASSWORD=hunter2desc', model: { spec: { apiToken: 'hunter2spec' } } };
    const ok = writeTickPipeline(dir, { ...secrets, store: { db: 'ledger.db' }, jobs: [{ name: 'tick', cron: '0 * * * *', stages: ['ingest'] }] }, { name: 'ledgerok' });
    const bad = writeTickPipeline(dir, {
      ...secrets, store: { db: 'ledger.db' }, jobs: [{ name: 'tick', cron: '0 * * * *', stages: ['ingest'] }],
      venue: { kind: 'csv', venue: 'binance-spot', files: { BTCUSDT: ['missing-password=hunter2file.csv'] } },
    }, { name: 'ledgerbad' });
    const first = await runCli(['run', '--pipeline', ok, '--json'], { env: DEBUG });
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['run', '--pipeline', bad, '--json'], { env: DEBUG });
    expect(second.code, second.stderr).toBe(9);
    const runs = await runCli(['runs', '--db', join(dir, 'ledger.db'), '--json'], { env: DEBUG });
    expect(runs.code).toBe(0);
    const listed = (JSON.parse(runs.stdout) as { runs: { pipeline: string; status: string; error: string | null; stages: { error: { message: string } | null }[] }[] }).runs;
    const failed = listed.find((r) => r.pipeline === 'ledgerbad')!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('missing-password=[REDACTED]');
    expect(failed.stages[0]!.error!.message).toContain('missing-password=[REDACTED]');
    for (const r of [first, second, runs]) expect(`${r.stdout}${r.stderr}`).not.toContain('hunter2');
    expect(second.stderr).toContain('[REDACTED]'); // the logged stage error
    const ledger = new Database(join(dir, 'ledger.db'), { readonly: true });
    try {
      const rows = ledger.prepare('SELECT config_json FROM runs ORDER BY started_at_ms').all() as { config_json: string }[];
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        const cfg = JSON.parse(row.config_json) as { description: string; model: { spec: { apiToken: string } } };
        expect(cfg.description).toBe('ops note: run with PGPASSWORD=[REDACTED]');
        expect(cfg.model.spec.apiToken).toBe('[REDACTED]');
      }
    } finally {
      ledger.close();
    }
    expect(bytesOf(dir, 'ledger.db')).not.toContain('hunter2');
  });
});
