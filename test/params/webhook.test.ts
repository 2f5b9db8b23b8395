import Database from 'better-sqlite3';
import fc from 'fast-check';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import type { ProposalDraft, UpdateRecord } from '../../src/params/record.ts';
import { openSqliteBackend, type SqliteParamBackend } from '../../src/params/sqlite-backend.ts';
import { ParameterStore, proposeApprovePublish } from '../../src/params/store.ts';
import { backoffDelayMs, DEFAULT_RETRY, loadWebhookConfig, parseWebhookConfig, signPayload, SIGNATURE_HEADER, SqliteDeliveryLog, UPDATE_ID_HEADER, verifySignature, WebhookPublisher, type TargetReport } from '../../src/params/webhook.ts';
import { tempDir } from '../helpers/tmp.ts';
import { storeWithRails, testClock } from './store-contract.ts';

const SECRET = 'whsec_0123456789abcdef0123';

/** What the receiver does with one request (by arrival order). `*After` variants apply the update first, then fail. */
type Fault = 'ok' | '500' | '500After' | 'drop' | 'dropAfter' | 'timeoutAfter';

/**
 * A real receiver on 127.0.0.1, written as an updater would: verify the signature on the raw body, dedupe by updateId,
 * apply. The fault schedule makes it fail some deliveries before or after applying (lost acknowledgements).
 */
