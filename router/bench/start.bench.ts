/**
 * `npm run bench:start`: what a new user meets on the embedded default. Each run starts `npm start`
 * exactly as a person would (prestart included) on a fresh data directory, then again on the same
 * directory, and measures for each start:
 *
 * - the time from spawning `npm start` to the first 200 of both `/` (the app) and `/healthz`, and
 *   to the first 200 of `/readyz`;
 * - what the start printed before it answered (its lines, and those of the first run verbatim), at a
 *   terminal as a person sees it (a pseudo-terminal from util-linux `script`; `--no-tty`: piped);
 * - the router's peak RSS (the kernel's high-water mark, VmHWM, read just before it stops);
 * - its idle RSS with two people connected after a chat: two users sign up with passkeys through
 *   the HTTP API and exchange `--messages` messages over WebSockets (start.chat.ts); then RSS is
 *   read every second until ten readings in a row agree within 2 MiB (at least 10 s after the
 *   chat, at most 90 s); the figure is the median of the last ten.
 *
 * `--runs` (default 3) repeats the pair on new directories and the summary gives medians. The app
 * is built first, outside the timings, if it is stale (as `npm install` leaves it built);
 * `--unbuilt` removes app/build before each fresh start instead, so that start builds it. Linux
 * only (/proc); run it on the Node that `npm start` is meant for (Node 24).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, rssBytes } from '../../kit/bench.ts';
import { machineBusyPercent } from './cpu.sampler.ts';
import { twoPeopleChat } from './start.chat.ts';
import { table } from './stats.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 1024 * 1024;

const runs = intOption('runs', 3);
const messages = intOption('messages', 100);
/** Removes app/build before each fresh start: what a first `npm start` meets when nothing built the app at install. */
const unbuilt = process.argv.includes('--unbuilt');
const tty = !process.argv.includes('--no-tty');

