/**
 * A hostile venue for tests: a real HTTP server on 127.0.0.1 (ephemeral port) that speaks Binance's klines wire
 * format — `/api/v3/klines` and `/fapi/v1/klines` with `startTime`/`endTime` (inclusive) and `limit`, bodies
 * serialised by the replay server's own {@link klinesBody} — and misbehaves per request in a chosen
 * {@link HostileMode}: slow headers, a body trickled a byte at a time, a huge Retry-After, a truncated body, an HTML
 * page instead of JSON, or bars off the interval grid. Point a Binance source at it (`createSource('binance-usdm',
 * { baseUrl: venue.url })`, `liqcal ingest --base-url`, a pipeline's `venue.baseUrl`) and the real client, schemas
 * and mappers meet the fault. No mocks: every byte crosses a socket.
 *
 * @example
 * ```ts
 * const venue = await startHostileVenue({ modes: [{ kind: 'trickle', byteEveryMs: 200 }], then: { kind: 'healthy' } });
 * // first request: headers at once, then one byte every 200 ms; every later one answers normally
 * await venue.close();
 * ```
 *
 * Also served, always healthy-shaped: `/api/v3/ping`, `/fapi/v1/ping` (`{}`) and `/api/v3/time`, `/fapi/v1/time`;
 * any other path answers 404 with a Binance error body. The mode applies to every request, whatever its path.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { klinesBody } from '../../src/ingest/replay/wire-server.ts';
import type { Bar } from '../../src/ingest/types.ts';

/** How the venue answers one request. Times in ms. */
export type HostileMode =
  /** A correct answer at once. */
  | { readonly kind: 'healthy' }
  /** Waits `delayMs` before sending the headers, then answers correctly (an overloaded venue, a slow proxy). */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /**
   * Sends status and headers at once (with the full Content-Length), then the correct body one byte every
   * `byteEveryMs`: a socket-idle timeout never fires, only a whole-response deadline does.
   */
  | { readonly kind: 'trickle'; readonly byteEveryMs: number }
  /**
   * Refuses with `status` (default 429; 418 is Binance's IP ban, 503 an overloaded venue) and a `Retry-After` header
   * of `retryAfter` seconds as sent verbatim (e.g. 3600, "99999999", or an HTTP date), with Binance's -1003 body.
   */
  | { readonly kind: 'retryAfter'; readonly retryAfter: number | string; readonly status?: 429 | 418 | 503 }
  /**
   * Sends only the first `keepBytes` of the correct body (default: half). `cut: 'body'` (default) sends a complete
   * HTTP message whose JSON is cut short (a proxy that truncated it: the client must refuse it as a bad response);
   * `cut: 'connection'` declares the full Content-Length and resets the connection after `keepBytes` (a network
   * failure mid-body: retryable).
   */
  | { readonly kind: 'truncated'; readonly keepBytes?: number; readonly cut?: 'body' | 'connection' }
  /**
   * An HTML page instead of JSON, as a CDN or firewall sends it: by default HTTP 200 with Cloudflare's "Just a
   * moment..." challenge; `status` 503 gives its "Service unavailable" error page. `title` overrides the page title.
   */
  | { readonly kind: 'html'; readonly status?: number; readonly title?: string }
  /**
   * Correct JSON whose bars are shifted `offsetMs` off the interval grid (default half a bar: 1h bars opening at
   * HH:30). Paging still works on the shifted times; refusing such rows is the client's row checks' job.
   */
  | { readonly kind: 'misaligned'; readonly offsetMs?: number };

/** A request as the hostile venue saw it, with the mode it was answered in. */
export interface HostileRequest {
  /** 0-based order of arrival. */
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly mode: HostileMode['kind'];
  /** Arrival time, epoch ms (wall clock). */
  readonly atMs: number;
}

/**
 * Which mode answers each request: one mode for all; a list, used in order (request i gets `modes[i]`, later ones
 * `then`); or a function of the request and its index.
 */
export type HostileModes = HostileMode | readonly HostileMode[] | ((req: { readonly method: string; readonly path: string; readonly query: URLSearchParams }, index: number) => HostileMode);

