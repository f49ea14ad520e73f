/**
 * Micro-benchmark of the Redis presence heartbeat: how long one beat holds a router's main thread
 * (and so every socket of the node), for nodes of N users. It runs the store's heartbeat (one
 * script call per 1,000 users) beside the way it used to be done, one MULTI with HSET + PEXPIRE per
 * user, in the same process and against the same Redis, and prints both.
 *
 *   npx tsx db/bench/presence.bench.ts [--users 1000,10000] [--beats 10]
 *
 * "busy" is the event loop's active time per beat (event-loop utilisation over beats 300 ms
 * apart, idle baseline subtracted), "worst stall" the longest the loop was blocked. Needs REDIS_URL
 * (default redis://127.0.0.1:6379); keys live under a unique prefix and are deleted after.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RedisPresenceStore } from '../presence.redis.ts';
import { benchConfig } from './bench.config.ts';

const { values: opts } = parseArgs({
  options: {
    users: { type: 'string', default: '1000,10000' },
    beats: { type: 'string', default: '10' },
  },
});
const sizes = opts.users.split(',').map(Number);
const beats = Number(opts.beats);
const url = benchConfig.redisUrl;
const BEAT_MS = 300;

interface Figures {
  busyMs: number;
  stallMs: number;
}

/** Main-thread cost of `beats` calls of `beat`, BEAT_MS apart, less the same wait with nothing to do. */
async function measure(beat: () => void): Promise<Figures> {
  const run = async (work: () => void) => {
    const stalls = monitorEventLoopDelay({ resolution: 1 });
    stalls.enable();
    const start = performance.eventLoopUtilization();
    for (let i = 0; i < beats; i++) {
      work();
      await sleep(BEAT_MS);
    }
    const used = performance.eventLoopUtilization(start);
    stalls.disable();
    return { busyMs: used.active / beats, stallMs: stalls.max / 1e6 };
  };
  const idle = await run(() => {});
  const busy = await run(beat);
  return { busyMs: Math.max(0, busy.busyMs - idle.busyMs), stallMs: busy.stallMs };
}

/** The heartbeat as it was: two queued commands per user in one MULTI. */
function multiBeat(redis: Redis, prefix: string, users: number, ttlMs: number): void {
  const until = Date.now() + ttlMs;
  const m = redis.multi();
  for (let id = 1; id <= users; id++) m.hset(`${prefix}u:${id}`, 'bench', `1:${until}`).pexpire(`${prefix}u:${id}`, ttlMs);
  m.exec().catch((err: Error) => console.error(err.message));
}

const base = `presence-bench:${randomBytes(4).toString('hex')}:`;
const admin = new Redis(url);
console.log(`presence heartbeat, one beat's hold on the main thread (${beats} beats ${BEAT_MS} ms apart; Redis ${url})`);
console.log('users    store (script per 1,000): busy  worst stall | MULTI per user (before): busy  worst stall');
try {
  for (const users of sizes) {
    // A long ttl: the store's own interval (ttl / 3) must not fire inside the measurement.
    const ttlMs = 3_600_000;
    const store = RedisPresenceStore.open(url, { prefix: `${base}s:`, nodeId: 'bench', ttlMs });
    for (let id = 1; id <= users; id++) store.connected(id);
    await sleep(500);
    const ours = await measure(() => store.heartbeat());
    const multi = await measure(() => multiBeat(admin, `${base}m:`, users, ttlMs));
    await store.close();
    console.log(
      `${String(users).padEnd(8)} ${ours.busyMs.toFixed(1).padStart(26)} ms ${ours.stallMs.toFixed(1).padStart(9)} ms | ` +
        `${multi.busyMs.toFixed(1).padStart(24)} ms ${multi.stallMs.toFixed(1).padStart(9)} ms`,
    );
  }
} finally {
  const keys = await admin.keys(`${base}*`);
  for (let i = 0; i < keys.length; i += 1000) await admin.del(...keys.slice(i, i + 1000));
  await admin.quit();
}
