import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import http from 'node:http';
import https from 'node:https';
import { AppError } from '../core/errors.ts';

/** How a venue client talks HTTP: limits, patience and retry policy. */
export interface HttpOptions {
  /** Venue id, used in every error message. */
  readonly venue: string;
  /** Base URL, e.g. https://api.binance.com or http://127.0.0.1:8787. */
  readonly baseUrl: string;
  /** Per-request timeout in ms (connect + response). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt, on retryable errors only. */
  readonly maxRetries?: number;
  /** First backoff in ms; doubles per retry, with seeded-free full jitter capped at `maxBackoffMs`. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Client-side rate limit: at most this many requests per second (token bucket). */
  readonly requestsPerSecond?: number;
  /** Maps a venue error body (already parsed, maybe undefined) and HTTP status to an AppError, or undefined for the default mapping. */
  readonly classifyError?: (status: number, body: unknown, endpoint: string) => AppError | undefined;
  /**
   * Checks a 2xx body inside each attempt, for venues that report errors with HTTP 200 and an error
   * code in the envelope (Bybit `retCode`, OKX `code`). A returned retryable error is retried like a
   * transport error.
   */
  readonly checkBody?: (body: unknown, endpoint: string, params: Readonly<Record<string, string | number | undefined>>) => AppError | undefined;
  /** Sleep function (tests inject a fast one); defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry, for logging. */
  readonly onRetry?: (info: { endpoint: string; attempt: number; delayMs: number; error: AppError }) => void;
}

/** A token bucket: `take()` resolves when a request may be sent. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly perSecond: number, private readonly burst = Math.max(1, Math.ceil(perSecond))) {
    this.tokens = this.burst;
  }

  /** Waits for a token. Calls are served in order. */
  take(sleep: (ms: number) => Promise<void>): Promise<void> {
    const p = this.queue.then(async () => {
      for (;;) {
        const now = Date.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
        this.last = now;
        if (this.tokens >= 1) { this.tokens -= 1; return; }
        await sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
      }
    });
    this.queue = p.catch(() => undefined);
    return p;
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Parses a Retry-After header (seconds or an HTTP date) into ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, nowMs = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const s = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, t - nowMs) : undefined;
}

/**
 * A JSON-over-HTTP client for one venue: timeouts, a client-side rate limit, and retries with
 * exponential backoff on retryable errors only (network errors, 429 honouring Retry-After, 5xx).
 * Bodies are read as text and parsed here so that a truncated or malformed body becomes a clear
 * `badResponse` error naming the venue and endpoint.
 */
export class HttpClient {
  private readonly ax: AxiosInstance;
  private readonly limiter: RateLimiter | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Requests sent, including retries (for tests and stats). */
  requests = 0;

  constructor(readonly opts: HttpOptions) {
    this.ax = axios.create({
      baseURL: opts.baseUrl,
      timeout: opts.timeoutMs ?? 15_000,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 3,
      headers: { Accept: 'application/json', 'User-Agent': 'liqcal/0.1' },
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 4 }),
    });
    this.limiter = opts.requestsPerSecond ? new RateLimiter(opts.requestsPerSecond) : undefined;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  /** GETs `path` with query `params` and returns the parsed JSON body. `endpoint` names the call in errors. */
  getJson(path: string, params: Readonly<Record<string, string | number | undefined>>, endpoint = `GET ${path}`): Promise<unknown> {
    return this.withRetries(endpoint, () => this.once({ method: 'GET', path, params }, endpoint));
  }

  /** POSTs a JSON `body` to `path` (e.g. Hyperliquid's /info) and returns the parsed JSON body. */
  postJson(path: string, body: unknown, endpoint = `POST ${path}`): Promise<unknown> {
    return this.withRetries(endpoint, () => this.once({ method: 'POST', path, params: {}, body }, endpoint));
  }

  private async withRetries(endpoint: string, attemptOnce: () => Promise<unknown>): Promise<unknown> {
    const maxRetries = this.opts.maxRetries ?? 5;
    const base = this.opts.baseBackoffMs ?? 500;
    const cap = this.opts.maxBackoffMs ?? 30_000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await attemptOnce();
      } catch (e) {
        const err = e instanceof AppError ? e : new AppError('internal', String(e), { cause: e });
        if (!err.retryable || attempt >= maxRetries) {
          if (err.retryable) {
            throw new AppError(err.kind, `${err.message} Gave up after ${attempt + 1} attempts.`, {
              context: { ...err.context, attempts: attempt + 1 },
              cause: err,
              ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
            });
          }
          throw err;
        }
        const backoff = Math.min(cap, base * 2 ** attempt);
        const delayMs = err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 0) : Math.round(backoff / 2 + Math.random() * (backoff / 2));
        this.opts.onRetry?.({ endpoint, attempt: attempt + 1, delayMs, error: err });
        await this.sleep(delayMs);
      }
    }
  }

  private async once(req: { method: 'GET' | 'POST'; path: string; params: Readonly<Record<string, string | number | undefined>>; body?: unknown }, endpoint: string): Promise<unknown> {
    const { path } = req;
    const { venue } = this.opts;
    if (this.limiter) await this.limiter.take(this.sleep);
    this.requests++;
    let res: AxiosResponse<string>;
    try {
      res = req.method === 'GET'
        ? await this.ax.get<string>(path, { params: stripUndefined(req.params) })
        : await this.ax.post<string>(path, JSON.stringify(req.body), { headers: { 'Content-Type': 'application/json' } });
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'ERR';
      const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
      throw new AppError('network', `${venue} ${endpoint}: ${timeout ? 'request timed out' : `network error (${code}: ${(e as Error).message})`}.`, {
        context: { venue, endpoint, code },
        cause: e,
      });
    }
    const body = parseBody(res.data);
    const status = res.status;
    if (status >= 200 && status < 300) {
      if (body.ok) {
        const bad = this.opts.checkBody?.(body.value, endpoint, req.params);
        if (bad) throw bad;
        return body.value;
      }
      throw new AppError('badResponse', `${venue} ${endpoint}: the response body is not valid JSON (${body.error}; ${String(res.data).length} bytes, starts ${JSON.stringify(String(res.data).slice(0, 60))}). It may have been truncated; try again, or check --base-url.`, {
        context: { venue, endpoint, status, bytes: String(res.data).length },
      });
    }
    const parsed = body.ok ? body.value : undefined;
    const custom = this.opts.classifyError?.(status, parsed, endpoint);
    if (custom) throw custom;
    const detail = body.ok ? JSON.stringify(parsed).slice(0, 200) : String(res.data).slice(0, 200);
    const ctx = { venue, endpoint, status, body: detail };
    if (status === 429 || status === 418) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      throw new AppError('rateLimited', `${venue} ${endpoint}: rate limited (HTTP ${status})${retryAfterMs !== undefined ? `, retry after ${retryAfterMs} ms` : ''}.`, {
        context: ctx,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    if (status >= 500) throw new AppError('unavailable', `${venue} ${endpoint}: server error HTTP ${status}: ${detail}`, { context: ctx });
    if (status === 404) throw new AppError('notSupported', `${venue} ${endpoint}: HTTP 404 — the endpoint does not exist at ${this.opts.baseUrl}${path}; check --base-url.`, { context: ctx });
    throw new AppError('badRequest', `${venue} ${endpoint}: HTTP ${status}: ${detail}`, { context: ctx });
  }
}

function stripUndefined(p: Readonly<Record<string, string | number | undefined>>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = v;
  return out;
}

function parseBody(text: unknown): { ok: true; value: unknown } | { ok: false; error: string } {
  if (typeof text !== 'string') return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