/** Options of {@link startHostileVenue}. */
export interface HostileVenueOptions {
  /** Bars served (ascending open times); default {@link hostileBars}() — 48 hourly bars from 2025-01-01T00:00Z. */
  readonly bars?: readonly Bar[];
  /** Bar interval in ms (close time = open + step − 1; the default misalignment is half of it). Default 1 h. */
  readonly stepMs?: number;
  /** How requests are answered; default healthy. */
  readonly modes?: HostileModes;
  /** The mode after a list of `modes` is used up; default healthy. */
  readonly then?: HostileMode;
}

/** A running hostile venue. */
export interface HostileVenue {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: readonly HostileRequest[];
  /** Responses not yet finished or closed: 0 once every client has its answer or hung up (a cancelled trickle). */
  inFlight(): number;
  /** Replaces the modes for the requests that arrive from now on (request indices keep counting). */
  setModes(modes: HostileModes, then?: HostileMode): void;
  /** Stops trickles and pending answers, drops every connection and stops listening. */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

/** `count` deterministic hourly bars from `startMs` (a gentle zig-zag around 100: test data only). */
export function hostileBars(startMs = Date.UTC(2025, 0, 1), count = 48, stepMs = HOUR_MS): Bar[] {
  return Array.from({ length: count }, (_, i) => {
    const open = 100 + (i % 7) - 3;
    const close = open + ((i % 3) - 1) * 0.5;
    return { openTimeMs: startMs + i * stepMs, open, high: Math.max(open, close) + 0.25, low: Math.min(open, close) - 0.25, close, volume: 10 + (i % 5), quoteVolume: 1_000 + i, trades: 100 + i, takerBuyBaseVolume: 5 };
  });
}

/** A Cloudflare-like HTML page: the "Just a moment..." challenge (HTTP 200) or an error page (other statuses). */
export function cloudflarePage(status: number, title?: string): string {
  const t = title ?? (status === 200 ? 'Just a moment...' : `Error ${status} | Service unavailable`);
  return `<!DOCTYPE html>\n<html lang="en-US"><head><title>${t}</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">`
    + '<meta name="robots" content="noindex,nofollow"><style>*{box-sizing:border-box;margin:0;padding:0}</style></head>'
    + '<body><div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-title">fapi.binance.com</h1>'
    + `<p>${status === 200 ? 'Verifying you are human. This may take a few seconds.' : 'The server is temporarily unable to service your request.'}</p>`
    + '</div></div><div class="footer"><div>Ray ID: <code>8f1c2b3a4d5e6f70</code></div><div>Performance &amp; security by Cloudflare</div></div></body></html>\n';
}

/** Binance's klines window: open time in [startTime, endTime], at most `limit` (default 500, at most 1500) rows. */
function klinesPage(bars: readonly Bar[], q: URLSearchParams): Bar[] {
  const start = Number(q.get('startTime') ?? 0);
  const end = Number(q.get('endTime') ?? Number.MAX_SAFE_INTEGER);
  const limit = Math.min(1500, Number(q.get('limit') ?? 500));
  return bars.filter((b) => b.openTimeMs >= start && b.openTimeMs <= end).slice(0, limit);
}

/** The correct answer to `path` (bars optionally shifted off the grid): status and JSON body. */
function healthyAnswer(path: string, q: URLSearchParams, bars: readonly Bar[], stepMs: number): { status: number; body: string } {
  switch (path) {
    case '/api/v3/klines':
    case '/fapi/v1/klines':
      if (!q.get('symbol')) return { status: 400, body: '{"code":-1102,"msg":"Mandatory parameter \'symbol\' was not sent, was empty/null, or malformed."}' };
      return { status: 200, body: klinesBody(klinesPage(bars, q), stepMs) };
    case '/api/v3/ping':
    case '/fapi/v1/ping':
      return { status: 200, body: '{}' };
    case '/api/v3/time':
    case '/fapi/v1/time':
      return { status: 200, body: `{"serverTime":${Date.now()}}` };
    default:
      return { status: 404, body: JSON.stringify({ code: -1, msg: `The hostile venue does not serve ${path}.` }) };
  }
}

/** Starts a hostile venue on 127.0.0.1 with an ephemeral port. Never leaves loopback. */
export async function startHostileVenue(opts: HostileVenueOptions = {}): Promise<HostileVenue> {
  const stepMs = opts.stepMs ?? HOUR_MS;
  const bars = opts.bars ?? hostileBars(undefined, undefined, stepMs);
  let modes: HostileModes = opts.modes ?? { kind: 'healthy' };
  let then: HostileMode = opts.then ?? { kind: 'healthy' };
  let listStart = 0;
  const requests: HostileRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const open = new Set<http.ServerResponse>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  };

