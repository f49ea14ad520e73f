/**
 * Every history store this run can reach, each with the poison it really refuses: the stores'
 * contract (history.test.ts) and the group commit's isolation test run against all of them.
 */
import type { Test } from 'tap';
import { MongoHistoryStore } from '../history.mongo.ts';
import { PgHistoryStore } from '../history.pg.ts';
import type { HistoryStore } from '../history.port.ts';
import { openRelational } from '../relational.ts';
import { freshMongoDatabase, freshPgDatabase, need } from '../../test/support/services.ts';

/** A history store open on a database of its own, and how to close it. */
export interface OpenedStore {
  store: HistoryStore;
  close(): Promise<void>;
}

export interface ReachableStore {
  /** E.g. "PostgreSQL history store on in-memory PGlite". */
  name: string;
  /** Opens a store on a database of its own; `t` owns what it creates. */
  open(t: Test): Promise<OpenedStore>;
}

/**
 * A message body `store` refuses as content (a HistoryContentError). PostgreSQL and PGlite refuse
 * a NUL in a text (22021 "invalid byte sequence for encoding UTF8: 0x00"). MongoDB stores a NUL
 * (BSON strings carry their length) and a lone surrogate (as U+FFFD), so no short body is poison
 * there: it refuses a document over its 16 MiB limit, which the protocol's 4096 characters keep
 * any real message far below.
 */
export function poisonBodyFor(store: HistoryStore): string {
  return store instanceof MongoHistoryStore ? 'x'.repeat(16 * 1024 * 1024 + 1) : 'poison \u0000 body';
}

/** The stores reachable here: PGlite always, PostgreSQL and MongoDB when their URLs are set. */
export function reachableHistoryStores(t: Test): ReachableStore[] {
  const stores: ReachableStore[] = [
    {
      name: 'PostgreSQL history store on in-memory PGlite',
      open: async () => {
        const db = await openRelational({});
        return { store: new PgHistoryStore(db), close: () => db.destroy() };
      },
    },
  ];
  const pgUrl = need(t, 'DATABASE_URL', 'PostgreSQL history store');
  if (pgUrl) {
    stores.push({
      name: 'PostgreSQL history store on a PostgreSQL server',
      open: async (tt) => {
        const databaseUrl = await freshPgDatabase(tt, pgUrl);
        // Teardowns run last-in first-out: this pool is gone before the database is dropped.
        const db = await openRelational({ databaseUrl });
        return { store: new PgHistoryStore(db), close: () => db.destroy() };
      },
    });
  }
  const mongoUrl = need(t, 'MONGO_URL', 'MongoDB history store');
  if (mongoUrl) {
    stores.push({
      name: 'MongoDB history store',
      open: async (tt) => {
        // Teardowns run last-in first-out: the store is closed before its database is dropped.
        const store = await MongoHistoryStore.open(await freshMongoDatabase(tt, mongoUrl));
        return { store, close: () => store.close() };
      },
    });
  }
  return stores;
}
