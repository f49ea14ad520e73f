import t from 'tap';
import { openRelational } from '../relational.ts';
import { PgHistoryStore } from '../history.pg.ts';
import { MongoHistoryStore } from '../history.mongo.ts';
import { freshMongoDatabase, freshPgDatabase, need } from '../../test/support/services.ts';
import { historyContract } from './history.contract.ts';

t.test('the PostgreSQL history store on in-memory PGlite keeps the contract', async (t) => {
  await historyContract(t, async () => {
    const db = await openRelational({});
    return { store: new PgHistoryStore(db), close: () => db.destroy() };
  });
});

t.test('the PostgreSQL history store on a PostgreSQL server keeps the contract', async (t) => {
  const url = need(t, 'DATABASE_URL', 'PostgreSQL history store');
  if (!url) return;
  const databaseUrl = await freshPgDatabase(t, url);
  await historyContract(t, async () => {
    // Teardowns run last-in first-out: this pool is gone before the database is dropped.
    const db = await openRelational({ databaseUrl });
    return { store: new PgHistoryStore(db), close: () => db.destroy() };
  });
});

t.test('the MongoDB history store keeps the contract', async (t) => {
  const base = need(t, 'MONGO_URL', 'MongoDB history store');
  if (!base) return;
  // Teardowns run last-in first-out: the store is closed before its database is dropped.
  const url = await freshMongoDatabase(t, base);
  await historyContract(t, async () => {
    const store = await MongoHistoryStore.open(url);
    return { store, close: () => store.close() };
  });
});
