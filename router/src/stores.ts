/**
 * Chooses an implementation for every port from the configuration: a service URL selects the
 * real service, its absence the embedded default. Nothing above this file knows which it got.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { MemoryAttemptStore } from '../../db/attempt.memory.ts';
import type { AttemptStore } from '../../db/attempt.port.ts';
import type { AccountStore } from '../../db/account.port.ts';
import { KnexAccountStore } from '../../db/account.store.ts';
import type { AuthStore } from '../../db/auth.port.ts';
import type { UploadStore } from '../../db/upload.port.ts';
import { KnexUploadStore } from '../../db/upload.store.ts';
import { FsBlobStore } from '../../db/blob.fs.ts';
import type { BlobStore } from '../../db/blob.port.ts';
import { systemScheduler, type Scheduler } from '../../db/clock.ts';
import { KnexAuthStore } from '../../db/auth.store.ts';
import { MemoryIdempotencyStore } from '../../db/idempotency.memory.ts';
import type { IdempotencyStore } from '../../db/idempotency.port.ts';
import type { NotifyStore } from '../../db/notify.port.ts';
import type { PrivacyStore } from '../../db/privacy.port.ts';
import { KnexPrivacyStore } from '../../db/privacy.store.ts';
import { KnexNotifyStore } from '../../db/notify.store.ts';
import { MemoryPresenceStore } from '../../db/presence.memory.ts';
import type { PresenceStore } from '../../db/presence.port.ts';
import { MemoryRateLimitStore } from '../../db/ratelimit.memory.ts';
import type { RateLimitStore } from '../../db/ratelimit.port.ts';
import { AmqpTaskQueue } from '../../workers/tasks/queue.amqp.ts';
import { MemoryTaskQueue } from '../../workers/tasks/queue.memory.ts';
import type { TaskQueue } from '../../workers/tasks/queue.port.ts';
import { PgHistoryStore } from '../../db/history.pg.ts';
import type { HistoryStore } from '../../db/history.port.ts';
import { PgSearchStore } from '../../db/search.pg.ts';
import type { SearchStore } from '../../db/search.port.ts';
import type { RelationalStore } from '../../db/relational.port.ts';
import { KnexRelationalStore } from '../../db/relational.store.ts';
import { openRelational } from '../../db/relational.ts';
import { MemorySessionStore } from '../../db/session.memory.ts';
import type { SessionStore } from '../../db/session.port.ts';
import { AmqpBus } from './live/bus.amqp.ts';
import { MemoryBus } from './live/bus.memory.ts';
import type { Bus } from './live/bus.port.ts';
import type { Config } from './config.ts';
import type { Logger } from '../../kit/logger.ts';

export interface Stores {
  knex: Knex;
  relational: RelationalStore;
  history: HistoryStore;
  /** Search over the history, in the same database as history. */
  search: SearchStore;
  sessions: SessionStore;
  /** Passkeys, provider identities and profiles. */
  auth: AuthStore;
  /** Erasing a deleted account; its e-mail settings for an export. */
  accounts: AccountStore;
  /** Challenges, OAuth states and PKCE verifiers of sign-ins in progress. */
  attempts: AttemptStore;
  /** Sign-up and sign-in attempts per client address: Redis (shared by the nodes), or memory. */
  rateLimits: RateLimitStore;
  bus: Bus;
  /** Tasks for the workers: RabbitMQ, or in-process on the embedded default. */
  tasks: TaskQueue;
  /** Who has a live connection on any node: Redis, or memory. */
  presence: PresenceStore;
  /** Push subscriptions and e-mail preferences. */
  notify: NotifyStore;
  /** Blocks, privacy settings and the entries withheld from blockers. */
  privacy: PrivacyStore;
  /** Done-task keys of the in-process workers: Redis, or memory. */
  idempotency: IdempotencyStore;
  /** Attachments' bytes: an S3-compatible bucket (S3_BUCKET), or files under DATA_DIR/blobs. */
  blobs: BlobStore;
  /** Uploads and the messages that claimed them (PostgreSQL/PGlite). */
  uploads: UploadStore;
  /** Where uploads are spooled while they stream in (a directory of this node's own). */
  spoolDir: string;
  /** Human-readable: which implementation each port got (logged at start). */
  describe: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Opens every store and the bus as the configuration says. `scheduler`: the time sessions,
 * attempts and presence expire by and presence beats on; default the real one (tests pass their own).
 */
