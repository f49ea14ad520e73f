/**
 * Micro-benchmark of PgHistoryStore.append on a real PostgreSQL, shaped like the router's group
 * commit under ~10,000 messages/s: batches of 80 messages over ~80 of 500 direct rooms, up to 4
 * batches in flight and, as in the batcher, never one room in two of them. It creates a database,
 * appends for a while, drops the database, and prints throughput, latency and CPU per 1000 messages.
 *
 *   npx tsx db/bench/append.bench.ts [--seconds 10] [--warmup 2] [--batch 80] [--concurrency 4] [--rooms 500] [--rate 125]
 *
 * `--rate` paces batch starts per second (125 x 80 = the router's 10,000 messages/s), so latency is
 * that of a loaded but not saturated server; `--rate 0` appends as fast as it can (peak throughput).
 *
 * PostgreSQL CPU comes from /proc, so the server must run on this machine. "backends" counts only
 * the connections to the bench's database, so another load on the same server does not leak in;
 * "all" adds every postgres process (WAL writer, checkpointer, autovacuum, and anyone else's load).
 * Node's CPU includes making the batches, a small part. On a shared machine the levels drift from
 * run to run (checkpoints, neighbours); compare two versions in runs close together, several times.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Knex } from 'knex';
import { openRelational } from '../relational.ts';
import { PgHistoryStore } from '../history.pg.ts';
import type { NewMessage } from '../history.port.ts';
import { cpuSeconds } from '../../kit/bench.ts';
import { benchConfig } from './bench.config.ts';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string', default: '80' },
    concurrency: { type: 'string', default: '4' },
    rooms: { type: 'string', default: '500' },
    rate: { type: 'string', default: '125' },
  },
});
const seconds = Number(opts.seconds);
const warmup = Number(opts.warmup);
const batchSize = Number(opts.batch);
const concurrency = Number(opts.concurrency);
const roomCount = Number(opts.rooms);
const rate = Number(opts.rate);
const baseUrl = benchConfig.databaseUrl;

/** CPU seconds a process has used; 0 for one that exited meanwhile. */
function cpuSecondsOf(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}

function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
}

/** CPU seconds per process now; a process missing from an earlier snapshot started at zero. */
function snapshot(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, cpuSecondsOf(pid)]));
}

function spent(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

async function backendPids(db: Knex): Promise<number[]> {
  const { rows } = await db.raw<{ rows: Array<{ pid: number }> }>(
    'select pid from pg_stat_activity where datname = current_database()',
  );
  return rows.map((r) => r.pid);
}

/**
 * Checkpoints so far, or NaN where pg_stat_bgwriter no longer counts them (PostgreSQL 17+). After
 * one, the first change to each page writes the whole page to the WAL, which costs the backends
 * CPU for a while; CREATE and DROP DATABASE (tests, benches) each force one.
 */
async function checkpoints(db: Knex): Promise<number> {
  try {
    const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(
      'select checkpoints_timed + checkpoints_req as n from pg_stat_bgwriter',
    );
    return Number(rows[0]?.n);
  } catch {
    return Number.NaN;
  }
}

/** Direct rooms "a-b" of user pairs (2i+1, 2i+2), as the router names them. */
const rooms = Array.from({ length: roomCount }, (_, i) => ({ id: `${2 * i + 1}-${2 * i + 2}`, users: [2 * i + 1, 2 * i + 2] }));
const sent = new Map<number, number>();
const busy = new Set<number>();
const body = 'x'.repeat(64);

/** A batch over rooms no in-flight batch holds; the caller frees `held` once its append returns. */
function nextBatch(): { batch: NewMessage[]; held: number[] } {
  const held: number[] = [];
  const batch: NewMessage[] = [];
  while (batch.length < batchSize) {
    const r = Math.floor(Math.random() * roomCount);
    if (busy.has(r) && !held.includes(r)) continue;
    if (!busy.has(r)) {
      busy.add(r);
      held.push(r);
    }
    const room = rooms[r]!;
    const sender = room.users[batch.length % 2]!;
    const k = (sent.get(sender) ?? 0) + 1;
    sent.set(sender, k);
    batch.push({ room: room.id, sender, body, clientMsgId: `m${k}` });
  }
  return { batch, held };
}

const dbName = `append_bench_${randomBytes(5).toString('hex')}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(baseUrl);
url.pathname = `/${dbName}`;
const db = await openRelational({ databaseUrl: url.toString() });
const store = new PgHistoryStore(db);

interface Window {
  batches: number;
  messages: number;
  latencies: number[];
}

/** Appends with `concurrency` workers until `ms` pass, starting batches at `rate` per second at most. */
async function run(ms: number): Promise<Window> {
  const w: Window = { batches: 0, messages: 0, latencies: [] };
  const begin = performance.now();
  const until = begin + ms;
  let slot = 0;
  const worker = async () => {
    while (performance.now() < until) {
      const due = rate > 0 ? begin + (slot++ * 1000) / rate : 0;
      if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      const { batch, held } = nextBatch();
      const started = performance.now();
      const outcomes = await store.append(batch);
      w.latencies.push(performance.now() - started);
      for (const r of held) busy.delete(r);
      if (outcomes.some((o) => o.kind !== 'stored')) throw new Error('a unique clientMsgId was not stored');
      w.batches++;
      w.messages += batch.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return w;
}

try {
  await run(warmup * 1000);
  const checkpointsBefore = await checkpoints(db);
  const backends = await backendPids(db);
  const pgBefore = snapshot(backends);
  const allBefore = snapshot(postgresPids());
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const w = await run(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  const node = process.cpuUsage(nodeBefore);
  // Connections opened during the window count from zero.
  const pgBackends = spent(pgBefore, snapshot(await backendPids(db)));
  const pgAll = spent(allBefore, snapshot(postgresPids()));
  const checkpointsDuring = (await checkpoints(db)) - checkpointsBefore;

  const perK = (cpu: number) => ((cpu * 1000) / w.messages) * 1000;
  const sorted = w.latencies.sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
  const nodeCpu = (node.user + node.system) / 1e6;
  const pace = rate > 0 ? `${rate} batches/s offered` : 'unpaced';
  console.log(`append: batch ${batchSize}, ${roomCount} rooms, ${concurrency} in flight, ${pace}, ${elapsed.toFixed(1)} s`);
  console.log(`  batches/s            ${(w.batches / elapsed).toFixed(0)}`);
  console.log(`  messages/s           ${(w.messages / elapsed).toFixed(0)}`);
  console.log(`  latency mean / p99   ${mean.toFixed(2)} / ${p99.toFixed(2)} ms`);
  console.log(`  PG backends CPU      ${perK(pgBackends).toFixed(1)} ms per 1000 messages (${((pgBackends / elapsed) * 100).toFixed(0)}% of a core)`);
  console.log(`  PG all CPU           ${perK(pgAll).toFixed(1)} ms per 1000 messages (${((pgAll / elapsed) * 100).toFixed(0)}% of a core)`);
  console.log(`  checkpoints          ${checkpointsDuring} during the window`);
  console.log(`  node CPU             ${perK(nodeCpu).toFixed(1)} ms per 1000 messages (${((nodeCpu / elapsed) * 100).toFixed(0)}% of a core)`);
} finally {
  await db.destroy();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
