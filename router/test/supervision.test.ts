import t, { type Test } from 'tap';
import type { HistoryStore } from '../../db/history.port.ts';
import type { RelationalStore } from '../../db/relational.port.ts';
import { createLogger } from '../../kit/logger.ts';
import { loadConfig } from '../../router/src/config.ts';
import { openStores, type Stores } from '../../router/src/stores.ts';
import { override } from '../../test/support/override.ts';
import { startNode } from '../../test/support/router.harness.ts';

/** Opens embedded stores and lets a test make chosen calls throw, as a crashing dependency would. */
async function faultyStores(t: Test) {
  const stores: Stores = await openStores(loadConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }), createLogger('silent'));
  t.teardown(() => stores.close());
  const faults = {
    /** Users whose roomsOf() throws: their sync crashes their connection actor. */
    roomsOfFailsFor: new Set<number>(),
    /** Rooms whose lastSeq() throws once: a chatroom actor that calls it crashes. */
    lastSeqFailsOnceFor: new Set<string>(),
  };
  const relational = override<RelationalStore>(stores.relational, {
    roomsOf: async (userId: number) => {
      if (faults.roomsOfFailsFor.has(userId)) throw new TypeError('injected fault in roomsOf');
      return stores.relational.roomsOf(userId);
    },
  });
  const history = override<HistoryStore>(stores.history, {
    lastSeq: async (room: string) => {
      if (faults.lastSeqFailsOnceFor.delete(room)) throw new TypeError('injected fault in lastSeq');
      return stores.history.lastSeq(room);
    },
  });
  return { stores: { ...stores, relational, history }, faults };
}

t.test('a crash in one connection actor affects no one else', async (t) => {
  const { stores, faults } = await faultyStores(t);
  const h = await startNode(t, {}, stores);
  const alice = await h.user('alice');
  const bob = await h.user('bob');
  const aliceOther = await alice.connect();
  const a = await alice.connect();
  const b = await bob.connect();
  await a.sendMessage({ to: bob.id }, 'before the crash');

  faults.roomsOfFailsFor.add(alice.id);
  a.send({ type: 'sync', rooms: [] });
  const closed = await a.closed;
  t.equal(closed.code, 1011, 'the crashed connection is closed with 1011');

  faults.roomsOfFailsFor.clear();
  const ack = await b.sendMessage({ to: alice.id }, 'after the crash');
  t.equal(ack.type, 'message.sent', 'another user still sends');
  const got = await aliceOther.next('message.new', (f) => f.message.body === 'after the crash');
  t.ok(got, "the same user's other socket still receives");
  const again = await aliceOther.sendMessage({ to: bob.id }, 'still here');
  t.equal(again.type, 'message.sent', "the same user's other socket still sends");
  t.equal(h.node.registry.size, 2, 'only the crashed socket left the registry');
});

t.test('a crashed chatroom actor is restarted and nothing acknowledged is lost', async (t) => {
  const { stores, faults } = await faultyStores(t);
  const h = await startNode(t, {}, stores);
  const alice = await h.user('alice');
  const bob = await h.user('bob');
  const a = await alice.connect();
  const b = await bob.connect();
  const room = `${alice.id}-${bob.id}`;

  const acked: number[] = [];
  for (let i = 0; i < 5; i++) {
    const ack = await a.sendMessage({ to: bob.id }, `m${i}`);
    if (ack.type === 'message.sent') acked.push(ack.seq);
  }
  // Messages in flight when the actor crashes: their outcomes are handled in the append's continuation.
  const inFlight = Array.from({ length: 5 }, (_, i) => a.sendMessage({ to: bob.id }, `in flight ${i}`));
  faults.lastSeqFailsOnceFor.add(room);
  b.send({ type: 'message.ack', room, seq: 1_000_000 });
  const afterCrash = await Promise.all([...inFlight, a.sendMessage({ to: bob.id }, 'after the crash')]);
  t.equal(faults.lastSeqFailsOnceFor.size, 0, 'the fault fired: the actor crashed');
  for (const ack of afterCrash) if (ack.type === 'message.sent') acked.push(ack.seq);
  t.equal(acked.length, 11, 'every message sent around the crash was acknowledged');

  const stored = (await h.stores.history.after(room, 0, 100)).map((m) => m.seq);
  t.same(stored, Array.from({ length: 11 }, (_, i) => i + 1), 'history holds every acknowledged message, gap-free');
  t.same([...acked].sort((x, y) => x - y), stored, 'every acknowledged seq is stored');
  for (const seq of stored) await b.next('message.new', (f) => f.message.seq === seq);
  t.pass('the recipient got every message live, including those acknowledged across the reset');

  b.send({ type: 'message.ack', room, seq: 11 });
  const receipt = await a.next('receipt', (f) => f.kind === 'delivered' && f.seq === 11);
  t.ok(receipt, 'the restarted actor handles receipts again');
});
