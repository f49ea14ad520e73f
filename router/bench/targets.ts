/**
 * The servers under test, each started as a child process with its users ready:
 *  - the router on the full stack: `node router/src/main.ts` on a fresh PostgreSQL
 *    database, Redis and a unique RabbitMQ exchange; users and sessions are created from here,
 *    through the same stores the router uses;
 *  - the router on the embedded default: embedded.router.ts (main.ts plus provisioning over IPC,
 *    because its sessions live in its own memory and PGlite allows one process per data dir);
 *  - the bare ws forwarder (the ceiling).
 * Every resource is registered with the cleanup stack before it is used.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { KnexRelationalStore } from '../../db/relational.store.ts';
import { openRelational } from '../../db/relational.ts';
import { RedisSessionStore } from '../../db/session.redis.ts';
import type { BenchOptions } from './bench.options.ts';
import { ROUTER_NODE_FLAGS } from '../src/node.flags.ts';
import { freePort, spawnNode, type Child } from './child.process.ts';
import { defer } from './cleanup.ts';
import type { BenchUser, Endpoint } from './load.client.ts';

export interface Target {
  /** Short name for tables: 'router' or 'bare'. */
  key: 'router' | 'bare';
  label: string;
  /** How the server runs, for the report. */
  how: string;
  stores: Record<string, string>;
  child: Child;
  users: BenchUser[];
  endpoint: Endpoint;
  /** The server's Prometheus endpoint, when it has one. */
  metricsUrl?: string;
  /** No idle-memory reading before this performance.now() time (see startEmbedded). */
  memoryNotBefore?: number;
  /** PostgreSQL transactions committed in this target's database so far (full stack only). */
  commits?: () => Promise<number>;
  /** Stops the child and removes what this target created; resolves with the CPU profile, if any. */
  close(): Promise<string | undefined>;
}

export interface TargetContext {
  options: Readonly<BenchOptions>;
  /** Repository root (the children's cwd). */
  root: string;
  /** A scratch directory of this run. */
  tmp: string;
  runId: string;
}

/** Environment every router child gets: quiet logs, no throttling of the benchmark, loopback only. */
/** The router's environment; its metrics listener (never on the public port) on `metricsPort`. */
function routerEnv(port: number, metricsPort: number, ctx: TargetContext, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    PUBLIC_ORIGIN: `http://localhost:${port}`,
    NODE_ID: `bench-${ctx.runId}`,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_SEC: '1000000',
    RATE_LIMIT_BURST: '1000000',
    STATIC_DIR: join(ctx.tmp, 'no-static'),
    DATABASE_URL: '',
    MONGO_URL: '',
    REDIS_URL: '',
    AMQP_URL: '',
    ...extra,
  };
}

function routerEndpoint(port: number): Endpoint {
  return {
    url: () => `ws://127.0.0.1:${port}/ws`,
    headers: (u) => ({ cookie: `sid=${u.sessionId}`, origin: `http://localhost:${port}` }),
  };
}

/** The routers' Node flags: production's, unless BENCH_ROUTER_FLAGS names others to compare. */
function routerFlags(ctx: TargetContext): readonly string[] {
  return ctx.options.routerFlags ?? ROUTER_NODE_FLAGS;
}

async function profiling(ctx: TargetContext, name: string): Promise<{ nodeArgs: string[]; find(): Promise<string | undefined> }> {
  if (!ctx.options.profile) return { nodeArgs: [], find: async () => undefined };
  const dir = join(ctx.tmp, `prof-${name}`);
  await mkdir(dir, { recursive: true });
  return {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    find: async () => {
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (the loader hooks have their own).
      const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
      const file = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
      return file ? join(dir, file) : undefined;
    },
  };
}

