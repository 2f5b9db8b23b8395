/**
 * Webhook publisher: POSTs every newly published parameter record, as JSON, to each configured URL, signed
 * Stripe-style (`X-Liqcal-Signature: t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">`). Delivery is at least once,
 * in publish order (`publishSeq`) per URL, with exponential backoff and seeded jitter between attempts; every attempt
 * goes to a delivery log, and after a restart each URL resumes after the last record it acknowledged (2xx). The cursor
 * is `publishSeq`, not `updateId`: ids are given at proposal, so a record proposed earlier may be published later.
 * Receivers must dedupe by `updateId` (also sent as `X-Liqcal-Update-Id`): a delivery whose acknowledgement was lost
 * is sent again.
 */
import type Database from 'better-sqlite3';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { parseSecretJson, readSecretFile } from './secret-file.ts';
import { AppError, formatIssues } from '../core/errors.ts';
import { childLog } from '../core/log.ts';
import { redactText, redactUrl, urlCredentials } from '../core/redact.ts';
import { createRng, deriveSeed, type Rng } from '../core/rng.ts';

/** Name of the signature header. */
export const SIGNATURE_HEADER = 'X-Liqcal-Signature';
/** Name of the header carrying the record's `updateId` (for receivers that dedupe before parsing). */
export const UPDATE_ID_HEADER = 'X-Liqcal-Update-Id';

/** Signs `body` at time `tMs` (unix ms): the value of the {@link SIGNATURE_HEADER} header. */
export function signPayload(secret: string, body: string, tMs: number): string {
  return `t=${tMs},v1=${createHmac('sha256', secret).update(`${tMs}.${body}`).digest('hex')}`;
}

/** Outcome of {@link verifySignature}: ok, or the reason for refusing (for the receiver's log, not for the sender). */
export type SignatureCheck = { readonly ok: true; readonly timestampMs: number } | { readonly ok: false; readonly reason: string };

/**
 * Verifies a {@link SIGNATURE_HEADER} value against the raw request body, for receivers: the HMAC must match one of
 * the `v1` entries (compared in constant time) and `t` must lie within `toleranceMs` of `now` (unix ms; replay guard).
 */
export function verifySignature(secret: string, header: string | undefined, body: string, opts: { toleranceMs: number; now: number }): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing signature header' };
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,16}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) v1.push(value);
  }
  if (t === undefined) return { ok: false, reason: 'no timestamp in signature header' };
  if (v1.length === 0) return { ok: false, reason: 'no v1 signature in signature header' };
  if (Math.abs(opts.now - t) > opts.toleranceMs) return { ok: false, reason: `timestamp ${t} is more than ${opts.toleranceMs} ms from now (${opts.now})` };
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'), 'utf8');
  const match = v1.some((sig) => timingSafeEqual(Buffer.from(sig, 'utf8'), expected));
  return match ? { ok: true, timestampMs: t } : { ok: false, reason: 'signature does not match the body' };
}

/** How failed deliveries are retried within one pass. */
export interface RetryPolicy {
  /** Attempts per record per pass (≥ 1); after that the URL waits for the next pass, resuming at the same record. */
  readonly maxAttempts: number;
  /** Delay before the 2nd attempt, in ms; doubles for each further attempt. */
  readonly baseDelayMs: number;
  /** Cap on the delay, in ms. */
  readonly maxDelayMs: number;
  /** Fraction of the delay drawn at random, in [0, 1]: 0 = none, 0.5 = "equal jitter", 1 = "full jitter". */
  readonly jitter: number;
}

/** Defaults: 5 attempts, 0.5 s doubling to at most 60 s, equal jitter. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 60_000, jitter: 0.5 };

/** Delay in ms before attempt number `attempt` (≥ 2): min(max, base·2^(attempt−2)) scaled down by jitter·U[0,1) from `rng`. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, rng: Rng): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 2));
  return exp * (1 - policy.jitter * rng.next());
}

/**
 * A webhook URL: http(s), without credentials. `user:password@` can never be delivered (fetch refuses URLs with
 * user-info) and a password or `?token=` in the URL would be written to every log line and delivery record;
 * receivers authenticate deliveries by the signature instead. The message never repeats the URL.
 */
