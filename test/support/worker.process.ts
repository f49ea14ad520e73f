/**
 * Runs a worker (`workers/src/main.ts`) as its own process, exactly as `npm run worker` does, for
 * tests that need the full stack's producer and consumer apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

const main = fileURLToPath(new URL('../../workers/src/main.ts', import.meta.url));

export interface WorkerProcess {
  proc: ChildProcess;
  /** Its /healthz, /readyz and /metrics port. */
  port: number;
  /** Everything the process logged, one JSON line each. */
  logs: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts a worker with `env` on a free port; killed in teardown. */
export async function spawnWorker(t: Test, env: Record<string, string>): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', main], { env: { PATH: process.env.PATH, WORKER_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    return exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on('data', (c: Buffer) => {
      for (const line of c.toString().split('\n').filter(Boolean)) {
        logs.push(line);
        const m = /"port":(\d+)/.exec(line);
        if (m && line.includes('worker listening')) resolve(Number(m[1]));
      }
    });
    proc.stderr.on('data', (c: Buffer) => logs.push(c.toString()));
    void exited.then((code) => reject(new Error(`worker exited (${code}):\n${logs.join('\n')}`)));
  });
  return { proc, port, logs, exited };
}