export async function openStores(config: Readonly<Config>, log: Logger, { scheduler = systemScheduler }: { scheduler?: Scheduler } = {}): Promise<Stores> {
  // memory:// (tests) keeps PGlite in memory; a path gets a `pg` folder inside it.
  const dataDir = config.dataDir.startsWith('memory://') ? config.dataDir : join(config.dataDir, 'pg');
  const knex = await openRelational({
    databaseUrl: config.databaseUrl,
    dataDir,
    onPgliteOpened: (how) => {
      if (how === 'template') log.info({ dataDir }, 'embedded database created from the template');
      // Seconds, and a second PostgreSQL in memory while it runs: say how to avoid it next time.
      if (how === 'initdb') log.warn({ dataDir }, 'no embedded database template for this PGlite and these migrations (npm install makes one; so does `node db/pglite.prepare.ts`): running initdb');
    },
  });
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    // The full stack's drivers are loaded only when their URL is set: mongodb and ioredis hold
    // ~20 MB and lengthen every start, and the embedded default uses neither.
    const redis = config.redisUrl ? { url: config.redisUrl, ...(await redisStores()) } : undefined;
    const mongoHistory = config.mongoUrl
      ? await (await import('../../db/history.mongo.ts')).MongoHistoryStore.open(config.mongoUrl, {
          ...config.mongo,
          onCounterRepair: (repair) => log.warn({ repair }, 'history: a room counter was behind its messages (a restore?) and was raised'),
        })
      : undefined;
    const history: HistoryStore = mongoHistory ?? new PgHistoryStore(knex);
    opened.push(history);
    // Search reads the messages where history keeps them, on the same connection.
    const search: SearchStore = mongoHistory ? await (await import('../../db/search.mongo.ts')).MongoSearchStore.open(mongoHistory.database) : new PgSearchStore(knex);
    const sessions = redis
      ? redis.RedisSessionStore.open(redis.url, { prefix: `${config.redisKeyPrefix}sess:`, onError: (err) => log.warn({ err }, 'redis error'), clock: scheduler })
      : new MemorySessionStore({ clock: scheduler });
    opened.push(sessions);
    const attempts = redis
      ? redis.RedisAttemptStore.open(redis.url, { prefix: `${config.redisKeyPrefix}attempt:`, onError: (err) => log.warn({ err }, 'redis error') })
      : new MemoryAttemptStore({ clock: scheduler });
    opened.push(attempts);
    const rateLimits: RateLimitStore = redis
      ? redis.RedisRateLimitStore.open(redis.url, { prefix: `${config.redisKeyPrefix}ratelimit:`, onError: (err) => log.warn({ err }, 'redis error'), clock: scheduler })
      : new MemoryRateLimitStore({ clock: scheduler });
    opened.push(rateLimits);
    const reconnect = { minMs: config.amqp.reconnectMinMs, maxMs: config.amqp.reconnectMaxMs };
    const onRecovered = (link: string) => (downMs: number, attempts: number) => log.info({ link, downMs, attempts }, 'RabbitMQ connection restored');
    const tasks: TaskQueue = config.amqpUrl
      ? await AmqpTaskQueue.open({
          url: config.amqpUrl,
          queue: config.notify.taskQueue,
          connectionName: `router ${config.nodeId} tasks`,
          maxPending: config.amqp.pendingTasksMax,
          reconnect,
          onError: (err) => log.warn({ err }, 'task queue error'),
          onRecovered: onRecovered('tasks'),
        })
      : new MemoryTaskQueue();
    opened.push(tasks);
    const onRedisError = (err: Error) => log.warn({ err }, 'redis error');
    const presence: PresenceStore = redis
      ? redis.RedisPresenceStore.open(redis.url, { prefix: `${config.redisKeyPrefix}presence:${config.notify.taskQueue}:`, nodeId: config.nodeId, ttlMs: config.notify.presenceTtlMs, onError: onRedisError, scheduler })
      : new MemoryPresenceStore({ clock: scheduler });
    opened.push(presence);
    const idempotency: IdempotencyStore = redis ? redis.RedisIdempotencyStore.open(redis.url, { prefix: `${config.redisKeyPrefix}idem:${config.notify.taskQueue}:`, onError: onRedisError }) : new MemoryIdempotencyStore();
    opened.push(idempotency);
    const onBusError = (err: unknown) => log.warn({ err }, 'bus error');
    const bus = config.amqpUrl
      ? await AmqpBus.open({ url: config.amqpUrl, nodeId: config.nodeId, exchange: config.amqpExchange, reconnect, onError: onBusError, onRecovered: onRecovered('bus') })
      : new MemoryBus({ onError: onBusError });
    const { blobs, spoolDir, dropLocal } = await openBlobs(config);
    opened.push({ close: async () => { await blobs.close(); await dropLocal(); } });
    // A deleted account's handle is held on the stores' clock, so tests move past the grace.
    const hold = { graceMs: config.account.deletedHandleGraceMs, clock: scheduler };
    return {
      knex,
      relational: new KnexRelationalStore(knex, hold),
      history,
      search,
      sessions,
      auth: new KnexAuthStore(knex, hold),
      accounts: new KnexAccountStore(knex),
      attempts,
      rateLimits,
      bus,
      tasks,
      presence,
      notify: new KnexNotifyStore(knex) as NotifyStore,
      privacy: new KnexPrivacyStore(knex),
      idempotency,
      blobs,
      uploads: new KnexUploadStore(knex),
      spoolDir,
      describe: {
        blobs: config.attachments.s3 ? `s3 (${config.attachments.s3.bucket})` : 'filesystem',
        tasks: config.amqpUrl ? 'rabbitmq' : 'in-process',
        presence: config.redisUrl ? 'redis' : 'memory',
        relational: config.databaseUrl ? 'postgresql' : `pglite (${config.dataDir})`,
        history: config.mongoUrl ? 'mongodb' : config.databaseUrl ? 'postgresql' : 'pglite',
        sessions: config.redisUrl ? 'redis' : 'memory',
        bus: config.amqpUrl ? 'rabbitmq' : 'in-process',
      },
      async close() {
        await bus.close();
        await tasks.close();
        await presence.close();
        await idempotency.close();
        await sessions.close();
        await attempts.close();
        await rateLimits.close();
        await history.close();
        await blobs.close();
        await dropLocal();
        await knex.destroy();
      },
    };
  } catch (err) {
    await Promise.allSettled(opened.map((s) => s.close()));
    await knex.destroy();
    throw err;
  }
}

