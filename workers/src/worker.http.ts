/**
 * The worker's small HTTP server: /healthz (the process runs), /readyz (broker and stores answer;
 * 503 while shutting down) and /metrics (Prometheus: task outcomes, tasks in flight, Node's own).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboxStats } from '../../kit/amqp.outbox.ts';
import type { RunnerStats } from './task.runner.ts';
import { workerMetrics } from './worker.metrics.ts';

export interface WorkerHttpDeps {
  stats: () => RunnerStats;
  /** Tasks this worker published (retries, digests) that wait for the broker's confirm. */
  outbox?: () => OutboxStats;
  ready: () => Promise<void>;
  draining: () => boolean;
  nodeId: string;
}

/** Listens on host:port; resolves with the server and the port bound. */
export async function startWorkerHttp(deps: WorkerHttpDeps, port: number, host: string): Promise<{ server: Server; port: number }> {
  const metrics = workerMetrics(deps.stats, deps.outbox);
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/healthz') return send(200, { status: 'ok', node: deps.nodeId });
    if (path === '/metrics') {
      return void metrics.metrics().then((text) => {
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(text);
      });
    }
    if (path === '/readyz') {
      if (deps.draining()) return send(503, { status: 'draining' });
      return void deps.ready().then(
        () => send(200, { status: 'ready' }),
        () => send(503, { status: 'unavailable' }),
      );
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
