/**
 * The worker process (`npm run worker`): consumes the RabbitMQ task queue with the push and e-mail
 * handlers, scans for digests when SMTP is configured, serves /healthz, /readyz and /metrics on
 * WORKER_PORT, and on SIGTERM/SIGINT stops consuming, lets in-flight tasks finish, then exits.
 */
import { MongoHistoryStore } from '../../db/history.mongo.ts';
import { PgHistoryStore } from '../../db/history.pg.ts';
import { RedisIdempotencyStore } from '../../db/idempotency.redis.ts';
import { KnexNotifyStore } from '../../db/notify.store.ts';
import { RedisPresenceStore } from '../../db/presence.redis.ts';
import { KnexRelationalStore } from '../../db/relational.store.ts';
import { openRelational } from '../../db/relational.ts';
import { createLogger } from '../../kit/logger.ts';
import { ConfigError, loadWorkerConfig, type WorkerConfig } from './config.ts';
import { AmqpTaskQueue } from '../tasks/queue.amqp.ts';
import { startWorkerHttp } from './worker.http.ts';
import { startWorkerRuntime } from './worker.runtime.ts';

let config: Readonly<WorkerConfig>;
try {
  config = loadWorkerConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const log = createLogger(config.logLevel, { worker: config.nodeId });
const onError = (what: string) => (err: Error) => log.warn({ err }, `${what} error`);
const knex = await openRelational({ databaseUrl: config.databaseUrl });
const history = config.mongoUrl ? await MongoHistoryStore.open(config.mongoUrl) : new PgHistoryStore(knex);
// Keys are per task queue: deployments (and test runs) sharing a Redis never see each other's.
const idempotency = RedisIdempotencyStore.open(config.redisUrl, { prefix: `${config.redisKeyPrefix}idem:${config.notify.taskQueue}:`, onError: onError('redis') });
// Read-only use: this process never reports connections, so it writes no presence entries.
const presence = RedisPresenceStore.open(config.redisUrl, { prefix: `${config.redisKeyPrefix}presence:${config.notify.taskQueue}:`, nodeId: config.nodeId, ttlMs: config.notify.presenceTtlMs, onError: onError('redis') });
const queue = await AmqpTaskQueue.open({
  url: config.amqpUrl,
  queue: config.notify.taskQueue,
  connectionName: `worker ${config.nodeId}`,
  maxPending: config.amqp.pendingTasksMax,
  reconnect: { minMs: config.amqp.reconnectMinMs, maxMs: config.amqp.reconnectMaxMs },
  onError: onError('task queue'),
  onRecovered: (downMs, attempts) => log.info({ downMs, attempts }, 'RabbitMQ connection restored'),
});
const runtime = await startWorkerRuntime({
  queue,
  idempotency,
  store: new KnexNotifyStore(knex),
  relational: new KnexRelationalStore(knex),
  history,
  presence,
  log,
  notify: config.notify,
  vapid: config.notify.vapid,
  publicOrigin: config.publicOrigin,
});

let stopping = false;
const http = await startWorkerHttp(
  {
    nodeId: config.nodeId,
    stats: () => ({ ...runtime.runner.stats }),
    outbox: () => queue.outboxStats(),
    draining: () => stopping,
    ready: async () => {
      await Promise.all([queue.ping(), knex.raw('select 1'), history.ping(), presence.ping()]);
    },
  },
  config.port,
  config.host,
);
log.info(
  { port: http.port, queue: config.notify.taskQueue, concurrency: config.notify.concurrency, prefetch: config.notify.prefetch, push: Boolean(config.notify.vapid), email: Boolean(config.notify.smtpUrl) },
  `worker listening on ${http.port}`,
);

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, inFlight: runtime.runner.stats.inFlight }, 'shutting down: finishing in-flight tasks');
  const deadline = setTimeout(() => {
    log.error({ unconfirmedTasks: queue.outboxStats().pending }, 'shutdown deadline passed; exiting (unfinished tasks are redelivered; unconfirmed ones it published are lost)');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  await runtime.stop();
  await queue.close();
  http.server.close();
  await Promise.allSettled([idempotency.close(), presence.close(), history.close()]);
  await knex.destroy();
  log.info({ stats: runtime.runner.stats }, 'stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
