import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import http from 'node:http';
import https from 'node:https';
import { formatDurationMs, MAX_TIMER_DELAY_MS, timerSafeMs } from '../core/delay.ts';
import { AppError } from '../core/errors.ts';

/** The HTTP client's defaults (ms unless named otherwise); {@link HttpOptions} documents each. */
export const HTTP_DEFAULTS = {
  timeoutMs: 30_000,
  maxRetries: 5,
  baseBackoffMs: 500,
  maxBackoffMs: 30_000,
  maxRetryAfterMs: 120_000,
  retryBudgetMs: 300_000,
} as const;

/** How a venue client talks HTTP: limits, patience and retry policy. */
export interface HttpOptions {
  /** Venue id, used in every error message. */
  readonly venue: string;
  /** Base URL, e.g. https://api.binance.com or http://127.0.0.1:8787. */
  readonly baseUrl: string;
  /**
   * Whole-response deadline of one attempt, ms: connect, headers and the complete body must arrive within it
   * (a server that trickles a byte a second cannot keep a request alive). When it passes the attempt fails with a
   * retryable `network` error. Default 30 000.
   */
  readonly timeoutMs?: number;
  /** Retries after the first attempt, on retryable errors only. Default 5. */
  readonly maxRetries?: number;
  /** First backoff in ms; doubles per retry, with full jitter, capped at `maxBackoffMs`. Defaults 500 and 30 000. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * The longest wait a server's `Retry-After` can impose before a retry, ms: a longer ask waits this long instead
   * (an hour-long or years-long Retry-After must neither stall ingest nor overflow a timer). Default 120 000.
   */
  readonly maxRetryAfterMs?: number;
  /**
   * Total time one request may spend on its attempts and the waits between them, ms. When the next wait would not
   * fit in what is left, the client gives up with a retryable error that says so; a request therefore takes at most
   * `retryBudgetMs` plus one `timeoutMs`. Default 300 000.
   */
  readonly retryBudgetMs?: number;
  /**
   * Cancels the request in flight and any retry wait when aborted (the run was stopped, or its stage deadline
   * passed); the client then throws a `network` error that it does not retry.
   */
  readonly signal?: AbortSignal;
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
  /** Sleep function (tests inject a fast one that records the delays); defaults to setTimeout. Delays never exceed 2^31 − 1 ms. */
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

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, timerSafeMs(ms)));

/** Parses a Retry-After header (seconds or an HTTP date) into ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, nowMs = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const s = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, t - nowMs) : undefined;
}

/**
 * A JSON-over-HTTP client for one venue: a whole-response deadline per attempt, a client-side rate limit, and
 * retries with exponential backoff on retryable errors only (network errors and deadlines, 429 honouring a capped
 * Retry-After, 5xx), within a total retry budget per request. Bodies are read as text and parsed here so that a
 * truncated or malformed body, or an HTML page, becomes a clear `badResponse` error naming the venue and endpoint.
 */
export class HttpClient {
  private readonly ax: AxiosInstance;
  private readonly limiter: RateLimiter | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeoutMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly retryBudgetMs: number;
  /** Requests sent, including retries (for tests and stats). */
  requests = 0;

