/**
 * ops/history-counters.ts, the counters rebuild after a restore of the MongoDB history: its usage
 * errors everywhere, the rebuild itself where MONGO_URL is set (the GitHub workflow).
 */
import { spawn } from 'node:child_process';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { TYPESCRIPT_NODE_ARGS } from '../../router/src/node.flags.ts';
import { freshMongoDatabase, need } from '../../test/support/services.ts';

const root = new URL('../../', import.meta.url).pathname;
const script = [...TYPESCRIPT_NODE_ARGS, 'ops/history-counters.ts'];

function run(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, script, { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

t.test('refuses to run without a MongoDB URL', async (t) => {
  const none = await run({});
  t.equal(none.code, 2, 'exits 2 without MONGO_URL');
  t.match(none.out, /MONGO_URL is not set/, 'and says why');
  const bad = await run({ MONGO_URL: 'postgres://127.0.0.1:5432/test' });
  t.equal(bad.code, 2, 'exits 2 for a URL that is not mongodb://');
});

t.test('raises every counter behind its messages, and only those', async (t) => {
  const base = need(t, 'MONGO_URL', 'history counters rebuild');
  if (!base) return;
  const url = await freshMongoDatabase(t, base);
  const client = new MongoClient(url);
  t.teardown(() => client.close());
  const db = client.db();
  const messages = db.collection<{ _id: string; room: string; seq: number; sender: number; body: string; clientMsgId: string; ts: number }>('messages');
  const message = (room: string, seq: number) => ({ _id: `${room}-${seq}`, room, seq, sender: 1, body: 'x', clientMsgId: `c${seq}`, ts: 0 });
  await messages.insertMany([1, 2, 3, 4].map((s) => message('behind', s)));
  await messages.insertMany([1, 2].map((s) => message('current', s)));
  await messages.insertMany([1, 2, 3].map((s) => message('missing', s)));
  await db.collection<{ _id: string; lastSeq: number }>('counters').insertMany([
    { _id: 'behind', lastSeq: 1 },
    { _id: 'current', lastSeq: 2 },
  ]);

  const first = await run({ MONGO_URL: url });
  t.equal(first.code, 0, `the rebuild succeeds\n${first.out}`);
  t.match(first.out, /2 counter\(s\) raised/, 'it reports the two rooms it raised');
  const counters = await db.collection<{ _id: string; lastSeq: number }>('counters').find().sort({ _id: 1 }).toArray();
  t.same(
    counters.map((c) => [c._id, c.lastSeq]),
    [['behind', 4], ['current', 2], ['missing', 3]],
    'each counter is its room highest seq: raised, left alone, created',
  );
  const again = await run({ MONGO_URL: url });
  t.match(again.out, /0 counter\(s\) raised/, 'a second run has nothing to do');
});
