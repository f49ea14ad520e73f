/**
 * The benchmark's child processes (router, bare forwarder): spawned with the bench preload (and tsx
 * only on a Node that cannot strip types itself), logged to a file, and always killed — on a normal
 * end, an error, a signal, and as a last resort synchronously at exit. kit/bench.ts measures them
 * through /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TYPESCRIPT_NODE_ARGS } from '../src/node.flags.ts';

const PRELOAD = fileURLToPath(new URL('./child.preload.ts', import.meta.url));

const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export interface Child {
  pid: number;
  /** performance.now() when it was spawned. */
  startedAt: number;
  /** Where its stdout and stderr go. */
  logPath: string;
  /** False once it has exited. */
  alive(): boolean;
  /** Resolves with the exit code (or the signal's name) once it has exited. */
  exited: Promise<number | string>;
  /** The next IPC message matching `type`, or a rejection when the child exits or `timeoutMs` passes. */
  message<T extends { type: string }>(type: T['type'], timeoutMs: number): Promise<T>;
  send(msg: object): void;
  /** SIGTERM, then SIGKILL after `graceMs` (default 8000 ms). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  /** Path of the entry script (TypeScript), relative to cwd or absolute. */
  script: string;
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

/** Starts `node --expose-gc --import child.preload.ts <script>` (plus tsx on an older Node) with an IPC channel. */
export function spawnNode(options: SpawnOptions): Child {
  const log = openSync(options.logPath, 'a');
  const startedAt = performance.now();
  const proc = spawn(
    process.execPath,
    ['--expose-gc', ...(options.nodeArgs ?? []), ...TYPESCRIPT_NODE_ARGS, '--import', PRELOAD, options.script],
    { cwd: options.cwd, env: options.env, stdio: ['ignore', log, log, 'ipc'] },
  );
  closeSync(log);
  alive.add(proc);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      alive.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: proc.pid!,
    startedAt,
    alive: () => alive.has(proc),
    logPath: options.logPath,
    exited,
    send: (msg) => proc.send(msg),
    message: <T extends { type: string }>(type: string, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const onMessage = (msg: unknown) => {
          if (typeof msg !== 'object' || msg === null || (msg as { type?: unknown }).type !== type) return;
          done();
          resolve(msg as T);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`child ${proc.pid} sent no ${type} within ${timeoutMs} ms (log: ${options.logPath})`));
        }, timeoutMs);
        const onExit = (code: number | null, signal: string | null) => {
          done();
          reject(new Error(`child ${proc.pid} exited (${code ?? signal}) before ${type} (log: ${options.logPath})`));
        };
        const done = () => {
          clearTimeout(timer);
          proc.off('message', onMessage);
          proc.off('exit', onExit);
        };
        proc.on('message', onMessage);
        proc.once('exit', onExit);
      }),
    stop: (graceMs = 8000) =>
      (stopping ??= (async () => {
        if (!alive.has(proc)) return;
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })()),
  };
}

/** A free TCP port on 127.0.0.1 (for a child that must be told its port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
