/**
 * Runs one of the project's entry points as its own process (plain `node` where it strips types,
 * as in production; `node --import tsx` on an older Node), collects its log lines, and resolves
 * with the port it reports listening on; killed in teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { TYPESCRIPT_NODE_ARGS } from '../../router/src/node.flags.ts';

export interface NodeProcess {
  proc: ChildProcess;
  /** The port from its "listening" log line. */
  port: number;
  /** Everything the process logged, one JSON line each. */
  logs: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Starts `main` with `env` (PATH added) and `nodeArgs` (e.g. ROUTER_NODE_FLAGS); resolves once a
 * log line says `listening` with its "port".
 */
export async function spawnNode(t: Test, main: string, env: Record<string, string>, listening: string, nodeArgs: readonly string[] = []): Promise<NodeProcess> {
  const proc = spawn(process.execPath, [...nodeArgs, ...TYPESCRIPT_NODE_ARGS, main], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
        if (port && line.includes(listening)) resolve(Number(port));
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) => reject(new Error(`${main} exited (${code}) before listening:\n${logs.join('\n')}`)));
  });
  return { proc, port, logs, exited };
}