const WebhookUrlSchema = z.url({ protocol: /^https?$/ }).superRefine((url, ctx) => {
  const problem = urlCredentials(url, { allowUser: false });
  if (problem !== null) {
    ctx.addIssue({ code: 'custom', message: `the URL ${problem}; remove the credentials: a webhook URL must not hold any (fetch cannot send user-info, and the URL is logged with every delivery). Receivers authenticate deliveries by verifying the ${SIGNATURE_HEADER} HMAC with the shared secret` });
  }
});

/** Webhook configuration as read from JSON (zod-checked at the edge). */
export const WebhookConfigSchema = z.object({
  urls: z.array(WebhookUrlSchema).min(1),
  secret: z.string().min(16, 'the shared secret must be at least 16 characters'),
  timeoutMs: z.number().int().positive().default(10_000),
  retry: z.object({
    maxAttempts: z.number().int().min(1).default(DEFAULT_RETRY.maxAttempts),
    baseDelayMs: z.number().nonnegative().default(DEFAULT_RETRY.baseDelayMs),
    maxDelayMs: z.number().nonnegative().default(DEFAULT_RETRY.maxDelayMs),
    jitter: z.number().min(0).max(1).default(DEFAULT_RETRY.jitter),
  }).prefault({}),
  seed: z.number().int().default(1),
});
/** A parsed webhook configuration. */
export type WebhookConfig = z.output<typeof WebhookConfigSchema>;