  constructor(readonly opts: HttpOptions) {
    this.timeoutMs = positiveMs(opts.timeoutMs, HTTP_DEFAULTS.timeoutMs, 'timeoutMs', opts.venue);
    this.maxRetryAfterMs = positiveMs(opts.maxRetryAfterMs, HTTP_DEFAULTS.maxRetryAfterMs, 'maxRetryAfterMs', opts.venue);
    this.retryBudgetMs = positiveMs(opts.retryBudgetMs, HTTP_DEFAULTS.retryBudgetMs, 'retryBudgetMs', opts.venue);
    this.ax = axios.create({
      baseURL: opts.baseUrl,
      // No axios `timeout`: in Node it is a socket-idle timeout that every trickled byte resets. The deadline of
      // each attempt is an AbortSignal armed in once(), covering the connection, the headers and the whole body.
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

  /** The wait before retry `attempt` (1-based) after `err`, ms: the server's Retry-After up to the cap, else jittered backoff. */
  private delayFor(err: AppError, attempt: number): number {
    if (err.retryAfterMs !== undefined) return timerSafeMs(Math.min(err.retryAfterMs, this.maxRetryAfterMs));
    const backoff = Math.min(this.opts.maxBackoffMs ?? HTTP_DEFAULTS.maxBackoffMs, (this.opts.baseBackoffMs ?? HTTP_DEFAULTS.baseBackoffMs) * 2 ** (attempt - 1));
    return timerSafeMs(Math.round(backoff / 2 + Math.random() * (backoff / 2)));
  }

  private async withRetries(endpoint: string, attemptOnce: () => Promise<unknown>): Promise<unknown> {
    const maxRetries = this.opts.maxRetries ?? HTTP_DEFAULTS.maxRetries;
    const budget = this.retryBudgetMs;
    // Time spent on this request: attempts as measured, waits as requested (an injected sleep may not really wait).
    let spentMs = 0;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      try {
        return await attemptOnce();
      } catch (e) {
        spentMs += performance.now() - t0;
        const err = e instanceof AppError ? e : new AppError('internal', String(e), { cause: e });
        if (!err.retryable || this.opts.signal?.aborted) throw err;
        const attempts = attempt + 1;
        if (attempt >= maxRetries) throw gaveUp(err, attempts, `Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}.`, { spentMs: Math.round(spentMs) }, this.maxRetryAfterMs);
        const delayMs = this.delayFor(err, attempts);
        const leftMs = budget - spentMs;
        if (delayMs > leftMs) {
          throw gaveUp(err, attempts, `Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${formatDurationMs(spentMs)}: the next wait of ${formatDurationMs(delayMs)}${err.retryAfterMs !== undefined ? ` (the server's Retry-After${err.retryAfterMs > this.maxRetryAfterMs ? ` of ${formatDurationMs(err.retryAfterMs)}, capped at ${formatDurationMs(this.maxRetryAfterMs)}` : ''})` : ''} would exceed what is left (${formatDurationMs(Math.max(0, leftMs))}) of this request's ${formatDurationMs(budget)} retry budget. The venue may recover later: rerun, or raise the retry budget (--retry-budget-ms).`, { spentMs: Math.round(spentMs), nextDelayMs: delayMs, retryBudgetMs: budget }, this.maxRetryAfterMs);
        }
        this.opts.onRetry?.({ endpoint, attempt: attempts, delayMs, error: err });
        spentMs += delayMs;
        await this.wait(delayMs, err);
      }
    }
  }

  /** Sleeps `ms` (already timer-safe), cut short by the cancel signal: then rethrows `err` without retrying. */
  private async wait(ms: number, err: AppError): Promise<void> {
    const signal = this.opts.signal;
    if (!signal) return this.sleep(ms);
    if (signal.aborted) throw this.cancelled(err);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => { onAbort = () => resolve('aborted'); signal.addEventListener('abort', onAbort, { once: true }); });
    try {
      if ((await Promise.race([this.sleep(ms), aborted])) === 'aborted') throw this.cancelled(err);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  private cancelled(last: AppError): AppError {
    const { venue } = this.opts;
    return new AppError('network', `${venue}: the request was cancelled while waiting to retry (the run was stopped or its stage deadline passed); last error: ${last.message}`, { context: { ...last.context, venue, cancelled: true }, cause: last });
  }

  private async once(req: { method: 'GET' | 'POST'; path: string; params: Readonly<Record<string, string | number | undefined>>; body?: unknown }, endpoint: string): Promise<unknown> {
    const { path } = req;
    const { venue } = this.opts;
    const outer = this.opts.signal;
    if (this.limiter) await this.limiter.take(this.sleep);
    if (outer?.aborted) throw new AppError('network', `${venue} ${endpoint}: the request was cancelled before it was sent (the run was stopped or its stage deadline passed).`, { context: { venue, endpoint, cancelled: true } });
    this.requests++;
    const deadlineMs = this.timeoutMs;
    // One controller per attempt: aborted by the whole-response deadline or by the caller's signal.
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ac.abort(); }, timerSafeMs(deadlineMs));
    const forward = (): void => ac.abort();
    outer?.addEventListener('abort', forward, { once: true });
    let res: AxiosResponse<string>;
    try {
      res = req.method === 'GET'
        ? await this.ax.get<string>(path, { params: stripUndefined(req.params), signal: ac.signal })
        : await this.ax.post<string>(path, JSON.stringify(req.body), { headers: { 'Content-Type': 'application/json' }, signal: ac.signal });
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'ERR';
      if (timedOut) {
        throw new AppError('network', `${venue} ${endpoint}: no complete response within ${formatDurationMs(deadlineMs)} (timed out at the whole-response deadline, which covers the connection, the headers and the whole body); the venue is slow or trickling its answer. A retry may succeed; if this keeps happening, check the venue's status or raise --request-timeout-ms.`, {
          context: { venue, endpoint, deadlineMs, code: 'DEADLINE' },
          cause: e,
        });
      }
      if (outer?.aborted) {
        throw new AppError('network', `${venue} ${endpoint}: the request was cancelled in flight (the run was stopped or its stage deadline passed).`, { context: { venue, endpoint, cancelled: true }, cause: e });
      }
      throw new AppError('network', `${venue} ${endpoint}: network error (${code}: ${(e as Error).message}).`, {
        context: { venue, endpoint, code },
        cause: e,
      });
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
    const body = parseBody(res.data);
    const status = res.status;
    if (status >= 200 && status < 300) {
      if (body.ok) {
        const bad = this.opts.checkBody?.(body.value, endpoint, req.params);
        if (bad) throw bad;
        return body.value;
      }
      const text = String(res.data);
      const html = htmlTitle(text);
      if (html !== undefined) {
        throw new AppError('badResponse', `${venue} ${endpoint}: the response is an HTML page${html ? ` ("${html}")` : ''} with HTTP ${status}, not JSON (${text.length} bytes): a CDN or firewall challenge, a captive portal or proxy, or a --base-url that is not the venue's API. Check --base-url and that this host may reach the venue's API.`, {
          context: { venue, endpoint, status, bytes: text.length, contentType: String(res.headers['content-type'] ?? ''), html: true },
        });
      }
      throw new AppError('badResponse', `${venue} ${endpoint}: the response body is not valid JSON (${body.error}; ${text.length} bytes, starts ${JSON.stringify(text.slice(0, 60))}). It may have been truncated; try again, or check --base-url.`, {
        context: { venue, endpoint, status, bytes: text.length },
      });
    }
    const parsed = body.ok ? body.value : undefined;
    const custom = this.opts.classifyError?.(status, parsed, endpoint);
    if (custom) throw custom;
    const html = body.ok ? undefined : htmlTitle(String(res.data));
    const detail = body.ok ? JSON.stringify(parsed).slice(0, 200) : html !== undefined ? `an HTML page${html ? ` ("${html}")` : ''}` : String(res.data).slice(0, 200);
    const ctx = { venue, endpoint, status, body: detail };
    if (status === 429 || status === 418) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      throw new AppError('rateLimited', `${venue} ${endpoint}: rate limited (HTTP ${status})${retryAfterMs !== undefined ? `, asked to retry after ${formatDurationMs(retryAfterMs)}${retryAfterMs > this.maxRetryAfterMs ? ` (waits at most ${formatDurationMs(this.maxRetryAfterMs)})` : ''}` : ''}.`, {
        context: ctx,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    if (status >= 500) throw new AppError('unavailable', `${venue} ${endpoint}: server error HTTP ${status}: ${detail}`, { context: ctx });
    if (status === 404) throw new AppError('notSupported', `${venue} ${endpoint}: HTTP 404 — the endpoint does not exist at ${this.opts.baseUrl}${path}; check --base-url.`, { context: ctx });
    throw new AppError('badRequest', `${venue} ${endpoint}: HTTP ${status}: ${detail}`, { context: ctx });
  }
}

/** The final error after retries: the last one with why the client stopped; its Retry-After passed on capped. */
function gaveUp(err: AppError, attempts: number, why: string, extra: Record<string, unknown>, maxRetryAfterMs: number): AppError {
  return new AppError(err.kind, `${err.message} ${why}`, {
    context: { ...err.context, attempts, ...extra },
    cause: err,
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: Math.min(err.retryAfterMs, maxRetryAfterMs) } : {}),
  });
}

/** A positive whole-ms option up to the timer maximum, or its default; anything else is a configuration error. */
function positiveMs(value: number | undefined, fallback: number, name: string, venue: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_DELAY_MS) {
    throw new AppError('config', `${venue}: the HTTP option ${name} is ${value} ms; give a positive number of milliseconds up to ${MAX_TIMER_DELAY_MS}.`, { context: { venue, option: name, value } });
  }
  return Math.ceil(value);
}

/** When `text` is an HTML page: its <title> (maybe ""), else undefined. */
function htmlTitle(text: string): string | undefined {
  const head = text.slice(0, 4096);
  if (!/^\s*(<!doctype html|<html|<head|<body|<\?xml|<!--)/i.test(head) && !/<html[\s>]/i.test(head)) return undefined;
  const m = /<title[^>]*>([^<]*)<\/title>/i.exec(head);
  return m ? m[1]!.replace(/\s+/g, ' ').trim().slice(0, 80) : '';
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
