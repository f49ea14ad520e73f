/**
 * Runs a router node as its own process, exactly as `npm start` does, for tests that need several
 * nodes or real signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { TEST_ORIGIN } from './router.harness.ts';
import { uniqueName } from './services.ts';

const main = fileURLToPath(new URL('../../router/src/main.ts', import.meta.url));

export interface RouterProcess {
  proc: ChildProcess;
  port: number;
  nodeId: string;
  /** Everything the process logged, one JSON line each. */
  logs: string[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `router/src/main.ts` with `env` on a free port; killed in teardown. */
export async function spawnRouter(t: Test, env: Record<string, string>): Promise<RouterProcess> {
  const nodeId = env.NODE_ID ?? uniqueName('node');
  const proc = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', PUBLIC_ORIGIN: TEST_ORIGIN, LOG_LEVEL: 'info', NODE_ID: nodeId, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    return exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        const port = /"port":(\d+)/.exec(line)?.[1];
        if (port && line.includes('listening')) resolve(Number(port));
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) => reject(new Error(`router exited (${code}) before listening:\n${logs.join('\n')}`)));
  });
  return {
    proc,
    port,
    nodeId,
    logs,
    stop: (signal = 'SIGTERM') => {
      proc.kill(signal);
      return exited;
    },
  };
}
