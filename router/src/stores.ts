/**
 * Chooses an implementation for every port from the configuration: a service URL selects the
 * real service, its absence the embedded default. Nothing above this file knows which it got.
 */
import { join } from 'node:path';
import type { Knex } from 'knex';
import { MongoHistoryStore } from '../../db/history.mongo.ts';
import { PgHistoryStore } from '../../db/history.pg.ts';
import type { HistoryStore } from '../../db/history.port.ts';
import type { RelationalStore } from '../../db/relational.port.ts';
import { KnexRelationalStore } from '../../db/relational.store.ts';
import { openRelational } from '../../db/relational.ts';
import { MemorySessionStore } from '../../db/session.memory.ts';
import type { SessionStore } from '../../db/session.port.ts';
import { RedisSessionStore } from '../../db/session.redis.ts';
import { AmqpBus } from './bus.amqp.ts';
import { MemoryBus } from './bus.memory.ts';
import type { Bus } from './bus.port.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

export interface Stores {
  knex: Knex;
  relational: RelationalStore;
  history: HistoryStore;
  sessions: SessionStore;
  bus: Bus;
  /** Human-readable: which implementation each port got (logged at start). */
  describe: Record<string, string>;
  close(): Promise<void>;
}

/** Opens every store and the bus as the configuration says. */
export async function openStores(config: Readonly<Config>, log: Logger): Promise<Stores> {
  // memory:// (tests) keeps PGlite in memory; a path gets a `pg` folder inside it.
  const dataDir = config.dataDir.startsWith('memory://') ? config.dataDir : join(config.dataDir, 'pg');
  const knex = await openRelational({ databaseUrl: config.databaseUrl, dataDir });
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const history = config.mongoUrl ? await MongoHistoryStore.open(config.mongoUrl) : new PgHistoryStore(knex);
    opened.push(history);
    const sessions = config.redisUrl
      ? RedisSessionStore.open(config.redisUrl, { onError: (err) => log.warn({ err }, 'redis error') })
      : new MemorySessionStore();
    opened.push(sessions);
    const onBusError = (err: unknown) => log.warn({ err }, 'bus error');
    const bus = config.amqpUrl
      ? await AmqpBus.open({ url: config.amqpUrl, nodeId: config.nodeId, exchange: config.amqpExchange, onError: onBusError })
      : new MemoryBus({ onError: onBusError });
    return {
      knex,
      relational: new KnexRelationalStore(knex),
      history,
      sessions,
      bus,
      describe: {
        relational: config.databaseUrl ? 'postgresql' : `pglite (${config.dataDir})`,
        history: config.mongoUrl ? 'mongodb' : config.databaseUrl ? 'postgresql' : 'pglite',
        sessions: config.redisUrl ? 'redis' : 'memory',
        bus: config.amqpUrl ? 'rabbitmq' : 'in-process',
      },
      async close() {
        await bus.close();
        await sessions.close();
        await history.close();
        await knex.destroy();
      },
    };
  } catch (err) {
    await Promise.allSettled(opened.map((s) => s.close()));
    await knex.destroy();
    throw err;
  }
}
