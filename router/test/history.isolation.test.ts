/**
 * The group commit isolates a message the history store refuses for its content: the batch is
 * split until that message fails alone with the store's HistoryContentError, and every other
 * message of the batch is stored and acknowledged once, in its room's order. First against a store
 * in memory that checks the batcher's promises while it splits, then on every real history store.
 */
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { appendBatch, keyOf } from '../../db/history.batch.ts';
import { HistoryContentError, isHistoryContentError, type AppendOutcome, type HistoryStore, type Message, type NewMessage } from '../../db/history.port.ts';
import { poisonBodyFor, reachableHistoryStores } from '../../db/test/history.stores.ts';
import { override } from '../../test/support/override.ts';
import { HistoryBatcher } from '../src/chat/history.batcher.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A history store in memory with the real append semantics (db/history.batch.ts). It refuses as
 * content a batch holding a body that starts with "poison", fails as a lost connection on the
 * calls numbered in `failCalls`, and records what the batcher must never do: a room in two
 * appends at once, more than `maxInFlight` appends at once.
 */
function memoryStore(maxInFlight: number, failCalls: number[] = []) {
  const byKey = new Map<string, Message>();
  const rows = new Map<string, Message[]>();
  const busy = new Set<string>();
  const calls: string[][] = [];
  const violations: string[] = [];
  let inFlight = 0;
  const append = async (batch: readonly NewMessage[]): Promise<AppendOutcome[]> => {
    calls.push(batch.map((m) => m.body));
    const call = calls.length;
    const rooms = new Set(batch.map((m) => m.room));
    for (const room of rooms) if (busy.has(room)) violations.push(`room ${room} in two appends at once`);
    if (++inFlight > maxInFlight) violations.push(`${inFlight} appends at once`);
    for (const room of rooms) busy.add(room);
    try {
      await tick(); // lets the batcher start other batches meanwhile
      if (failCalls.includes(call)) throw new Error('connection lost');
      if (batch.some((m) => m.body.startsWith('poison'))) throw new HistoryContentError('a poison body', { cause: undefined });
      return await appendBatch(batch, {
        findExisting: async (b) => b.flatMap((m) => byKey.get(keyOf(m)) ?? []),
        reserveSeqs: async (perRoom) => new Map([...perRoom.keys()].map((room) => [room, (rows.get(room)?.length ?? 0) + 1])),
        insert: async (stored) => {
          for (const m of stored) {
            byKey.set(keyOf(m), m);
            rows.set(m.room, [...(rows.get(m.room) ?? []), m]);
          }
        },
      });
    } finally {
      inFlight--;
      for (const room of rooms) busy.delete(room);
    }
  };
  const after = async (room: string) => rows.get(room) ?? [];
  return { store: { append, after } as unknown as HistoryStore, calls, violations };
}

/** A history store that records how many messages each append was given. */
function countingStore(real: HistoryStore) {
  const sizes: number[] = [];
  const store = override(real, {
    append: (batch: readonly NewMessage[]) => {
      sizes.push(batch.length);
      return real.append(batch);
    },
  });
  return { store, sizes };
}

interface Scenario {
  rooms: string[];
  /** Stored before the batch. */
  earlier: NewMessage[];
  batch: NewMessage[];
}

/**
 * A full batch from many senders in many rooms, with two poisons (each in a room with messages
 * behind it), a repeat of the first poison, a repeat of a message stored before the batch and a
 * message repeated within the batch.
 */
function scenario(poison: string): Scenario {
  const tag = randomBytes(4).toString('hex');
  const rooms = Array.from({ length: 20 }, (_, i) => `iso-${tag}-${i}`);
  const batch = Array.from({ length: 200 }, (_, i): NewMessage => ({ room: rooms[i % 20]!, sender: 1 + (i % 11), body: `message ${i}`, clientMsgId: `m${i}` }));
  const earlier = [{ room: rooms[3]!, sender: 4, body: 'stored before', clientMsgId: 'before' }];
  batch[37] = { ...batch[37]!, body: poison };
  batch[150] = { ...batch[150]!, body: poison };
  batch[157] = { ...batch[37]! };
  batch[63] = { ...earlier[0]! };
  batch[180] = { ...batch[100]! };
  return { rooms, earlier, batch };
}

/**
 * Checks what the batcher answered and what the store holds: each poison rejected with the store's
 * content error, every other message stored (or a duplicate) once, each room gap-free and in
 * submission order.
 */
async function checkIsolated(t: Test, s: Scenario, settled: PromiseSettledResult<AppendOutcome>[], store: HistoryStore, poison: string): Promise<void> {
  const seen = new Set(s.earlier.map(keyOf));
  const expected: Array<'rejected' | AppendOutcome['kind']> = s.batch.map((m) => {
    if (m.body === poison) return 'rejected';
    if (seen.has(keyOf(m))) return 'duplicate';
    seen.add(keyOf(m));
    return 'stored';
  });
  const got = settled.map((r) => (r.status === 'rejected' ? 'rejected' : r.value.kind));
  t.same(got, expected, 'the poisons and their repeat are rejected, the repeats are duplicates, all else is stored');
  const refusals = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.ok(refusals.every((r) => isHistoryContentError(r.reason)), 'each poison fails with the content error, which the router answers as final');
  const stored = settled.flatMap((r) => (r.status === 'fulfilled' && r.value.kind === 'stored' ? [r.value.message] : []));
  t.equal(new Set(stored.map((m) => m.id)).size, expected.filter((e) => e === 'stored').length, 'each stored message has an id of its own');
  for (const room of s.rooms) {
    const held = await store.after(room, 0, 1000);
    const order = [...s.earlier, ...s.batch.filter((_, i) => expected[i] === 'stored')].filter((m) => m.room === room).map((m) => m.clientMsgId);
    if (!sameList(held.map((m) => m.clientMsgId), order) || !sameList(held.map((m) => m.seq), order.map((_, i) => i + 1))) {
      t.fail(`room ${room} holds each message once, gap-free, in submission order`, { found: held.map((m) => [m.seq, m.clientMsgId]), wanted: order });
      return;
    }
  }
  t.pass('every room holds each of its messages once, gap-free, in submission order');
}