  const modeFor = (req: { method: string; path: string; query: URLSearchParams }, index: number): HostileMode => {
    if (typeof modes === 'function') return modes(req, index);
    if (Array.isArray(modes)) return (modes as readonly HostileMode[])[index - listStart] ?? then;
    return modes as HostileMode;
  };

  const send = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    if (res.destroyed) return;
    const buf = Buffer.from(body, 'utf8');
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(buf.length), ...headers });
    res.end(buf);
  };

  const answer = (res: http.ServerResponse, mode: HostileMode, path: string, query: URLSearchParams): void => {
    switch (mode.kind) {
      case 'healthy': {
        const a = healthyAnswer(path, query, bars, stepMs);
        send(res, a.status, a.body);
        return;
      }
      case 'slow': {
        later(mode.delayMs, () => { const a = healthyAnswer(path, query, bars, stepMs); send(res, a.status, a.body); });
        return;
      }
      case 'trickle': {
        const a = healthyAnswer(path, query, bars, stepMs);
        const buf = Buffer.from(a.body, 'utf8');
        res.writeHead(a.status, { 'Content-Type': 'application/json', 'Content-Length': String(buf.length) });
        res.flushHeaders();
        let i = 0;
        const tick = setInterval(() => {
          if (res.destroyed || i >= buf.length) {
            clearInterval(tick);
            timers.delete(tick);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(buf.subarray(i, i + 1));
          i++;
        }, Math.max(1, mode.byteEveryMs));
        timers.add(tick);
        res.on('close', () => { clearInterval(tick); timers.delete(tick); });
        return;
      }
      case 'retryAfter': {
        const status = mode.status ?? 429;
        const msg = status === 418 ? 'Way too many requests; IP banned until further notice.' : 'Too many requests; current limit of IP is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.';
        send(res, status, JSON.stringify({ code: -1003, msg }), { 'Retry-After': String(mode.retryAfter) });
        return;
      }
      case 'truncated': {
        const a = healthyAnswer(path, query, bars, stepMs);
        const buf = Buffer.from(a.body, 'utf8');
        const keep = Math.max(0, Math.min(buf.length - 1, mode.keepBytes ?? Math.floor(buf.length / 2)));
        if ((mode.cut ?? 'body') === 'body') {
          send(res, a.status, buf.subarray(0, keep).toString('utf8'));
          return;
        }
        res.writeHead(a.status, { 'Content-Type': 'application/json', 'Content-Length': String(buf.length) });
        res.write(buf.subarray(0, keep), () => res.socket?.destroy());
        return;
      }
      case 'html': {
        const status = mode.status ?? 200;
        send(res, status, cloudflarePage(status, mode.title), { 'Content-Type': 'text/html; charset=UTF-8', Server: 'cloudflare', 'CF-RAY': '8f1c2b3a4d5e6f70-FRA' });
        return;
      }
      case 'misaligned': {
        const offset = mode.offsetMs ?? Math.floor(stepMs / 2);
        const shifted = bars.map((b) => ({ ...b, openTimeMs: b.openTimeMs + offset }));
        const a = healthyAnswer(path, query, shifted, stepMs);
        send(res, a.status, a.body);
        return;
      }
    }
  };

  const server = http.createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    req.resume();
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const index = requests.length;
      const seen = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams };
      const mode = modeFor(seen, index);
      requests.push({ index, ...seen, mode: mode.kind, atMs: Date.now() });
      answer(res, mode, u.pathname, u.searchParams);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    inFlight: () => open.size,
    setModes(next, nextThen) {
      modes = next;
      if (nextThen) then = nextThen;
      listStart = requests.length;
    },
    close: () => new Promise<void>((ok) => {
      for (const t of timers) { clearTimeout(t); clearInterval(t); }
      timers.clear();
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