/** Parses a webhook configuration, or throws a `config` error naming the bad fields (and `file`, when given). */
export function parseWebhookConfig(input: unknown, file?: string): WebhookConfig {
  const r = WebhookConfigSchema.safeParse(input);
  // Only paths and messages go into the error: zod issues may carry the input (a URL with a password, the secret).
  if (!r.success) {
    throw new AppError('config', `The webhook configuration${file === undefined ? '' : ` ${file}`} is invalid: ${formatIssues(r.error.issues)}. Fix these fields.`, {
      context: { ...(file === undefined ? {} : { path: file }), issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    });
  }
  return r.data;
}

/**
 * Reads a webhook configuration file (JSON, see {@link WebhookConfigSchema}). It holds the shared secret, so like a
 * key file it must not be readable by other users. Throws `config` naming the file and the fix.
 */
export function loadWebhookConfig(path: string): WebhookConfig {
  const text = readSecretFile(path, 'webhook configuration', 'Check the path.');
  return parseWebhookConfig(parseSecretJson(text, path, 'webhook configuration'), path);
}

/** One delivery attempt as logged. */
export interface DeliveryAttempt {
  readonly url: string;
  readonly updateId: number;
  /** The record's global publish sequence (the resume cursor). */
  readonly publishSeq: number;
  /** 1 for the first attempt of this record to this URL in a pass. */
  readonly attempt: number;
  readonly outcome: 'delivered' | 'failed';
  /** HTTP status, or null when no response came (timeout, refused, dropped connection). */
  readonly httpStatus: number | null;
  readonly error: string | null;
  /** When the attempt ended, unix ms (from the publisher's clock). */
  readonly atMs: number;
}

/** Where delivery attempts are recorded and where each URL's resume point comes from. */
export interface DeliveryLog {
  /** Appends one attempt. */
  record(a: DeliveryAttempt): void;
  /** Highest `publishSeq` acknowledged by `url` (0 when none): the resume point. */
  lastDelivered(url: string): number;
  /** Attempts, oldest first (optionally for one URL). */
  attempts(url?: string): DeliveryAttempt[];
}

interface AttemptRow { url: string; update_id: number; publish_seq: number; attempt: number; outcome: 'delivered' | 'failed'; http_status: number | null; error: string | null; at_ms: number }

/** A {@link DeliveryLog} in a SQLite database (its own table, created if missing; works beside any store backend). */
export class SqliteDeliveryLog implements DeliveryLog {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS webhook_deliveries (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      url TEXT NOT NULL,
      update_id INTEGER NOT NULL,
      publish_seq INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
      http_status INTEGER,
      error TEXT,
      at_ms INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS webhook_deliveries_resume ON webhook_deliveries (url, outcome, publish_seq);`);
  }

  /** Appends one attempt; the URL is stored with any password masked ({@link redactUrl}) and the error through {@link redactText}. */
  record(a: DeliveryAttempt): void {
    this.db.prepare('INSERT INTO webhook_deliveries (url, update_id, publish_seq, attempt, outcome, http_status, error, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(redactUrl(a.url), a.updateId, a.publishSeq, a.attempt, a.outcome, a.httpStatus, a.error === null ? null : redactText(a.error), a.atMs);
  }

  lastDelivered(url: string): number {
    const row = this.db.prepare("SELECT MAX(publish_seq) AS m FROM webhook_deliveries WHERE url = ? AND outcome = 'delivered'").get(redactUrl(url)) as { m: number | null };
    return row.m ?? 0;
  }

  attempts(url?: string): DeliveryAttempt[] {
    const rows = (url === undefined
      ? this.db.prepare('SELECT * FROM webhook_deliveries ORDER BY id').all()
      : this.db.prepare('SELECT * FROM webhook_deliveries WHERE url = ? ORDER BY id').all(redactUrl(url))) as AttemptRow[];
    return rows.map((r) => ({ url: r.url, updateId: r.update_id, publishSeq: r.publish_seq, attempt: r.attempt, outcome: r.outcome, httpStatus: r.http_status, error: r.error, atMs: r.at_ms }));
  }
}

/** What a webhook delivers: any JSON-serialisable record with an id for dedupe and its publish sequence. */
export interface Deliverable { readonly updateId: number; readonly publishSeq: number | null }

/** What the publisher needs from the store: published records with `publishSeq > afterSeq`, ascending, at most `limit`. */
export type PublishedReader<R extends Deliverable> = (afterSeq: number, limit: number) => Promise<readonly R[]> | readonly R[];

/** Options for {@link WebhookPublisher}. */
export interface WebhookPublisherOptions<R extends Deliverable> {
  readonly config: WebhookConfig;
  readonly readPublished: PublishedReader<R>;
  readonly log: DeliveryLog;
  /** Clock for signatures and the log, unix ms (default Date.now). */
  readonly nowMs?: () => number;
  /** Waits between attempts (tests may shorten it; default setTimeout). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Records read per page. */
  readonly pageSize?: number;
}

/** Per-URL result of one pass. */
export interface TargetReport {
  readonly url: string;
  /** Records acknowledged in this pass. */
  readonly delivered: number;
  /** Resume point after the pass: the highest acknowledged `publishSeq`. */
  readonly lastDeliveredSeq: number;
  /** The record this URL is stuck on after exhausting its attempts, with the last error; absent when caught up. */
  readonly stuck?: { readonly updateId: number; readonly error: string };
}

const realSleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** Delivers published records to webhooks; see the file comment for the guarantees. */
export class WebhookPublisher<R extends Deliverable> {
  private readonly rngs = new Map<string, Rng>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly nowMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly logger = childLog({ component: 'webhook' });
  /** Set by {@link run}: aborting it cuts backoff waits, so shutdown waits at most for the request in flight. */
  private stop: AbortSignal | undefined;
  private stopping: Promise<void> = new Promise(() => undefined);

  constructor(private readonly opts: WebhookPublisherOptions<R>) {
    this.nowMs = opts.nowMs ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
    for (const url of opts.config.urls) this.rngs.set(url, createRng(deriveSeed(opts.config.seed, url)));
  }

  /** One pass: each URL receives, in order, every published record after its resume point. Passes never overlap. */
  deliverPending(): Promise<TargetReport[]> {
    const next = this.chain.then(() => Promise.all(this.opts.config.urls.map((url) => this.deliverTo(url))));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Runs passes every `pollMs` until `signal` aborts; resolves after the pass in flight ends. A failed pass (store down) is logged and retried. */
  async run(opts: { pollMs: number; signal: AbortSignal }): Promise<void> {
    this.stop = opts.signal;
    this.stopping = new Promise((ok) => { if (opts.signal.aborted) ok(); else opts.signal.addEventListener('abort', () => ok(), { once: true }); });
    while (!opts.signal.aborted) {
      try {
        await this.deliverPending();
      } catch (e) {
        this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'webhook pass failed; retrying after the poll interval');
      }
      if (opts.signal.aborted) break;
      await new Promise<void>((ok) => {
        const timer = setTimeout(done, opts.pollMs);
        function done(): void { clearTimeout(timer); opts.signal.removeEventListener('abort', done); ok(); }
        opts.signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private async deliverTo(url: string): Promise<TargetReport> {
    let last = this.opts.log.lastDelivered(url);
    let delivered = 0;
    const pageSize = this.opts.pageSize ?? 100;
    for (;;) {
      const page = await this.opts.readPublished(last, pageSize);
      if (page.length === 0) return { url, delivered, lastDeliveredSeq: last };
      for (const record of page) {
        const seq = record.publishSeq;
        if (seq === null) throw new AppError('internal', `Record ${record.updateId} was handed to the webhook publisher without a publishSeq; only published records can be delivered.`, { context: { updateId: record.updateId } });
        if (seq <= last) continue;
        const error = await this.deliverWithRetries(url, record, seq);
        if (error !== undefined) return { url, delivered, lastDeliveredSeq: last, stuck: { updateId: record.updateId, error } };
        last = seq;
        delivered++;
      }
    }
  }

  /** Returns undefined once acknowledged, or the last error after `maxAttempts`. */
  private async deliverWithRetries(url: string, record: R, publishSeq: number): Promise<string | undefined> {
    const { retry } = this.opts.config;
    const body = JSON.stringify(record);
    let lastError = '';
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      if (attempt > 1) await Promise.race([this.sleep(backoffDelayMs(attempt, retry, this.rngs.get(url)!)), this.stopping]);
      if (this.stop?.aborted) return 'publisher stopping';
      const r = await this.post(url, body, record.updateId);
      this.opts.log.record({ url, updateId: record.updateId, publishSeq, attempt, outcome: r.ok ? 'delivered' : 'failed', httpStatus: r.status, error: r.error, atMs: this.nowMs() });
      if (r.ok) return undefined;
      lastError = r.error ?? `HTTP ${r.status}`;
      this.logger.info({ url: redactUrl(url), updateId: record.updateId, attempt, error: lastError }, 'webhook delivery attempt failed');
    }
    this.logger.warn({ url: redactUrl(url), updateId: record.updateId, attempts: retry.maxAttempts, error: lastError }, 'webhook delivery failed; the URL resumes at this record on the next pass');
    return lastError;
  }

  private async post(url: string, body: string, updateId: number): Promise<{ ok: boolean; status: number | null; error: string | null }> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signPayload(this.opts.config.secret, body, this.nowMs()), [UPDATE_ID_HEADER]: String(updateId) },
        signal: AbortSignal.timeout(this.opts.config.timeoutMs),
        redirect: 'error',
      });
      await res.arrayBuffer();
      return res.ok ? { ok: true, status: res.status, error: null } : { ok: false, status: res.status, error: `HTTP ${res.status}` };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const what = err.name === 'TimeoutError' ? `no response within ${this.opts.config.timeoutMs} ms` : err.cause?.code ? `${err.cause.message ?? 'connection failed'} (${err.cause.code})` : (err.cause?.message ?? err.message);
      return { ok: false, status: null, error: what };
    }
  }
}
