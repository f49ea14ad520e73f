/**
 * Idle memory per connection of a server child: (RSS with C idle connections - RSS with none) / C.
 *
 * Done once per process, cold: freed native memory stays in malloc's free lists, so a second
 * round of C connections would reuse the first round's memory and look almost free. Before it, a
 * few connections open and close, again and again until C upgrades have run, so code that loads,
 * compiles and is optimised once (the upgrade path, session lookups) is not charged to the
 * connections: with a single round, the router's optimised code alone came to ~1 KiB per
 * connection at C = 1,000.
 *
 * A reading is taken only once memory has settled: full GCs in the child every 2 s until five
 * readings in a row (8 s) agree within 1 MiB, at least 10 s and at most 30 s; the figure is the
 * median of those last five, with their spread. V8's memory reducer
 * returns heap pages seconds after activity stops, and PGlite (embedded) drops ~400 MiB of
 * start-up buffers 15-35 s after it opened (so the embedded baseline waits for 45 s of uptime):
 * a reading taken before either is off by far more than 1,000 connections use. Periodic work of
 * the server (the router's presence heartbeat rewrites every user every 10 s) keeps some noise.
 */
import { cpuSeconds, rssBytes } from '../../kit/bench.ts';
import { LoadClient, type ConnectOptions } from './load.client.ts';
import type { Target } from './targets.ts';

export interface Memory {
  rss: number;
  /** V8 heap used + external (buffers): steadier than RSS, but misses native memory. */
  heap: number;
  /** False when memory still moved after 30 s. */
  settled: boolean;
  /** Max - min RSS of the readings the figure is the median of. */
  rssSpread: number;
  /** The child's CPU use while it was being watched (idle but for the GCs we asked for), % of a core. */
  cpuPercent: number;
}

export interface IdleMemory {
  idle0: Memory;
  idleC: Memory;
  /** Time to open all C connections, ms. */
  connectMs: number;
  /** Connected, ready for the load. */
  load: LoadClient;
}

// Clamped: a wait already past is 0 ms, and Node 24 warns (TimeoutNegativeWarning) for a negative one.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Full GCs in the child (child.preload.ts), repeated until its memory stops moving. */
export async function settledMemory(child: Target['child']): Promise<Memory> {
  const start = performance.now();
  const cpu0 = cpuSeconds(child.pid);
  const readings: Array<{ rss: number; heap: number }> = [];
  const tolerance = 1024 * 1024;
  for (;;) {
    await sleep(readings.length === 0 ? 1000 : 2000);
    const reply = child.message<{ type: 'bench.memory'; heapUsed: number; external: number }>('bench.memory', 10_000);
    child.send({ type: 'bench.memory' });
    const { heapUsed, external } = await reply;
    readings.push({ rss: rssBytes(child.pid), heap: heapUsed + external });
    const last = readings.slice(-5);
    const spread = (f: (r: { rss: number; heap: number }) => number) => Math.max(...last.map(f)) - Math.min(...last.map(f));
    const elapsed = performance.now() - start;
    const settled = last.length === 5 && spread((r) => r.rss) <= tolerance && spread((r) => r.heap) <= tolerance;
    if ((settled && elapsed >= 10_000) || elapsed >= 30_000) {
      const cpuPercent = ((cpuSeconds(child.pid) - cpu0) / ((performance.now() - start) / 1000)) * 100;
      const median = (f: (r: { rss: number; heap: number }) => number) => last.map(f).sort((x, y) => x - y)[Math.floor(last.length / 2)]!;
      return { rss: median((r) => r.rss), heap: median((r) => r.heap), settled, rssSpread: spread((r) => r.rss), cpuPercent };
    }
  }
}

/** Measures idle memory per connection and returns the clients, connected. */
export async function measureIdleMemory(target: Target, connect: ConnectOptions): Promise<IdleMemory> {
  const warm = target.users.slice(0, Math.min(50, Math.max(2, Math.floor(target.users.length / 20) * 2)));
  for (let upgrades = 0; upgrades < target.users.length; upgrades += warm.length) {
    await (await LoadClient.connect(warm, target.endpoint, connect)).close();
  }
  await sleep((target.memoryNotBefore ?? 0) - performance.now());
  const idle0 = await settledMemory(target.child);
  const t0 = performance.now();
  const load = await LoadClient.connect(target.users, target.endpoint, connect);
  const connectMs = performance.now() - t0;
  try {
    return { idle0, idleC: await settledMemory(target.child), connectMs, load };
  } catch (err) {
    await load.close();
    throw err;
  }
}