const sameList = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Appends the whole batch in one turn of the loop, so the batcher takes it as one batch. */
async function appendAll(batcher: HistoryBatcher, batch: readonly NewMessage[]): Promise<PromiseSettledResult<AppendOutcome>[]> {
  return Promise.allSettled(batch.map((m) => batcher.append(m)));
}

t.test('in memory', async (t) => {
  t.test('a full batch with poisons is split until each fails alone, and everything else is stored once', async (t) => {
    const { store, calls, violations } = memoryStore(4);
    const s = scenario('poison');
    await store.append(s.earlier);
    const batcher = new HistoryBatcher(store, { maxInFlight: 4 });
    const settled = await appendAll(batcher, s.batch);
    t.equal(calls[1]?.length, s.batch.length, 'the store was first given the whole batch');
    await checkIsolated(t, s, settled, store, 'poison');
    t.same(violations, [], 'no room was in two appends at once, nor more appends than maxInFlight');
    await t.resolves(batcher.drained(), 'the batcher drains');
  });

  t.test("a room's messages queued behind a batch being split wait for it and follow its messages", async (t) => {
    const { store, violations } = memoryStore(4);
    const batcher = new HistoryBatcher(store, { maxInFlight: 4, parallelAfter: 1 });
    const msg = (room: string, id: string, body = id): NewMessage => ({ room, sender: 1, body, clientMsgId: id });
    const first = [msg('a', 'a1'), msg('b', 'b1'), msg('a', 'a-poison', 'poison'), msg('a', 'a2')].map((m) => batcher.append(m));
    await tick();
    const later = [msg('a', 'a3'), msg('c', 'c1')].map((m) => batcher.append(m));
    const [a1, , poisoned, a2] = await Promise.allSettled(first);
    const [a3, c1] = await Promise.all(later);
    t.match([a1, a2], [{ value: { message: { seq: 1 } } }, { value: { message: { seq: 2 } } }], 'the split batch stores its messages of room a in order');
    t.equal(poisoned?.status, 'rejected', 'the poison is rejected');
    t.equal(a3?.message!.seq, 3, 'the message queued behind comes after them');
    t.equal(c1?.message!.seq, 1, 'another room went its own way');
    t.same(violations, [], 'room a was never in two appends at once');
    await t.resolves(batcher.drained(), 'the batcher drains');
  });

  t.test('a transient failure while splitting rejects that part and every later one, and the next batch still goes', async (t) => {
    // Call 1 is the whole batch (content), 2 its first half, 3 its second half: lost.
    const { store, calls } = memoryStore(1, [3]);
    const batcher = new HistoryBatcher(store, { maxInFlight: 1 });
    const bodies = ['x1', 'x2', 'poison', 'x3'];
    const settled = await Promise.allSettled(bodies.map((b, i) => batcher.append({ room: `r${i % 2}`, sender: 1, body: b, clientMsgId: b })));
    t.same(settled.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected'], 'the first half is stored, the lost part is rejected');
    const reasons = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    t.ok(reasons.every((err) => !isHistoryContentError(err)), 'as unknown (to retry), not as content');
    t.equal(calls.length, 3, 'nothing more is tried once the store failed otherwise');
    t.match(await batcher.append({ room: 'r0', sender: 1, body: 'next', clientMsgId: 'next' }), { kind: 'stored' }, 'the next append is stored');
    await t.resolves(batcher.drained(), 'the batcher drains');
  });

  t.test('a batch that fails for any other reason is rejected whole, without splitting', async (t) => {
    const { store, calls } = memoryStore(1, [1]);
    const batcher = new HistoryBatcher(store);
    const settled = await Promise.allSettled(['y1', 'poison', 'y2'].map((b) => batcher.append({ room: 'r', sender: 1, body: b, clientMsgId: b })));
    t.same(settled.map((r) => r.status), ['rejected', 'rejected', 'rejected'], 'every message is rejected, to be retried');
    t.equal(calls.length, 1, 'the store was asked once');
  });
});

for (const { name, open } of reachableHistoryStores(t)) {
  t.test(`on the ${name}`, async (t) => {
    const opened = await open(t);
    t.teardown(() => opened.close());
    const { store, sizes } = countingStore(opened.store);
    const poison = poisonBodyFor(opened.store);
    const s = scenario(poison);
    await store.append(s.earlier);
    const settled = await appendAll(new HistoryBatcher(store), s.batch);
    t.equal(sizes[1], s.batch.length, 'the store was first given the whole batch');
    await checkIsolated(t, s, settled, store, poison);
  });
}
