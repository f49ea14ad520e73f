/**
 * The Prometheus listener: GET /metrics on its own port (METRICS_PORT, bound to METRICS_HOST,
 * loopback by default), never on the public one. The figures (connections, event-loop delay,
 * error codes) tell an outsider how loaded and how attacked a node is, so the public port
 * answers 404 and this one may also ask for a bearer token (METRICS_TOKEN), for scrapers that
 * reach it over a network.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsListener {
  server: Server;
  /** The port actually bound (METRICS_PORT=0 picks one). */
  port: number;
  close(): Promise<void>;
}

export interface MetricsListenerOptions {
  port: number;
  host: string;
  /** When set, every scrape must send `Authorization: Bearer <token>`; 401 otherwise. */
  token: string | undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the request carries the token; compared in constant time. */
function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(req.headers.authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

/** Starts the metrics listener for `registry`; resolves once it listens. */
export async function startMetricsListener(registry: Registry, options: MetricsListenerOptions): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    const send = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
      res.end(text);
    };
    if ((req.url ?? '/').split('?')[0] !== '/metrics') return send(404, 'not found\n');
    if (req.method !== 'GET') return send(405, 'method not allowed\n', { Allow: 'GET' });
    if (!authorized(req, options.token)) return send(401, 'unauthenticated\n', { 'WWW-Authenticate': 'Bearer realm="metrics"' });
    registry.metrics().then(
      (text) => send(200, text, { 'Content-Type': registry.contentType }),
      () => send(500, 'internal error\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
