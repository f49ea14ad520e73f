/**
 * Runs a worker (`workers/src/main.ts`) as its own process, exactly as `npm run worker` does, for
 * tests that need the full stack's producer and consumer apart.
 */
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { spawnNode, type NodeProcess } from './node.process.ts';

const main = fileURLToPath(new URL('../../workers/src/main.ts', import.meta.url));

/** A worker process; `port` serves /healthz, /readyz and /metrics. */
export type WorkerProcess = NodeProcess;

/** Starts a worker with `env` on a free port; killed in teardown. */
export function spawnWorker(t: Test, env: Record<string, string>): Promise<WorkerProcess> {
  return spawnNode(t, main, { WORKER_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, 'worker listening');
}