/** Waits until GET /readyz answers 200, or fails when the child exits or `timeoutMs` passes. */
async function waitReady(child: Child, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | undefined;
  void child.exited.then((code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`the router exited (${exited}) before it was ready; log: ${child.logPath}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the router was not ready within ${timeoutMs} ms; log: ${child.logPath}`);
}

/** The router on the full stack, with `connections` users and sessions created through its stores. */
export async function startFullStack(ctx: TargetContext): Promise<Target> {
  const { options } = ctx;
  const dbName = `bench_${ctx.runId}`;
  const admin = new pg.Client({ connectionString: options.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dropDb = defer(`drop database ${dbName}`, async () => {
    const c = new pg.Client({ connectionString: options.databaseUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  });
  const dbUrl = new URL(options.databaseUrl);
  dbUrl.pathname = `/${dbName}`;

  // Users through the same relational store (and migrations) the router uses.
  const knex = await openRelational({ databaseUrl: dbUrl.toString(), poolMax: 10 });
  const relational = new KnexRelationalStore(knex);
  const users: BenchUser[] = [];
  // The router's Redis keys get a prefix of this run's own (REDIS_KEY_PREFIX), so sessions of the
  // bench's users 1..N never mix with those of other databases' users 1..N on the same Redis.
  // Likewise TASK_QUEUE, which also names the presence and idempotency keys.
  const redisPrefix = `bench:${ctx.runId}:`;
  const taskQueue = `bench.tasks.${ctx.runId}`;
  const redisPatterns = [`${redisPrefix}*`, `presence:${taskQueue}:*`, `idem:${taskQueue}:*`];
  const sessions = RedisSessionStore.open(options.redisUrl, { prefix: `${redisPrefix}sess:` });
  const dropSessions = defer(`delete Redis keys ${redisPatterns.join(' ')}`, async () => {
    await sessions.close();
    const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      for (const pattern of redisPatterns) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          if (keys.length > 0) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
    } finally {
      redis.disconnect();
    }
  });
  try {
    for (let i = 0; i < options.connections; i += 20) {
      const batch = Array.from({ length: Math.min(20, options.connections - i) }, (_, j) => `bench_${ctx.runId}_${i + j}`);
      const created = await Promise.all(batch.map((h) => relational.createUser(h, h)));
      const made = await Promise.all(created.map((u) => sessions.create(u.id, 2 * 3600_000)));
      created.forEach((u, j) => users.push({ id: u.id, sessionId: made[j]!.id }));
    }
  } finally {
    await knex.destroy();
  }

  const exchange = `bench.live.${ctx.runId}`;
  const dropExchange = defer(`delete exchange ${exchange} and queues ${taskQueue}, ${taskQueue}.dead`, async () => {
    const conn = await amqp.connect(options.amqpUrl);
    try {
      const ch = await conn.createChannel();
      await ch.deleteExchange(exchange);
      await ch.deleteQueue(taskQueue);
      await ch.deleteQueue(`${taskQueue}.dead`);
    } finally {
      await conn.close();
    }
  });
  const [port, metricsPort] = [await freePort(), await freePort()];
  const prof = await profiling(ctx, 'router-full');
  const child = spawnNode({
    script: 'router/src/main.ts',
    cwd: ctx.root,
    logPath: join(ctx.tmp, 'router-full.log'),
    nodeArgs: [...routerFlags(ctx), ...prof.nodeArgs],
    env: routerEnv(port, metricsPort, ctx, {
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: options.redisUrl,
      AMQP_URL: options.amqpUrl,
      AMQP_EXCHANGE: exchange,
      REDIS_KEY_PREFIX: redisPrefix,
      TASK_QUEUE: taskQueue,
      DATA_DIR: join(ctx.tmp, 'unused-data'),
    }),
  });
  const stopChild = defer('stop router', () => child.stop());
  await waitReady(child, port, 60_000);
  // Connected to the base database, so its own queries do not count as commits of the bench's.
  const stats = new pg.Client({ connectionString: options.databaseUrl });
  await stats.connect();
  const closeStats = defer('close stats connection', () => stats.end());
  return {
    key: 'router',
    label: 'router (full stack)',
    how: `child process: node ${routerFlags(ctx).join(' ')} router/src/main.ts`,
    // What router/src/stores.ts picks for this environment.
    stores: { tasks: 'rabbitmq', presence: 'redis', relational: 'postgresql', history: 'postgresql', sessions: 'redis', bus: 'rabbitmq' },
    child,
    users,
    endpoint: routerEndpoint(port),
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    commits: async () => {
      const { rows } = await stats.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [dbName]);
      return Number(rows[0]?.n ?? Number.NaN);
    },
    async close() {
      await closeStats();
      await stopChild();
      await dropExchange();
      await dropSessions();
      await dropDb();
      return prof.find();
    },
  };
}

/** The router on the embedded default in a child; it creates the users and sessions itself. */
export async function startEmbedded(ctx: TargetContext): Promise<Target> {
  const dataDir = await mkdtemp(join(ctx.tmp, 'data-'));
  const [port, metricsPort] = [await freePort(), await freePort()];
  const prof = await profiling(ctx, 'router-embedded');
  const child = spawnNode({
    script: 'router/bench/embedded.router.ts',
    cwd: ctx.root,
    logPath: join(ctx.tmp, 'router-embedded.log'),
    nodeArgs: [...routerFlags(ctx), ...prof.nodeArgs],
    env: routerEnv(port, metricsPort, ctx, { DATA_DIR: dataDir }),
  });
  const stopChild = defer('stop router', () => child.stop());
  const ready = await child.message<{ type: 'ready'; port: number; stores: Record<string, string> }>('ready', 120_000);
  child.send({ type: 'provision', count: ctx.options.connections, prefix: `bench_${ctx.runId}` });
  const { users } = await child.message<{ type: 'provisioned'; users: BenchUser[] }>('provisioned', 180_000);
  return {
    key: 'router',
    label: 'router (embedded)',
    how: `child process: node ${routerFlags(ctx).join(' ')} router/bench/embedded.router.ts (= main.ts + user/session provisioning over IPC)`,
    stores: ready.stores,
    child,
    users,
    endpoint: routerEndpoint(ready.port),
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    // PGlite keeps ~400 MiB of start-up buffers (WASM/external memory) for 15-35 s after it
    // opens and then frees them at once; a baseline taken before that is off by that much.
    memoryNotBefore: child.startedAt + 45_000,
    async close() {
      await stopChild();
      await rm(dataDir, { recursive: true, force: true });
      return prof.find();
    },
  };
}

/** The bare ws forwarder: users are just ids, taken from the URL. */
export async function startBare(ctx: TargetContext): Promise<Target> {
  const port = await freePort();
  const prof = await profiling(ctx, 'bare');
  const child = spawnNode({
    script: 'router/bench/bare.forwarder.ts',
    cwd: ctx.root,
    logPath: join(ctx.tmp, 'bare.log'),
    nodeArgs: prof.nodeArgs,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1' },
  });
  const stopChild = defer('stop bare forwarder', () => child.stop(2000));
  await child.message('ready', 30_000);
  const origin = { origin: `http://localhost:${port}` };
  return {
    key: 'bare',
    label: 'bare ws forwarder',
    how: 'child process: node router/bench/bare.forwarder.ts',
    stores: { persistence: 'none', bus: 'none' },
    child,
    users: Array.from({ length: ctx.options.connections }, (_, i) => ({ id: i + 1, sessionId: '' })),
    endpoint: { url: (u) => `ws://127.0.0.1:${port}/ws?u=${u.id}`, headers: () => origin },
    async close() {
      await stopChild();
      return prof.find();
    },
  };
}

/** A short random id for this run's database, exchange and handles. */
export const newRunId = (): string => randomBytes(4).toString('hex');
