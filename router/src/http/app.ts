/**
 * The HTTP side of a router node: health and readiness, and the built PWA. Handlers only parse and
 * delegate; errors leave as `{ error: { code, message } }` with a documented code.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import polka, { type Polka } from 'polka';
import sirv from 'sirv';
import { ERROR_CODES, type ErrorCode } from '../../../protocol/errors.ts';
import type { ErrorResponse, HealthResponse, ReadyResponse } from '../../../protocol/http.ts';
import { toAppError } from '../../../protocol/app-error.ts';
import type { Config } from '../config.ts';
import { contentSecurityPolicy } from './csp.ts';
import { sendJson } from './json.ts';
import { routeGroups, type Guards, type Req, type RouteModule } from './route.ts';

export interface HttpDeps {
  /** `nodeId` answers /healthz; `staticDir` holds the built PWA (served when it exists). */
  config: Pick<Config, 'nodeId' | 'staticDir'>;
  log: Logger;
  /** The checks route groups run before their handlers. */
  guards: Guards;
  /** Every feature's routes, registered under /api in this order. */
  routes: readonly RouteModule[];
  /** The names of the stores (and the bus) that did not answer in time; empty when the node is ready. */
  ready(): Promise<string[]>;
  /** True from the start of a graceful shutdown: readiness fails so balancers move traffic away. */
  draining(): boolean;
}

/** Builds the Polka app (not listening yet). */
export function httpApp({ config, log, guards, routes, ready, draining }: HttpDeps): Polka<Req> {
  const app = polka<Req>({
    onError: (err, _req, res) => {
      const e = toAppError(err);
      if (e.code === 'internal') log.error({ err }, 'request failed');
      sendJson(res, e.status, { error: { code: e.code, message: e.message } } satisfies ErrorResponse);
    },
    onNoMatch: (_req, res) => sendError(res, 'not_found'),
  });

  // One log line per request, with an id the client and the proxy can quote. The path only: a
  // query string may carry an OAuth code or state, which never goes to the log.
  app.use((req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    const started = performance.now();
    res.once('finish', () => {
      const path = (req.url ?? '/').split('?')[0];
      const probe = path === '/healthz' || path === '/readyz';
      log[probe ? 'debug' : 'info'](
        { req: id, method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok', node: config.nodeId } satisfies HealthResponse));
  app.get('/readyz', async (_req, res) => {
    if (draining()) return sendJson(res, 503, { status: 'draining' } satisfies ReadyResponse);
    const failing = await ready();
    if (failing.length === 0) return sendJson(res, 200, { status: 'ready' } satisfies ReadyResponse);
    sendJson(res, 503, { status: 'unavailable', stores: failing } satisfies ReadyResponse);
  });

  // Metrics are served on the metrics listener only (metrics.http.ts). Here the path is a plain 404
  // rather than the app's shell from the SPA fallback, so a scraper pointed at the public port is
  // told at once that it has the wrong port.
  app.get('/metrics', (_req, res) => sendError(res, 'not_found'));

  // Feature routes, each module registering its own paths under /api into the group it needs.
  const groups = routeGroups(app, guards);
  for (const register of routes) register(groups);

  if (existsSync(config.staticDir)) {
    // SPA fallback: unknown paths get index.html so client-side routes survive a reload.
    const csp = contentSecurityPolicy(config.staticDir);
    app.use(
      sirv(config.staticDir, {
        single: true,
        etag: true,
        gzip: true,
        brotli: true,
        setHeaders: (res, pathname) => {
          // A build names its hashed assets by content, so a browser may keep them for good; the
          // shell, the manifest and the service worker name no version and are revalidated on each use.
          res.setHeader('Cache-Control', pathname.startsWith('/_app/immutable/') ? 'public, max-age=31536000, immutable' : 'no-cache');
          res.setHeader('Content-Security-Policy', csp);
          res.setHeader('X-Content-Type-Options', 'nosniff');
          res.setHeader('Referrer-Policy', 'same-origin');
        },
      }),
    );
  } else {
    app.get('/', (_req, res) => {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('The messenger router is running. The web app is not built yet; the WebSocket endpoint is /ws.\n');
    });
  }
  return app;
}

function sendError(res: ServerResponse, code: ErrorCode): void {
  sendJson(res, ERROR_CODES[code].status, { error: { code, message: ERROR_CODES[code].text } } satisfies ErrorResponse);
}
