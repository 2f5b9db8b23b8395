/**
 * Read-only HTTP API over a {@link ParameterStore}, for automated updaters (`liqcal serve`). Routes (GET only):
 * `/v1/health`, `/v1/latest?market=M&type=T`, `/v1/history?market=M[&type=T][&fromId=N][&limit=N]`. Every request
 * needs `Authorization: Bearer <token>` (compared in constant time); without it the answer is 401 whatever the route,
 * so unauthenticated callers learn nothing. Then: any method other than GET → 405 (there are no write routes),
 * a malformed or unknown query parameter → 400 naming it, an unknown route or nothing published → 404. Bodies are
 * JSON; errors are `{ "error": { "kind", "message", "parameter"? } }`. Times in records are epoch ms (UTC).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { readSecretFile } from './secret-file.ts';
import { AppError, isAppError } from '../core/errors.ts';
import { childLog } from '../core/log.ts';
import { UPDATE_TYPES } from './record.ts';
import type { ParameterStore } from './store.ts';

/** Largest `limit` a history request may ask for. */
export const MAX_HISTORY_LIMIT = 1000;
/** Shortest accepted bearer token, in characters (shorter ones are guessable). */
export const MIN_TOKEN_LENGTH = 16;

const Market = z.string().min(1).max(64);
/** A positive decimal integer as typed (no sign, exponent, hex or leading zeros; at most 15 digits, so a safe integer). */
const Id = z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a positive decimal integer without leading zeros').transform(Number).pipe(z.number().int().positive());

/** Query of `/v1/latest`. */
export const LatestQuerySchema = z.strictObject({ market: Market, type: z.enum(UPDATE_TYPES) });
/** Query of `/v1/history`. */
export const HistoryQuerySchema = z.strictObject({
  market: Market,
  type: z.enum(UPDATE_TYPES).optional(),
  fromId: Id.optional(),
  limit: Id.pipe(z.number().max(MAX_HISTORY_LIMIT)).optional(),
});

/**
 * Reads and checks a bearer token file: it must exist, hold at least {@link MIN_TOKEN_LENGTH} characters (surrounding
 * whitespace ignored) and, on POSIX, not be readable or writable by others (like ssh with private keys). Throws `config`.
 */
export function readTokenFile(path: string): string {
  const text = readSecretFile(path, 'token file', `Create it with a random token, e.g. \`openssl rand -hex 32 > ${path} && chmod 600 ${path}\`.`);
  const token = text.trim();
  if (token.length === 0) throw new AppError('config', `The token file ${path} is empty; write a random token into it, e.g. \`openssl rand -hex 32 > ${path}\`.`, { context: { path } });
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new AppError('config', `The token in ${path} must be one word of at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length}); use e.g. \`openssl rand -hex 32\`.`, { context: { path } });
  }
  return token;
}

/** Constant-time check of an `Authorization` header against the token (hashing first hides the token's length too). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  const ok = timingSafeEqual(digest(m?.[1] ?? ''), digest(token));
  return ok && m !== null;
}

/** Options of {@link startParamsApi}. */
export interface ParamsApiOptions {
  readonly store: ParameterStore;
  /** The bearer token clients must send. */
  readonly token: string;
  /** Bind address (default 127.0.0.1). */
  readonly host?: string;
  /** Port; 0 picks a free one (default 0). */
  readonly port?: number;
  /** How long close() waits for requests in flight before cutting connections, in ms (default 5000). */
  readonly shutdownGraceMs?: number;
}

/** A running API server. */
export interface ParamsApiServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Stops accepting, lets requests in flight finish (up to the grace period), then closes. */
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

const fail = (status: number, kind: string, message: string, parameter?: string): Reply => ({ status, body: { error: { kind, message, ...(parameter === undefined ? {} : { parameter }) } } });

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reply: Reply };

