/**
 * Raises the MongoDB history's room counters to their messages: run it after restoring a dump of
 * the history database, before the routers take traffic. A dump taken while routers write copies
 * `counters` and `messages` at different moments, and a counter restored behind its room's highest
 * seq makes appends to that room collide with stored messages (the store repairs such a room on
 * its first collision, with a warning; this repairs every room at once). Safe to run while routers
 * write, and a no-op when nothing is behind.
 *
 * Exit codes: 0 done (or nothing to do), 1 MongoDB refused or failed, 2 MONGO_URL missing or not a
 * mongodb:// URL.
 */
import { MongoClient, ReadConcern, WriteConcern } from 'mongodb';
import { raiseCounters, type CounterDoc } from '../db/history.mongo.counters.ts';
import { opsConfig } from './ops.config.ts';

const { mongoUrl } = opsConfig;

function usage(problem: string): never {
  console.error(`history-counters: ${problem}\nusage: MONGO_URL=mongodb://host:27017/messenger?replicaSet=rs0 node ops/history-counters.ts`);
  process.exit(2);
}

if (!mongoUrl) usage('MONGO_URL is not set (only the MongoDB history store keeps counters apart from its messages)');
if (!/^mongodb(\+srv)?:\/\//.test(mongoUrl)) usage('MONGO_URL must be a mongodb:// or mongodb+srv:// URL');

const client = new MongoClient(mongoUrl, {
  writeConcern: new WriteConcern('majority', 10_000, true),
  readConcern: new ReadConcern('majority'),
  serverSelectionTimeoutMS: 10_000,
});
try {
  await client.connect();
  const db = client.db();
  const repairs = await raiseCounters(db.collection<{ room: string; seq: number }>('messages'), db.collection<CounterDoc>('counters'));
  for (const r of repairs.slice(0, 20)) console.log(`history-counters: room ${r.room}: counter ${r.counter} raised to ${r.maxSeq}`);
  if (repairs.length > 20) console.log(`history-counters: … and ${repairs.length - 20} more rooms`);
  console.log(`history-counters: ${db.databaseName}: ${repairs.length} counter(s) raised, every other room was up to date`);
} catch (err) {
  console.error(`history-counters: failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
