/**
 * The MongoDB history store's consistency and waits as the driver takes them: checked on a client
 * that is built but never connected, so this runs without a server.
 */
import { MongoClient } from 'mongodb';
import t from 'tap';
import { appendTransactionOptions, DEFAULT_MONGO_TIMEOUTS, mongoClientOptions } from '../history.mongo.options.ts';

const URL_WITH_OTHER_IDEAS = 'mongodb://127.0.0.1:27017/history?replicaSet=rs0&readConcernLevel=local&serverSelectionTimeoutMS=30000&w=1';

t.test('the client reads majority-committed data and writes to a journaled majority', async (t) => {
  const client = new MongoClient('mongodb://127.0.0.1:27017/history?replicaSet=rs0', mongoClientOptions(DEFAULT_MONGO_TIMEOUTS));
  t.equal(client.options.readConcern?.level, 'majority', 'reads use read concern majority');
  t.match(client.options.writeConcern, { w: 'majority', journal: true, wtimeoutMS: 5000 }, 'writes wait for a journaled majority, 5 s at most');
  const overridden = new MongoClient(URL_WITH_OTHER_IDEAS, mongoClientOptions(DEFAULT_MONGO_TIMEOUTS));
  t.equal(overridden.options.readConcern?.level, 'majority', 'a URL asking for local reads does not weaken them');
  t.equal(overridden.options.writeConcern?.w, 'majority', 'nor w=1 the writes');
});

t.test('every wait is bounded: a lost primary fails in seconds', async (t) => {
  const client = new MongoClient('mongodb://127.0.0.1:27017/history?replicaSet=rs0', mongoClientOptions(DEFAULT_MONGO_TIMEOUTS));
  t.equal(client.options.serverSelectionTimeoutMS, 5000, 'a primary is waited for 5 s (the driver default is 30 s)');
  t.equal(client.options.connectTimeoutMS, 5000, 'so is a new connection');
  t.equal(client.options.socketTimeoutMS, 30_000, 'an open connection answers within 30 s (the driver default never gives up)');
  const custom = new MongoClient(URL_WITH_OTHER_IDEAS, mongoClientOptions({ ...DEFAULT_MONGO_TIMEOUTS, serverSelectionTimeoutMs: 2000 }));
  t.equal(custom.options.serverSelectionTimeoutMS, 2000, 'the configured timeout wins over the URL');
});

t.test("an append's transaction reads a snapshot of the primary and commits within the write timeout", async (t) => {
  const options = appendTransactionOptions({ ...DEFAULT_MONGO_TIMEOUTS, writeTimeoutMs: 3000 });
  t.match(options.readConcern, { level: 'snapshot' }, 'snapshot isolation: a concurrent counter bump is a write conflict, retried');
  t.match(options.writeConcern, { w: 'majority', journal: true, wtimeoutMS: 3000 }, 'the commit waits for a journaled majority, within the write timeout');
  t.equal(options.maxCommitTimeMS, 3000, 'and the commit itself is bounded by maxCommitTimeMS');
  t.equal(options.readPreference, 'primary', 'on the primary');
});