interface StartFigures {
  /** Spawn to the first 200 of both / and /healthz, ms. */
  firstOkMs: number;
  /** Spawn to the first 200 of /readyz, ms. */
  readyMs: number;
  /** Lines npm start printed before it answered. */
  lines: number;
  /** What it printed before it answered. */
  printed: string[];
  peakRss: number;
  idleRss: number;
  idleSettled: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The pid of the router (`node ... router/src/main.ts`) among the descendants of `root`. */
function routerPid(root: number): number | undefined {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const descends = (pid: number): boolean => pid === root || (parents.has(pid) && pid > 1 && descends(parents.get(pid)!));
  for (const pid of parents.keys()) {
    if (pid === root || !descends(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((a) => a.endsWith('router/src/main.ts')) && !cmdline[0]!.endsWith('sh')) return pid;
    } catch {}
  }
  return undefined;
}

function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

async function ok(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Stops the router as Ctrl-C would (npm and the terminal then end with it) and waits for them. */
async function stop(npm: ChildProcess, router: number | undefined): Promise<void> {
  if (npm.exitCode !== null || npm.signalCode !== null) return;
  const exited = new Promise((resolve) => npm.once('exit', resolve));
  const kill = (pid: number, signal: NodeJS.Signals) => {
    try {
      process.kill(pid, signal);
    } catch {}
  };
  if (router !== undefined) kill(router, 'SIGINT');
  else kill(-npm.pid!, 'SIGINT');
  const timer = setTimeout(() => {
    if (router !== undefined) kill(router, 'SIGKILL');
    kill(-npm.pid!, 'SIGKILL');
  }, 30_000);
  await exited;
  clearTimeout(timer);
}

/** One `npm start` on `dataDir`: the figures of the interface above. */
async function startOnce(dataDir: string, label: string): Promise<StartFigures> {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const t0 = performance.now();
  // At a terminal, as a person runs it (util-linux `script` gives it one), unless --no-tty; in its
  // own process group, so that everything under it can be stopped, even on a failure.
  const command = tty ? ['script', ['-qfec', 'npm start', '/dev/null']] as const : ['npm', ['start']] as const;
  const npm = spawn(command[0], command[1], { cwd: ROOT, env: { ...process.env, PORT: String(port), DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output: string[] = [];
  let answered = false;
  let linesBefore = 0;
  for (const stream of [npm.stdout!, npm.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      // Without the terminal's cursor moves and npm's spinner (braille dots), as a person reads it.
      const text = chunk.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/[\u2800-\u28ff]/g, '');
      output.push(...text.split(/\r?\n/).filter((l) => l.trim() !== ''));
      if (!answered) linesBefore = output.length;
    });
  }
  let pid: number | undefined;
  const killOnExit = () => {
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
    process.kill(-npm.pid!, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  try {
    let firstOkMs = Number.NaN;
    while (Number.isNaN(firstOkMs)) {
      if (npm.exitCode !== null) throw new Error(`npm start exited (${npm.exitCode}):\n${output.join('\n')}`);
      if (performance.now() - t0 > 300_000) throw new Error('npm start did not answer within 300 s');
      const [app, health] = await Promise.all([ok(`${base}/`), ok(`${base}/healthz`)]);
      if (app && health) firstOkMs = performance.now() - t0;
      else await sleep(20);
    }
    answered = true;
    while (!(await ok(`${base}/readyz`))) await sleep(20);
    const readyMs = performance.now() - t0;
    pid = routerPid(npm.pid!);
    if (pid === undefined) throw new Error('no router process under npm start');
    const router = pid;

    const closeChat = await twoPeopleChat(base, messages, `${label.replace(/\W/g, '')}${process.pid}`);
    const chatEnd = performance.now();
    const readings: number[] = [];
    let settled = false;
    while (performance.now() - chatEnd < 90_000) {
      await sleep(1000);
      readings.push(rssBytes(router));
      const last = readings.slice(-10);
      settled = last.length === 10 && Math.max(...last) - Math.min(...last) <= 2 * MiB;
      if (settled && performance.now() - chatEnd >= 10_000) break;
    }
    const idle = readings.slice(-10).sort((a, b) => a - b);
    const peakRss = peakRssBytes(router);
    closeChat();
    return {
      firstOkMs,
      readyMs,
      lines: linesBefore,
      printed: output.slice(0, linesBefore),
      peakRss,
      idleRss: idle[Math.floor(idle.length / 2)]!,
      idleSettled: settled,
    };
  } finally {
    await stop(npm, pid);
    process.off('exit', killOnExit);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;

async function main(): Promise<void> {
  console.log(`npm start on the embedded default: ${runs} run(s), each a fresh data directory then the same one again, ${messages} messages between two new users each time`);
  const nodeOnPath = execFileSync('node', ['--version'], { encoding: 'utf8' }).trim();
  console.log(`npm start runs the node on PATH: ${nodeOnPath}; ${cpus().length} cores`);
  // As `npm install` leaves it: the app built. Outside the timings; prints a line only if it builds.
  if (!unbuilt) execFileSync('node', ['app/scripts/build-if-stale.ts'], { cwd: ROOT, stdio: 'inherit' });
  const figures: Array<{ run: number; kind: 'fresh' | 'existing'; f: StartFigures; busy: number }> = [];
  for (let run = 1; run <= runs; run++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'messenger-start-'));
    try {
      for (const kind of ['fresh', 'existing'] as const) {
        if (unbuilt && kind === 'fresh') await rm(join(ROOT, 'app/build'), { recursive: true, force: true });
        const busy = await machineBusyPercent(1000);
        const f = await startOnce(dataDir, `${kind}${run}`);
        figures.push({ run, kind, f, busy });
        console.log(
          `run ${run} ${kind.padEnd(8)}: 200 after ${seconds(f.firstOkMs)}, ready after ${seconds(f.readyMs)}, peak RSS ${mib(f.peakRss)}, ` +
            `idle RSS ${mib(f.idleRss)}${f.idleSettled ? '' : ' (not settled)'}, ${f.lines} lines printed before; machine ${busy.toFixed(0)}% busy before`,
        );
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const rows = [['data directory', 'first 200 (/ and /healthz)', '/readyz 200', 'peak RSS', 'idle RSS, 2 users', 'lines before 200']];
  for (const kind of ['fresh', 'existing'] as const) {
    const of = figures.filter((x) => x.kind === kind).map((x) => x.f);
    rows.push([kind, seconds(median(of.map((f) => f.firstOkMs))), seconds(median(of.map((f) => f.readyMs))), mib(median(of.map((f) => f.peakRss))), mib(median(of.map((f) => f.idleRss))), String(median(of.map((f) => f.lines)))]);
  }
  console.log(`\nmedians of ${runs} run(s); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end:\n${table(rows)}`);
  console.log(`\nwhat the first fresh start printed${tty ? ' at a terminal' : ''} before it answered:\n${figures[0]?.f.printed.map((l) => `  | ${l}`).join('\n')}`);
}

await main();