/** Validates URL query parameters with `schema`; a repeated, unknown or malformed parameter becomes a 400 naming it. */
function parseQuery<S extends z.ZodType>(schema: S, params: URLSearchParams): Parsed<z.output<S>> {
  const q: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in q) return { ok: false, reply: fail(400, 'badRequest', `The query parameter "${k}" is given more than once; give it once.`, k) };
    q[k] = v;
  }
  const r = schema.safeParse(q);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const parameter = issue.keys.join(',');
    return { ok: false, reply: fail(400, 'badRequest', `The query parameter "${parameter}" is not one of this route's; remove it.`, parameter) };
  }
  const parameter = String(issue.path[0] ?? '');
  const why = q[parameter] === undefined ? 'is required' : `is invalid (${JSON.stringify(q[parameter])}): ${issue.message}`;
  return { ok: false, reply: fail(400, 'badRequest', `The query parameter "${parameter}" ${why}.`, parameter) };
}

/** Answers one authenticated GET. */
async function route(store: ParameterStore, path: string, params: URLSearchParams): Promise<Reply> {
  switch (path) {
    case '/v1/health': {
      const settings = await store.settings();
      return { status: 200, body: { status: 'ok', backend: store.backend.name, paused: settings.paused, maxPublishSeq: await store.backend.maxPublishSeq(), nowMs: store.now() } };
    }
    case '/v1/latest': {
      const p = parseQuery(LatestQuerySchema, params);
      if (!p.ok) return p.reply;
      const q = p.value;
      const latest = await store.latest(q.market, q.type);
      if (!latest) return fail(404, 'notFound', `Nothing has been published for ${q.market} ${q.type}.`);
      return { status: 200, body: latest };
    }
    case '/v1/history': {
      const p = parseQuery(HistoryQuerySchema, params);
      if (!p.ok) return p.reply;
      const q = p.value;
      const limit = q.limit ?? 100;
      const records = await store.history({ market: q.market, ...(q.type ? { updateType: q.type } : {}), ...(q.fromId ? { fromId: q.fromId } : {}), limit });
      const last = records.at(-1);
      return { status: 200, body: { records, nextFromId: records.length === limit && last ? last.updateId + 1 : null } };
    }
    default:
      return fail(404, 'notFound', `There is no route ${path}; the routes are /v1/health, /v1/latest and /v1/history.`);
  }
}

/** Starts the API on `host:port` (loopback by default). Resolves once it listens. */
export async function startParamsApi(opts: ParamsApiOptions): Promise<ParamsApiServer> {
  if (opts.token.length < MIN_TOKEN_LENGTH) throw new AppError('config', `The API token must have at least ${MIN_TOKEN_LENGTH} characters.`);
  const logger = childLog({ component: 'params-api' });
  const server = http.createServer((req, res) => {
    const send = (r: Reply): void => {
      const body = JSON.stringify(r.body);
      res.writeHead(r.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store', ...r.headers });
      res.end(body);
    };
    // Request bodies are never read; drain them so keep-alive connections stay usable.
    req.resume();
    if (!bearerMatches(req.headers.authorization, opts.token)) {
      send({ ...fail(401, 'unauthorized', 'A valid bearer token is required: send "Authorization: Bearer <token>".'), headers: { 'WWW-Authenticate': 'Bearer realm="liqcal"' } });
      return;
    }
    if (req.method !== 'GET') {
      send({ ...fail(405, 'methodNotAllowed', `This API is read-only: ${req.method} is not allowed, use GET.`), headers: { Allow: 'GET' } });
      return;
    }
    let url: URL;
    try { url = new URL(req.url ?? '/', 'http://localhost'); } catch { send(fail(400, 'badRequest', 'The request URL is malformed.')); return; }
    route(opts.store, url.pathname, url.searchParams).then(send, (e: unknown) => {
      const unavailable = isAppError(e) && e.retryable;
      logger.error({ err: e instanceof Error ? e.message : String(e), path: url.pathname }, 'params API request failed');
      send(fail(unavailable ? 503 : 500, unavailable ? 'unavailable' : 'internal', unavailable ? 'The parameter store is unavailable; retry later.' : 'The server failed to answer; see its log.'));
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((ok, reject) => {
    server.once('error', (e) => reject(new AppError('io', `Cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}: ${e.message}. Pick another --port or --host.`, { cause: e })));
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', ok);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    close() {
      closing ??= new Promise<void>((ok) => {
        const timer = setTimeout(() => server.closeAllConnections(), opts.shutdownGraceMs ?? 5_000);
        server.close(() => { clearTimeout(timer); ok(); });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
