import fc from 'fast-check';
import { chmodSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/core/errors.ts';
import { bearerMatches, readTokenFile, startParamsApi, type ParamsApiServer } from '../../src/params/http-api.ts';
import type { ProposalDraft, UpdateRecord } from '../../src/params/record.ts';
import { openSqliteBackend, type SqliteParamBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore, proposeApprovePublish } from '../../src/params/store.ts';
import { tempDir } from '../helpers/tmp.ts';
import { storeWithRails, testClock } from './store-contract.ts';

const TOKEN = 'f3a9c1d2e4b5a6978877665544332211';
const tmp = tempDir('liqcal-api-');
const clock = testClock();
let backend: SqliteParamBackend;
let store: ParameterStore;
let api: ParamsApiServer;

const d = (market: string, updateType: string, newValue: unknown): ProposalDraft => ({ market, updateType, newValue, referenceId: `run-${market}-${updateType}-${JSON.stringify(newValue)}` } as ProposalDraft);

async function call(path: string, opts: { token?: string | null; method?: string; auth?: string } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (opts.auth !== undefined) headers.authorization = opts.auth;
  else if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  const res = await fetch(`${api.url}${path}`, { method: opts.method ?? 'GET', headers, ...(opts.method === 'POST' || opts.method === 'PUT' ? { body: '{"newValue":1}' } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

beforeAll(async () => {
  backend = openSqliteBackend(tmp.path('params.db'));
  store = await storeWithRails(backend, { types: { maintenanceMarginRatio: { minDelayMs: 0 } } }, { clock });
  await proposeApprovePublish(store, [d('BTC-PERP', 'maintenanceMarginRatio', 0.05), d('BTC-PERP', 'initialMarginRatio', 0.1), d('ETH-PERP', 'closeFactor', 0.5)], { by: 'auto', auto: true });
  clock.t += 1000;
  await proposeApprovePublish(store, [d('BTC-PERP', 'maintenanceMarginRatio', 0.055)], { by: 'auto', auto: true });
  for (let i = 0; i < 7; i++) await store.propose([d('BTC-PERP', 'liquidationPenalty', 0.01 + i / 1000)]);
  api = await startParamsApi({ store, token: TOKEN });
});

afterAll(async () => {
  await api.close();
  await backend.close();
  tmp.cleanup();
});

describe('params HTTP API: auth', () => {
  it('answers 401 with a Bearer challenge to every request without the exact token, whatever the route or method', async () => {
    const wrong = [{ token: null }, { token: `${TOKEN}x` }, { token: TOKEN.slice(0, -1) }, { token: TOKEN.toUpperCase() }, { auth: `Basic ${TOKEN}` }, { auth: `Bearer  ${TOKEN}` }, { auth: TOKEN }];
    for (const w of wrong) {
      for (const [path, method] of [['/v1/health', 'GET'], ['/v1/latest?market=BTC-PERP&type=maintenanceMarginRatio', 'GET'], ['/nope', 'GET'], ['/v1/latest', 'POST']] as const) {
        const r = await call(path, { ...w, method });
        expect(r.status, `${JSON.stringify(w)} ${method} ${path}`).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(r.body.error.kind).toBe('unauthorized');
        expect(JSON.stringify(r.body)).not.toContain('0.05');
      }
    }
  });

  it('compares tokens exactly (scheme case-insensitive)', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches('Bearer ', TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN} `, TOKEN)).toBe(false);
  });
});

describe('params HTTP API: read-only', () => {
  it('refuses every method but GET with 405 and changes nothing', async () => {
    const before = await store.history({});
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']) {
      for (const path of ['/v1/latest?market=BTC-PERP&type=maintenanceMarginRatio', '/v1/history?market=BTC-PERP', '/v1/publish']) {
        const r = await call(path, { method });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.headers.get('allow')).toBe('GET');
      }
    }
    expect(await store.history({})).toEqual(before);
  });
});

describe('params HTTP API: routes', () => {
  it('health names the backend and the publish watermark', async () => {
    const r = await call('/v1/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', backend: backend.name, paused: false, maxPublishSeq: 4 });
  });

  it('latest returns the published head with its usability, then flags it expired once past expiresAt', async () => {
    const r = await call('/v1/latest?market=BTC-PERP&type=maintenanceMarginRatio');
    expect(r.status).toBe(200);
    const latest = (await store.latest('BTC-PERP', 'maintenanceMarginRatio'))!;
    expect(r.body).toEqual(JSON.parse(JSON.stringify(latest)));
    expect(r.body).toMatchObject({ usable: true, expired: false, record: { newValue: 0.055, previousValue: 0.05, version: 2, state: 'published' } });
    const saved = clock.t;
    clock.t = (r.body.record as UpdateRecord).expiresAt;
    const later = await call('/v1/latest?market=BTC-PERP&type=maintenanceMarginRatio');
    clock.t = saved;
    expect(later.body).toMatchObject({ usable: false, expired: true });
  });

  it('answers 404 when nothing was published there, and for unknown routes', async () => {
    const none = await call('/v1/latest?market=ETH-PERP&type=maintenanceMarginRatio');
    expect(none.status).toBe(404);
    expect(none.body.error.message).toContain('ETH-PERP maintenanceMarginRatio');
    for (const path of ['/', '/v1', '/v1/latest/extra', '/v2/latest?market=BTC-PERP&type=closeFactor', '/v1/publish']) expect((await call(path)).status, path).toBe(404);
  });

  it('history filters by market and type, and pages with fromId/limit through nextFromId', async () => {
    const all = (await call('/v1/history?market=BTC-PERP')).body.records as UpdateRecord[];
    expect(all.map((r) => r.updateId)).toEqual((await store.history({ market: 'BTC-PERP' })).map((r) => r.updateId));
    expect(all.every((r) => r.market === 'BTC-PERP')).toBe(true);
    const mmr = (await call('/v1/history?market=BTC-PERP&type=maintenanceMarginRatio')).body;
    expect(mmr.records.map((r: UpdateRecord) => r.newValue)).toEqual([0.05, 0.055]);
    expect(mmr.nextFromId).toBeNull();
    const paged: number[] = [];
    let next: number | null = 1;
    while (next !== null) {
      const page: { records: UpdateRecord[]; nextFromId: number | null } = (await call(`/v1/history?market=BTC-PERP&fromId=${next}&limit=3`)).body;
      paged.push(...page.records.map((r) => r.updateId));
      next = page.nextFromId;
    }
    expect(paged).toEqual(all.map((r) => r.updateId));
  });

  it('refuses malformed queries with 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['/v1/latest?type=maintenanceMarginRatio', 'market'],
      ['/v1/latest?market=BTC-PERP', 'type'],
      ['/v1/latest?market=BTC-PERP&type=ltv', 'type'],
      ['/v1/latest?market=&type=closeFactor', 'market'],
      ['/v1/latest?market=BTC-PERP&type=closeFactor&debug=1', 'debug'],
      ['/v1/latest?market=BTC-PERP&market=ETH-PERP&type=closeFactor', 'market'],
      ['/v1/history', 'market'],
      ['/v1/history?market=BTC-PERP&limit=0', 'limit'],
      ['/v1/history?market=BTC-PERP&limit=1001', 'limit'],
      ['/v1/history?market=BTC-PERP&limit=ten', 'limit'],
      ['/v1/history?market=BTC-PERP&fromId=-1', 'fromId'],
      ['/v1/history?market=BTC-PERP&fromId=1.5', 'fromId'],
      ['/v1/history?market=BTC-PERP&fromId=1e3', 'fromId'],
      [`/v1/history?market=${'M'.repeat(65)}`, 'market'],
    ];
    for (const [path, parameter] of cases) {
      const r = await call(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error, path).toMatchObject({ kind: 'badRequest', parameter });
      expect(r.body.error.message, path).toContain(`"${parameter}"`);
    }
  });

  it('answers any query on /v1/history with 200 or a 400 naming one of the parameters sent (never 5xx)', async () => {
    const key = fc.constantFrom('market', 'type', 'fromId', 'limit', 'x', '');
    const value = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 2000 }).map(String), fc.constantFrom('BTC-PERP', 'closeFactor', '1', '1.0', ' 1'));
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 5 }), async (pairs) => {
      const qs = new URLSearchParams(pairs).toString();
      const r = await call(`/v1/history?${qs}`);
      expect([200, 400]).toContain(r.status);
      if (r.status === 400) expect(new URLSearchParams(pairs).has(r.body.error.parameter.split(',')[0]) || r.body.error.parameter === 'market').toBe(true);
    }), { numRuns: 150, seed: 7 });
  });
});

describe('params HTTP API: token file', () => {
  const write = (name: string, text: string, mode: number): string => {
    const p = tmp.path(name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };
  const configError = (fn: () => unknown): string => {
    try { fn(); } catch (e) { expect(isAppError(e, 'config'), String(e)).toBe(true); return (e as Error).message; }
    throw new Error('expected a config error');
  };

  it('reads a private token file and trims the newline', () => {
    expect(readTokenFile(write('ok', `${TOKEN}\n`, 0o600))).toBe(TOKEN);
    expect(readTokenFile(write('owner-read-only', `${TOKEN}\n`, 0o400))).toBe(TOKEN);
  });

  it('refuses a missing, empty, short, multi-word, group- or world-accessible token file, naming the fix', () => {
    expect(configError(() => readTokenFile(tmp.path('absent')))).toContain('openssl rand');
    expect(configError(() => readTokenFile(write('empty', '\n', 0o600)))).toContain('empty');
    expect(configError(() => readTokenFile(write('short', 'abc123', 0o600)))).toContain('at least 16');
    expect(configError(() => readTokenFile(write('words', `${TOKEN} ${TOKEN}`, 0o600)))).toContain('one word');
    expect(configError(() => readTokenFile(write('world', TOKEN, 0o644)))).toContain('chmod 600');
    expect(configError(() => readTokenFile(write('group', TOKEN, 0o640)))).toContain('chmod 600');
    expect(configError(() => readTokenFile(write('other', TOKEN, 0o604)))).toContain('chmod 600');
  });
});