/** The Redis-backed stores, imported (and ioredis with them) only when REDIS_URL is set. */
async function redisStores() {
  const [{ RedisSessionStore }, { RedisAttemptStore }, { RedisRateLimitStore }, { RedisPresenceStore }, { RedisIdempotencyStore }] = await Promise.all([
    import('../../db/session.redis.ts'),
    import('../../db/attempt.redis.ts'),
    import('../../db/ratelimit.redis.ts'),
    import('../../db/presence.redis.ts'),
    import('../../db/idempotency.redis.ts'),
  ]);
  return { RedisSessionStore, RedisAttemptStore, RedisRateLimitStore, RedisPresenceStore, RedisIdempotencyStore };
}

/**
 * The blob store as configured, and the spool directory uploads stream into first. On a data
 * directory in memory (tests) both are a temporary directory, removed by `dropLocal` at close.
 */
async function openBlobs(config: Readonly<Config>): Promise<{ blobs: BlobStore; spoolDir: string; dropLocal: () => Promise<void> }> {
  const temporary = config.dataDir.startsWith('memory://') ? await mkdtemp(join(tmpdir(), 'messenger-data-')) : undefined;
  const base = temporary ?? config.dataDir;
  const dropLocal = async () => {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  };
  const s3 = config.attachments.s3;
  // The SDK (~10 MB) is loaded only when a bucket is configured.
  const blobs: BlobStore = s3
    ? new (await import('../../db/blob.s3.ts')).S3BlobStore({ ...(s3.endpoint ? { endpoint: s3.endpoint } : {}), bucket: s3.bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey })
    : new FsBlobStore(join(base, 'blobs'));
  return { blobs, spoolDir: join(base, 'spool'), dropLocal };
}
