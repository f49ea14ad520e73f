/**
 * Several router processes sharing a fresh PostgreSQL database, Redis and RabbitMQ, isolated from
 * every other test file (own exchange, task queue and Redis key prefix), with users and sessions
 * created through the same stores the nodes use.
 */
import type { Knex } from 'knex';
import type { Test } from 'tap';
import type { UserRecord } from '../../db/relational.port.ts';
import { KnexRelationalStore } from '../../db/relational.store.ts';
import { openRelational } from '../../db/relational.ts';
import { RedisSessionStore } from '../../db/session.redis.ts';
import { deleteQueues } from './amqp.queues.ts';
import { TestClient } from './router.harness.ts';
import { spawnRouter, type RouterProcess } from './router.process.ts';
import { freshPgDatabase, need, uniqueName } from './services.ts';

export interface Cluster {
  /** The environment every node of this cluster gets. */
  env: Record<string, string>;
  knex: Knex;
  relational: KnexRelationalStore;
  /** Starts one more node. */
  node(): Promise<RouterProcess>;
  user(handle: string): Promise<UserRecord & { sessionId: string }>;
  /** Connects a user's session to a node. */
  connect(user: { sessionId: string }, node: RouterProcess): Promise<TestClient>;
}

/**
 * The cluster, or undefined after saying which service is missing (CI fails instead). `env` adds
 * to every node's environment.
 */
export async function startCluster(t: Test, what: string, env: Record<string, string> = {}): Promise<Cluster | undefined> {
  const db = need(t, 'DATABASE_URL', what);
  const redis = need(t, 'REDIS_URL', what);
  const amqp = need(t, 'AMQP_URL', what);
  if (!db || !redis || !amqp) return undefined;

  const prefix = `${uniqueName('cluster')}:`;
  const taskQueue = uniqueName('tasks');
  t.teardown(() => deleteQueues(amqp, taskQueue));
  const nodeEnv = {
    DATABASE_URL: await freshPgDatabase(t, db),
    REDIS_URL: redis,
    AMQP_URL: amqp,
    AMQP_EXCHANGE: uniqueName('live'),
    TASK_QUEUE: taskQueue,
    REDIS_KEY_PREFIX: prefix,
    ...env,
  };
  const knex = await openRelational({ databaseUrl: nodeEnv.DATABASE_URL });
  t.teardown(() => knex.destroy());
  const sessions = RedisSessionStore.open(redis, { prefix: `${prefix}sess:` });
  t.teardown(() => sessions.close());
  const relational = new KnexRelationalStore(knex);
  return {
    env: nodeEnv,
    knex,
    relational,
    node: () => spawnRouter(t, nodeEnv),
    async user(handle) {
      const user = await relational.createUser(handle, handle[0]!.toUpperCase() + handle.slice(1));
      return { ...user, sessionId: (await sessions.create(user.id, 600_000)).id };
    },
    connect: (user, node) => TestClient.open(t, `ws://127.0.0.1:${node.port}/ws`, user.sessionId),
  };
}
