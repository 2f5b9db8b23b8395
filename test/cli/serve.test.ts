import { chmodSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openPostgresBackend } from '../../src/params/postgres-backend.ts';
import { parseRailsConfig } from '../../src/params/rails.ts';
import type { ProposalDraft } from '../../src/params/record.ts';
import { openSqliteBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore, proposeApprovePublish } from '../../src/params/store.ts';
import { verifySignature } from '../../src/params/webhook.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('liqcal-serve-');
const TOKEN = '9d1c0b2a3f4e5d6c7b8a99887766554433221100';
const db = tmp.path('params.db');
const tokenFile = tmp.path('token');

beforeAll(async () => {
  const backend = openSqliteBackend(db);
  const store = new ParameterStore(backend, { rails: parseRailsConfig({}) });
  const drafts = [{ market: 'BTC-PERP', updateType: 'maintenanceMarginRatio', newValue: 0.05 }, { market: 'BTC-PERP', updateType: 'initialMarginRatio', newValue: 0.1 }] as ProposalDraft[];
  const res = await proposeApprovePublish(store, drafts, { by: 'auto', auto: true });
  expect(res.published).toHaveLength(2);
  await backend.close();
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
});
afterAll(() => tmp.cleanup());

/** Spawns `liqcal serve … --port 0 --json` and resolves once it prints its URL. */
async function startServe(args: string[]) {
  const p = spawnCli(['serve', ...args, '--port', '0', '--token-file', tokenFile, '--json']);
  let stdout = '';
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((ok) => p.on('close', (code) => ok(code)));
  const started = await new Promise<{ url: string; backend: string; webhookLog?: string }>((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      try { resolve(JSON.parse(stdout) as { url: string; backend: string }); } catch { /* not complete yet */ }
    });
    void exited.then((code) => reject(new Error(`serve exited early with ${code}: ${stderr}`)));
  });
  return { p, exited, started };
}

describe('liqcal serve', () => {
  it('serves latest and history to a bearer-token holder only, read-only, and stops cleanly on SIGTERM', async () => {
    const { p, exited, started } = await startServe(['--db', db]);
    expect(started.backend).toBe(`sqlite:${db}`);
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      const latest = await fetch(`${started.url}/v1/latest?market=BTC-PERP&type=maintenanceMarginRatio`, { headers: auth });
      expect(latest.status).toBe(200);
      expect(await latest.json()).toMatchObject({ usable: true, record: { market: 'BTC-PERP', updateType: 'maintenanceMarginRatio', newValue: 0.05, state: 'published', version: 1 } });
      const history = await (await fetch(`${started.url}/v1/history?market=BTC-PERP`, { headers: auth })).json() as { records: { updateType: string }[] };
      expect(history.records.map((r) => r.updateType).sort()).toEqual(['initialMarginRatio', 'maintenanceMarginRatio']);
      expect((await fetch(`${started.url}/v1/latest?market=BTC-PERP&type=maintenanceMarginRatio`)).status).toBe(401);
      expect((await fetch(`${started.url}/v1/latest`, { method: 'POST', headers: auth, body: '{}' })).status).toBe(405);
      expect((await fetch(`${started.url}/v1/history?market=BTC-PERP&limit=x`, { headers: auth })).status).toBe(400);
    } finally {
      p.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    await expect(fetch(`${started.url}/v1/health`, { headers: auth })).rejects.toThrow();
  });

  it('with --webhooks, POSTs every published record (before and while serving) to a receiver that verifies the signature', async () => {
    const secret = 'e2e-webhook-secret-0123456789';
    const got: { updateId: number; newValue: unknown }[] = [];
    let onGot = (): void => undefined;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        if (!verifySignature(secret, req.headers['x-liqcal-signature'] as string, body, { toleranceMs: 60_000, now: Date.now() }).ok) { res.writeHead(401).end(); return; }
        const rec = JSON.parse(body) as { updateId: number; newValue: unknown };
        if (!got.some((g) => g.updateId === rec.updateId)) got.push({ updateId: rec.updateId, newValue: rec.newValue });
        res.writeHead(204).end();
        onGot();
      });
    });
    await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
    const cfg = tmp.path('webhooks.json');
    writeFileSync(cfg, JSON.stringify({ urls: [`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/liqcal`], secret }));
    chmodSync(cfg, 0o600);
    const waitFor = (n: number): Promise<void> => new Promise((ok) => { onGot = () => { if (got.length >= n) ok(); }; onGot(); });
    const { p, exited, started } = await startServe(['--db', db, '--webhooks', cfg, '--webhook-log', tmp.path('deliveries.db'), '--poll-ms', '50']);
    try {
      expect(started.webhookLog).toBe(tmp.path('deliveries.db'));
      await waitFor(2);
      const backend = openSqliteBackend(db);
      const res = await proposeApprovePublish(new ParameterStore(backend, { rails: parseRailsConfig({}) }), [{ market: 'ETH-PERP', updateType: 'closeFactor', newValue: 0.5 } as ProposalDraft], { by: 'auto', auto: true });
      await backend.close();
      await waitFor(3);
      expect(got.at(-1)).toEqual({ updateId: res.published[0]!.updateId, newValue: 0.5 });
      expect(got.map((g) => g.updateId)).toHaveLength(3);
    } finally {
      p.kill('SIGINT');
      await new Promise<void>((ok) => { receiver.closeAllConnections(); receiver.close(() => ok()); });
    }
    expect(await exited).toBe(0);
  });

  it('refuses to start without a usable token file or store (exit 3, naming the fix) and without --token-file (exit 2)', async () => {
    const open = tmp.path('open-token');
    writeFileSync(open, TOKEN);
    chmodSync(open, 0o644);
    const [worldReadable, missing, noStore, noFlag] = await Promise.all([
      runCli(['serve', '--db', db, '--port', '0', '--token-file', open]),
      runCli(['serve', '--db', db, '--port', '0', '--token-file', tmp.path('nope')]),
      runCli(['serve', '--db', tmp.path('absent.db'), '--port', '0', '--token-file', tokenFile, '--json']),
      runCli(['serve', '--db', db, '--port', '0']),
    ]);
    expect(worldReadable.code).toBe(3);
    expect(worldReadable.stderr).toContain(`chmod 600 ${open}`);
    expect(missing.code).toBe(3);
    expect(noStore.code).toBe(3);
    expect(JSON.parse(noStore.stdout)).toMatchObject({ error: { kind: 'config' } });
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toContain('--token-file');
  });
});

describe.skipIf(inject('pgUrl') === '')('liqcal serve --postgres', () => {
  it('serves a PostgreSQL parameter store through the same API', async () => {
    const url = inject('pgUrl');
    const schema = `serve_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    const backend = await openPostgresBackend({ url, schema });
    try {
      await proposeApprovePublish(new ParameterStore(backend, { rails: parseRailsConfig({}) }), [{ market: 'SOL-PERP', updateType: 'maxLeverage', newValue: 20 } as ProposalDraft], { by: 'auto', auto: true });
      const { p, exited, started } = await startServe(['--postgres', url, '--pg-schema', schema]);
      try {
        expect(started.backend).toMatch(new RegExp(`^postgres:.*/${schema}$`));
        const r = await fetch(`${started.url}/v1/latest?market=SOL-PERP&type=maxLeverage`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(r.status).toBe(200);
        expect(await r.json()).toMatchObject({ usable: true, record: { newValue: 20, version: 1 } });
      } finally {
        p.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
    } finally {
      await backend.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    }
  });
});
