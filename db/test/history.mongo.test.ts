/**
 * What only the MongoDB history store has to get right beyond the shared contract: room counters
 * kept apart from the messages (a restore can put them behind), and the idempotent repeat told
 * apart from a counter collision. Runs where MONGO_URL is set (the GitHub workflow).
 */
import { MongoClient } from 'mongodb';
import t from 'tap';
import { freshMongoDatabase, need } from '../../test/support/services.ts';
import { type CounterRepair, MongoHistoryStore } from '../history.mongo.ts';
import type { AppendOutcome, NewMessage } from '../history.port.ts';

t.test('the MongoDB history store and its room counters', async (t) => {
  const base = need(t, 'MONGO_URL', 'MongoDB history store counter repair');
  if (!base) return;
  const url = await freshMongoDatabase(t, base);
  const repairs: CounterRepair[] = [];
  const store = await MongoHistoryStore.open(url, { onCounterRepair: (r) => repairs.push(r) });
  t.teardown(() => store.close());
  const raw = new MongoClient(url);
  t.teardown(() => raw.close());
  const counters = raw.db().collection<{ _id: string; lastSeq: number }>('counters');

  let n = 0;
  const freshRoom = () => `room-${++n}`;
  const msg = (room: string, clientMsgId: string, sender = 1): NewMessage => ({ room, sender, body: `body of ${clientMsgId}`, clientMsgId });
  const kinds = (outcomes: AppendOutcome[]) => outcomes.map((o) => o.kind);
  const seqsOf = async (room: string) => (await store.after(room, 0, 100)).map((m) => m.seq);

  t.beforeEach(() => void (repairs.length = 0));

  t.test('a counter restored behind its messages is raised, with a warning, and the append goes on', async (t) => {
    const room = freshRoom();
    await store.append([1, 2, 3, 4, 5].map((i) => msg(room, `m${i}`)));
    await counters.updateOne({ _id: room }, { $set: { lastSeq: 2 } });
    const outcomes = await store.append([msg(room, 'after-restore')]);
    t.same(kinds(outcomes), ['stored'], 'the append succeeds instead of colliding with seq 3');
    t.equal(outcomes[0]?.message!.seq, 6, 'it takes the seq after the highest stored one');
    t.same(repairs, [{ room, counter: 2, maxSeq: 5 }], 'the repair is reported once, with the old and new value');
    t.equal(await store.lastSeq(room), 6, 'the counter is right again');
    t.same(await seqsOf(room), [1, 2, 3, 4, 5, 6], 'the room stays gap-free');
  });

  t.test('a room whose counter is missing is repaired the same way', async (t) => {
    const room = freshRoom();
    await store.append([msg(room, 'a'), msg(room, 'b'), msg(room, 'c')]);
    await counters.deleteOne({ _id: room });
    const outcomes = await store.append([msg(room, 'd')]);
    t.equal(outcomes[0]?.message!.seq, 4, 'the new message follows the stored ones');
    t.same(repairs, [{ room, counter: 0, maxSeq: 3 }], 'the missing counter was created at the highest seq');
  });

  t.test('a batch of several rooms repairs the ones behind', async (t) => {
    const [behind, fine] = [freshRoom(), freshRoom()];
    await store.append([msg(behind, 'x1'), msg(behind, 'x2'), msg(fine, 'y1')]);
    await counters.updateOne({ _id: behind }, { $set: { lastSeq: 0 } });
    const outcomes = await store.append([msg(fine, 'y2'), msg(behind, 'x3')]);
    t.same(outcomes.map((o) => o.message!.seq), [2, 3], 'both rooms go on after their highest seq');
    t.same(repairs, [{ room: behind, counter: 0, maxSeq: 2 }], 'only the room that was behind is reported');
  });

  t.test('a repeated clientMsgId is answered as a duplicate and never taken for a counter behind', async (t) => {
    const room = freshRoom();
    const [original] = await store.append([msg(room, 'once')]);
    const again = await store.append([msg(room, 'new'), msg(room, 'once')]);
    t.same(kinds(again), ['stored', 'duplicate'], 'the new message is stored, the repeat is a duplicate');
    t.same(again[1]?.message, original?.message, 'the duplicate is the original message');
    t.equal(again[0]?.message!.seq, 2, 'no seq was spent on the repeat');
    t.same(repairs, [], 'no counter was repaired');
  });

  t.test('a repeat and a counter behind in one batch are both handled', async (t) => {
    const room = freshRoom();
    const [original] = await store.append([msg(room, 'p1'), msg(room, 'p2')]);
    await counters.updateOne({ _id: room }, { $set: { lastSeq: 1 } });
    const outcomes = await store.append([msg(room, 'p1'), msg(room, 'p3')]);
    t.same(kinds(outcomes), ['duplicate', 'stored'], 'the repeat is a duplicate, the new one stored');
    t.same(outcomes[0]?.message, original?.message, 'the duplicate returns the original');
    t.equal(outcomes[1]?.message!.seq, 3, 'the new one follows the highest seq');
    t.same(repairs, [{ room, counter: 1, maxSeq: 2 }], 'the counter was repaired once');
  });

  t.test('the readiness ping answers', async (t) => {
    await t.resolves(store.ping(), 'ping resolves within its bound');
  });
});

t.test('opening a MongoDB that does not answer fails with the driver error', async (t) => {
  // A port nothing listens on: the driver never finds a server, and gives up after the configured 200 ms.
  await t.rejects(
    MongoHistoryStore.open('mongodb://127.0.0.1:1/nothing?directConnection=true', { serverSelectionTimeoutMs: 200 }),
    { name: 'MongoServerSelectionError' },
    'the server selection error propagates as the driver raised it',
  );
});