async function startReceiver(schedule: readonly Fault[], secret = SECRET) {
  const applied: number[] = [];
  const seen: number[] = [];
  let requests = 0;
  let badSignatures = 0;
  let duplicates = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const fault = schedule[requests++ % schedule.length]!;
      const check = verifySignature(secret, req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined, body, { toleranceMs: 300_000, now: Date.now() });
      if (!check.ok) { badSignatures++; res.writeHead(401).end(check.reason); return; }
      const rec = JSON.parse(body) as UpdateRecord;
      if (String(rec.updateId) !== req.headers[UPDATE_ID_HEADER.toLowerCase()]) { res.writeHead(400).end('id header mismatch'); return; }
      const apply = (): void => { seen.push(rec.updateId); if (applied.includes(rec.updateId)) duplicates++; else applied.push(rec.updateId); };
      switch (fault) {
        case '500': res.writeHead(500).end(); return;
        case 'drop': req.socket.destroy(); return;
        case '500After': apply(); res.writeHead(500).end(); return;
        case 'dropAfter': apply(); req.socket.destroy(); return;
        case 'timeoutAfter': apply(); setTimeout(() => { if (!res.destroyed) res.writeHead(200).end(); }, 600); return;
        case 'ok': apply(); res.writeHead(200).end('{}');
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    applied, seen,
    get requests() { return requests; },
    get badSignatures() { return badSignatures; },
    get duplicates() { return duplicates; },
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const tmp = { current: tempDir('liqcal-webhook-') };
let backend: SqliteParamBackend;
let store: ParameterStore;
const receivers: Receiver[] = [];
const clock = testClock();

beforeEach(async () => {
  tmp.current = tempDir('liqcal-webhook-');
  backend = openSqliteBackend(tmp.current.path('params.db'));
  store = await storeWithRails(backend, { types: { closeFactor: { minDelayMs: 0 } } }, { clock });
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await backend.close();
  tmp.current.cleanup();
});

/** Publishes `n` records (closeFactor of markets M<from>…), returning them in publish order. */
async function publishSome(n: number, from = 0): Promise<UpdateRecord[]> {
  const drafts = Array.from({ length: n }, (_, i) => ({ market: `M${from + i}`, updateType: 'closeFactor', newValue: 0.5, referenceId: `r${from + i}` }) as ProposalDraft);
  const res = await proposeApprovePublish(store, drafts, { by: 'auto', auto: true });
  expect(res.published).toHaveLength(n);
  clock.t += 1000;
  return res.published;
}

function publisher(urls: string[], logDb: Database.Database, over: Record<string, unknown> = {}) {
  const config = parseWebhookConfig({ urls, secret: SECRET, timeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 4 }, seed: 3, ...over });
  return new WebhookPublisher({ config, log: new SqliteDeliveryLog(logDb), readPublished: (after, limit) => backend.publishedAfter(after, limit), pageSize: 4 });
}

/** Runs passes until every URL is caught up (bounded, so a regression fails instead of hanging). */
async function drain(p: WebhookPublisher<UpdateRecord>): Promise<TargetReport[][]> {
  const passes: TargetReport[][] = [];
  for (let i = 0; i < 40; i++) {
    const rep = await p.deliverPending();
    passes.push(rep);
    if (rep.every((r) => r.stuck === undefined)) return passes;
  }
  throw new Error(`webhooks not caught up after 40 passes: ${JSON.stringify(passes.at(-1))}`);
}

describe('webhook publisher against real receivers', () => {
  it('delivers every published record to every URL despite 500s, timeouts and dropped connections; none applied twice', async () => {
    const published = await publishSome(24);
    const flaky = await startReceiver(['ok', '500', 'ok', 'drop', 'ok', 'timeoutAfter', '500After', 'ok', 'dropAfter', 'ok', '500', 'drop', 'ok']);
    const steady = await startReceiver(['ok']);
    receivers.push(flaky, steady);
    const logDb = new Database(tmp.current.path('webhooks.db'));
    const p = publisher([flaky.url, steady.url], logDb);
    const passes = await drain(p);

    const ids = published.map((r) => r.updateId);
    for (const rcv of [flaky, steady]) {
      expect(rcv.applied).toEqual(ids); // all, once each, in publish order
      expect(rcv.badSignatures).toBe(0);
    }
    // Lost acknowledgements really happened and were redelivered; the receiver's dedupe kept them from applying twice.
    expect(flaky.duplicates).toBeGreaterThan(0);
    expect(flaky.seen.length).toBeGreaterThan(ids.length);
    expect(passes.some((pass) => pass.some((r) => r.stuck !== undefined))).toBe(true);
    const log = new SqliteDeliveryLog(logDb);
    const failures = log.attempts(flaky.url).filter((a) => a.outcome === 'failed');
    expect(new Set(failures.map((a) => a.httpStatus))).toEqual(new Set([500, null]));
    expect(failures.some((a) => a.error?.includes('no response within 150 ms'))).toBe(true);
    expect(log.lastDelivered(flaky.url)).toBe(published.at(-1)!.publishSeq);
    expect(log.attempts(steady.url).every((a) => a.outcome === 'delivered' && a.attempt === 1)).toBe(true);
    logDb.close();
  });

  it('resumes after a restart from the last acknowledged record: nothing old is resent, everything new arrives', async () => {
    const first = await publishSome(6);
    const rcv = await startReceiver(['ok']);
    receivers.push(rcv);
    const logPath = tmp.current.path('webhooks.db');
    const db1 = new Database(logPath);
    await drain(publisher([rcv.url], db1));
    db1.close();
    expect(rcv.seen).toEqual(first.map((r) => r.updateId));

    const second = await publishSome(5, 100);
    const db2 = new Database(logPath);
    const reports = await drain(publisher([rcv.url], db2));
    db2.close();
    expect(reports[0]![0]!.delivered).toBe(5);
    expect(rcv.seen).toEqual([...first, ...second].map((r) => r.updateId));
  });

  it('a URL that keeps failing stays at its record across passes and does not block the other URL', async () => {
    const recs = await publishSome(3);
    const down = await startReceiver(['500']);
    const up = await startReceiver(['ok']);
    receivers.push(down, up);
    const db = new Database(':memory:');
    const p = publisher([down.url, up.url], db, { retry: { maxAttempts: 3, baseDelayMs: 0 } });
    const [a, b] = await p.deliverPending();
    expect(a).toEqual({ url: down.url, delivered: 0, lastDeliveredSeq: 0, stuck: { updateId: recs[0]!.updateId, error: 'HTTP 500' } });
    expect(b).toMatchObject({ url: up.url, delivered: 3, lastDeliveredSeq: recs[2]!.publishSeq });
    expect(down.requests).toBe(3);
    expect((await p.deliverPending())[0]!.stuck!.updateId).toBe(recs[0]!.updateId);
    expect(down.applied).toEqual([]);
    db.close();
  });

  it('run() polls for new publications and stops promptly on abort, even in the middle of a long backoff', async () => {
    const down = await startReceiver(['500']);
    const up = await startReceiver(['ok']);
    receivers.push(down, up);
    const db = new Database(':memory:');
    const p = publisher([down.url, up.url], db, { retry: { maxAttempts: 5, baseDelayMs: 600_000, maxDelayMs: 600_000 } });
    const ctl = new AbortController();
    const running = p.run({ pollMs: 20, signal: ctl.signal });
    const [rec] = await publishSome(1);
    while (up.applied.length === 0 || down.requests === 0) await new Promise((ok) => setTimeout(ok, 10));
    ctl.abort();
    await running; // would hang for 10 minutes if the backoff wait ignored the abort
    expect(up.applied).toEqual([rec!.updateId]);
    expect(down.requests).toBe(1);
    db.close();
  });

  it('a receiver rejects deliveries signed with another secret: nothing applied, the URL reports HTTP 401', async () => {
    await publishSome(2);
    const rcv = await startReceiver(['ok']);
    receivers.push(rcv);
    const db = new Database(':memory:');
    const p = publisher([rcv.url], db, { secret: 'not-the-shared-secret-at-all' });
    const [r] = await p.deliverPending();
    expect(r!.stuck!.error).toBe('HTTP 401');
    expect(rcv.badSignatures).toBe(2);
    expect(rcv.applied).toEqual([]);
    db.close();
  });
});

describe('webhook signatures', () => {
  const now = 1_750_000_000_000;
  const body = '{"updateId":7,"newValue":0.05}';

  it('verifies its own signature and refuses tampering, other secrets, stale or future timestamps and malformed headers', () => {
    const h = signPayload(SECRET, body, now);
    expect(h).toMatch(/^t=1750000000000,v1=[0-9a-f]{64}$/);
    const v = (header: string | undefined, b = body, at = now, secret = SECRET) => verifySignature(secret, header, b, { toleranceMs: 300_000, now: at });
    expect(v(h)).toEqual({ ok: true, timestampMs: now });
    expect(v(h, body.replace('0.05', '0.06')).ok).toBe(false);
    expect(v(h, body, now, `${SECRET}x`).ok).toBe(false);
    expect(v(h, body, now + 300_001).ok).toBe(false);
    expect(v(h, body, now - 300_001).ok).toBe(false);
    expect(v(h, body, now + 300_000).ok).toBe(true);
    expect(v(undefined).ok).toBe(false);
    expect(v('').ok).toBe(false);
    expect(v(h.replace(/t=\d+,/, '')).ok).toBe(false);
    expect(v(`t=${now}`).ok).toBe(false);
    expect(v(h.replace(`t=${now}`, `t=${now + 1}`)).ok).toBe(false);
    // Several v1 entries (secret rotation): one match suffices; unknown schemes are ignored.
    expect(v(`${signPayload('old-secret-0000000000', body, now)},v0=abc,${h.split(',')[1]}`).ok).toBe(true);
  });

  it('round-trips for any secret, body and time, and any change of the body breaks it', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), fc.string(), fc.integer({ min: 0, max: 4e12 }), fc.string({ minLength: 1, maxLength: 3 }), (secret, b, t, extra) => {
      const h = signPayload(secret, b, t);
      expect(verifySignature(secret, h, b, { toleranceMs: 0, now: t }).ok).toBe(true);
      expect(verifySignature(secret, h, b + extra, { toleranceMs: 0, now: t }).ok).toBe(false);
    }), { numRuns: 300, seed: 11 });
  });
});

