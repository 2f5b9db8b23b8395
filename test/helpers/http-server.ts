import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a test route answers: a status, headers and a raw body (sent verbatim, so it can be truncated or malformed). */
export interface TestResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
  /** Destroy the socket after writing this many bytes of the body (truncated bodies). */
  cutAfterBytes?: number;
}

/** A request as a route sees it. */
export interface TestRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

/** A real HTTP server on 127.0.0.1 with an ephemeral port, for tests. */
export interface TestServer {
  url: string;
  requests: TestRequest[];
  close(): Promise<void>;
}

/** Starts a loopback HTTP server whose answers come from `route`. Never leaves loopback. */
export async function startTestServer(route: (req: TestRequest) => TestResponse | Promise<TestResponse>): Promise<TestServer> {
  const requests: TestRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const tr: TestRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(tr);
      void Promise.resolve(route(tr)).then(async (r) => {
        if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
        if (res.destroyed) return;
        const body = Buffer.from(r.body ?? '', 'utf8');
        res.writeHead(r.status ?? 200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ...r.headers });
        if (r.cutAfterBytes !== undefined) {
          res.write(body.subarray(0, r.cutAfterBytes));
          res.socket?.destroy();
          return;
        }
        res.end(body);
      });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

/** Path of the shared data directory (../shared/data from the project root). */
export const SHARED_DATA = new URL('../../../shared/data/', import.meta.url).pathname;
