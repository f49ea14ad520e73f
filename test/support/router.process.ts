/**
 * Runs a router node as its own process, exactly as `npm start` does, for tests that need several
 * nodes or real signals.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { spawnNode } from './node.process.ts';
import { TEST_ORIGIN } from './router.harness.ts';
import { uniqueName } from './services.ts';

const main = fileURLToPath(new URL('../../router/src/main.ts', import.meta.url));

export interface RouterProcess {
  proc: ChildProcess;
  port: number;
  /** The metrics listener's port, when the env sets METRICS_PORT (0 picks a free one). */
  metricsPort: number | undefined;
  nodeId: string;
  /** Everything the process logged, one JSON line each. */
  logs: string[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `router/src/main.ts` with `env` on a free port (with `nodeArgs`, e.g. ROUTER_NODE_FLAGS); killed in teardown. */
export async function spawnRouter(t: Test, env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<RouterProcess> {
  const nodeId = env.NODE_ID ?? uniqueName('node');
  const { proc, port, logs, exited } = await spawnNode(t, main, { PORT: '0', HOST: '127.0.0.1', PUBLIC_ORIGIN: TEST_ORIGIN, LOG_LEVEL: 'info', NODE_ID: nodeId, ...env }, 'listening', nodeArgs);
  const metricsPort = logs.map((line) => /"metricsPort":(\d+)/.exec(line)?.[1]).find(Boolean);
  return {
    proc,
    port,
    metricsPort: metricsPort === undefined ? undefined : Number(metricsPort),
    nodeId,
    logs,
    stop: (signal = 'SIGTERM') => {
      proc.kill(signal);
      return exited;
    },
  };
}