describe('webhook backoff', () => {
  it('doubles from the base up to the cap, with jitter removing at most its fraction, reproducibly from the seed', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (attempt, jitter, seed) => {
      const policy = { ...DEFAULT_RETRY, jitter };
      const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 2));
      const d = backoffDelayMs(attempt, policy, createRng(seed));
      expect(d).toBeLessThanOrEqual(exp);
      expect(d).toBeGreaterThanOrEqual(exp * (1 - jitter) - 1e-9);
      expect(backoffDelayMs(attempt, policy, createRng(seed))).toBe(d);
    }), { numRuns: 300, seed: 5 });
    expect(backoffDelayMs(2, { ...DEFAULT_RETRY, jitter: 0 }, createRng(1))).toBe(500);
    expect(backoffDelayMs(5, { ...DEFAULT_RETRY, jitter: 0 }, createRng(1))).toBe(4000);
    expect(backoffDelayMs(20, { ...DEFAULT_RETRY, jitter: 0 }, createRng(1))).toBe(60_000);
  });

  it('refuses a configuration without URLs, with a short secret or a non-HTTP URL, naming the field', () => {
    expect(() => parseWebhookConfig({ urls: [], secret: SECRET })).toThrow(/urls/);
    expect(() => parseWebhookConfig({ urls: ['http://127.0.0.1/x'], secret: 'short' })).toThrow(/secret/);
    expect(() => parseWebhookConfig({ urls: ['ftp://127.0.0.1/x'], secret: SECRET })).toThrow(/urls\.0/);
    expect(parseWebhookConfig({ urls: ['https://example.invalid/h'], secret: SECRET }).retry).toEqual(DEFAULT_RETRY);
  });

  it('refuses URLs carrying credentials (user:password@, user@, ?token=) without repeating them', () => {
    for (const url of ['http://user:hunter2@127.0.0.1:9/hook', 'https://hunter2@example.invalid/h', 'https://example.invalid/h?token=hunter2', 'https://example.invalid/h?X-Api-Key=hunter2']) {
      let err: unknown;
      try { parseWebhookConfig({ urls: ['https://ok.invalid/h', url], secret: SECRET }); } catch (e) { err = e; }
      expect(isAppError(err, 'config'), url).toBe(true);
      const e = err as AppError;
      expect(e.message).toMatch(/urls\.1: the URL carries/);
      expect(e.message).toContain(SIGNATURE_HEADER);
      expect(`${e.message} ${JSON.stringify(e.toJSON())}`).not.toContain('hunter2');
    }
  });

  it('loadWebhookConfig: a syntax error names the file, line and column, never the text (the secret) around it', () => {
    const file = tmp.current.path('broken.json');
    writeFileSync(file, `{\n  "urls": ["http://127.0.0.1:9/hook"],\n  "secret": "${SECRET}" oops\n}\n`);
    chmodSync(file, 0o600);
    let err: unknown;
    try { loadWebhookConfig(file); } catch (e) { err = e; }
    expect(isAppError(err, 'config')).toBe(true);
    const e = err as AppError;
    expect(e.message).toContain(file);
    expect(e.message).toContain(`line 3, column ${`  "secret": "${SECRET}" `.length + 1}`);
    const shown = `${e.message} ${JSON.stringify(e.toJSON())}`;
    for (let i = 0; i + 4 <= SECRET.length; i++) expect(shown).not.toContain(SECRET.slice(i, i + 4));
    expect(shown).not.toContain('oops');
  });

  it('the delivery log stores URLs and errors with secrets masked, and resumes by the masked URL', () => {
    const dbFile = tmp.current.path('deliveries-redacted.db');
    const db = new Database(dbFile);
    try {
      const log = new SqliteDeliveryLog(db);
      const url = 'http://u:hunter2@127.0.0.1:9/hook?token=hunter2';
      log.record({ url, updateId: 1, publishSeq: 1, attempt: 1, outcome: 'delivered', httpStatus: 200, error: 'retry via http://u:hunter2@x/ password=hunter2', atMs: 1 });
      expect(log.lastDelivered(url)).toBe(1);
      const [a] = log.attempts(url);
      expect(a!.url).toBe('http://u:[REDACTED]@127.0.0.1:9/hook?token=[REDACTED]');
      expect(a!.error).toBe('retry via http://u:[REDACTED]@x/ password=[REDACTED]');
    } finally {
      db.close();
    }
    expect(readFileSync(dbFile).includes('hunter2')).toBe(false);
  });
});
