/**
 * Every search store this run can reach, each beside the history store whose messages it
 * searches: PGlite always, PostgreSQL and MongoDB when their URLs are set (MongoDB skips here
 * with its reason). `edit` changes a stored message's body as an edit or an erasure does.
 */
import type { Test } from 'tap';
import { MongoHistoryStore } from '../history.mongo.ts';
import { PgHistoryStore } from '../history.pg.ts';
import type { HistoryStore } from '../history.port.ts';
import { openRelational } from '../relational.ts';
import { messageWords, MongoSearchStore } from '../search.mongo.ts';
import { PgSearchStore } from '../search.pg.ts';
import type { SearchStore } from '../search.port.ts';
import { freshMongoDatabase, freshPgDatabase, need } from '../../test/support/services.ts';
import type { Knex } from 'knex';

export interface OpenedSearch {
  history: HistoryStore;
  search: SearchStore;
  /** Sets the body of (room, seq) in place, as an edit does ('' as "delete for everyone" does). */
  edit(room: string, seq: number, body: string): Promise<void>;
  close(): Promise<void>;
}

export interface ReachableSearch {
  name: string;
  /** Opens the stores on a database of their own; `t` owns what it creates. */
  open(t: Test): Promise<OpenedSearch>;
}

function onPg(db: Knex): OpenedSearch {
  return {
    history: new PgHistoryStore(db),
    search: new PgSearchStore(db),
    edit: async (room, seq, body) => void (await db('history_messages').where({ room_id: room, seq }).update({ body })),
    close: () => db.destroy(),
  };
}

/** The stores reachable here. */
export function reachableSearchStores(t: Test): ReachableSearch[] {
  const stores: ReachableSearch[] = [{ name: 'PostgreSQL search store on in-memory PGlite', open: async () => onPg(await openRelational({})) }];
  const pgUrl = need(t, 'DATABASE_URL', 'PostgreSQL search store');
  if (pgUrl) {
    stores.push({
      name: 'PostgreSQL search store on a PostgreSQL server',
      // Teardowns run last-in first-out: the pool is gone before the database is dropped.
      open: async (tt) => onPg(await openRelational({ databaseUrl: await freshPgDatabase(tt, pgUrl) })),
    });
  }
  const mongoUrl = need(t, 'MONGO_URL', 'MongoDB search store');
  if (mongoUrl) {
    stores.push({
      name: 'MongoDB search store',
      open: async (tt) => {
        const history = await MongoHistoryStore.open(await freshMongoDatabase(tt, mongoUrl));
        const messages = history.database.collection<{ room: string; seq: number; body: string; words?: string[] }>('messages');
        return {
          history,
          search: await MongoSearchStore.open(history.database),
          edit: async (room, seq, body) => void (await messages.updateOne({ room: { $eq: room }, seq: { $eq: seq } }, { $set: { body, words: messageWords(body) } })),
          close: () => history.close(),
        };
      },
    });
  }
  return stores;
}
