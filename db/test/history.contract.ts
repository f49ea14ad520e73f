/**
 * The contract every HistoryStore keeps, run by history.test.ts against each reachable
 * implementation. One store serves the whole run (opening PGlite or a database per test would
 * cost seconds each); every test writes to rooms of its own, so tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { AppendOutcome, HistoryStore, NewMessage } from '../history.port.ts';
import { historyActionsContract } from './history.actions.contract.ts';
import { historyExportContract } from './history.export.contract.ts';
import { poisonBodyFor, type OpenedStore } from './history.stores.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A room id no other test (or earlier run) uses, in the protocol's charset. */
function freshRoom(label = 'r'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

function msg(room: string, clientMsgId: string, body = `body of ${clientMsgId}`, sender = 1): NewMessage {
  return { room, sender, body, clientMsgId };
}

const kinds = (outcomes: AppendOutcome[]) => outcomes.map((o) => o.kind);
const seqs = (outcomes: AppendOutcome[]) => outcomes.map((o) => o.message!.seq);

/** Registers the contract's tests on `t` against one store from `makeStore`, closed at teardown. */
export async function historyContract(t: Test, makeStore: () => Promise<OpenedStore>): Promise<void> {
  const { store, close } = await makeStore();
  t.teardown(close);

  historyActionsContract(t, store);
  historyExportContract(t, store);

  t.test('the store answers a ping', async (t) => {
    await t.resolves(store.ping(), 'ping resolves');
  });

  t.test('an empty batch has no outcomes', async (t) => {
    t.same(await store.append([]), [], 'no outcomes for no messages');
  });

  t.test('seqs start at 1 and are gap-free per room and independent across rooms', async (t) => {
    const a = freshRoom();
    const b = freshRoom();
    const first = await store.append([msg(a, 'a1'), msg(a, 'a2')]);
    t.same(kinds(first), ['stored', 'stored'], 'both messages are new');
    t.same(seqs(first), [1, 2], 'the first room starts at 1');
    const second = await store.append([msg(b, 'b1'), msg(a, 'a3')]);
    t.same(seqs(second), [1, 3], 'the second room starts at 1, the first goes on at 3');
    t.equal(await store.lastSeq(a), 3, 'lastSeq of the first room is its highest seq');
    t.equal(await store.lastSeq(b), 1, 'lastSeq of the second room is its highest seq');
    const stored = await store.after(a, 0, 10);
    t.same(stored.map((m) => m.seq), [1, 2, 3], 'the first room holds seqs 1..3 without gaps');
    t.same(stored, [...first, second[1]!].map((o) => o.message), 'an outcome is the message as stored: id, ts and every field');
  });

  t.test('a batch interleaving several rooms keeps input order within each room', async (t) => {
    const [a, b, c] = [freshRoom('a'), freshRoom('b'), freshRoom('c')];
    const batch = [msg(b, 'x1'), msg(a, 'x2'), msg(b, 'x3'), msg(c, 'x4'), msg(a, 'x5'), msg(b, 'x6')];
    const outcomes = await store.append(batch);
    t.same(kinds(outcomes), batch.map(() => 'stored'), 'every message is new');
    t.same(seqs(outcomes), [1, 1, 2, 1, 2, 3], 'each room numbers its messages in input order');
    t.same(outcomes.map((o) => o.message!.clientMsgId), batch.map((m) => m.clientMsgId), 'outcomes follow input order');
    t.same((await store.after(b, 0, 10)).map((m) => m.clientMsgId), ['x1', 'x3', 'x6'], 'room b reads back in order');
  });

  t.test('a clientMsgId repeated in a later batch returns the original as a duplicate and consumes no seq', async (t) => {
    const room = freshRoom();
    const [original] = await store.append([msg(room, 'dup')]);
    const again = await store.append([msg(room, 'other'), msg(room, 'dup')]);
    t.same(kinds(again), ['stored', 'duplicate'], 'the repeat is a duplicate');
    t.same(again[1]?.message, original?.message, 'the duplicate returns the original message');
    t.equal(again[0]?.message!.seq, 2, 'the new message takes the next seq, none was spent on the duplicate');
    t.equal(await store.lastSeq(room), 2, 'two seqs used for two distinct messages');
  });

  t.test('a clientMsgId repeated within one batch is a duplicate of its first occurrence', async (t) => {
    const room = freshRoom();
    const outcomes = await store.append([msg(room, 'same'), msg(room, 'next'), msg(room, 'same')]);
    t.same(kinds(outcomes), ['stored', 'stored', 'duplicate'], 'the second occurrence is a duplicate');
    t.same(outcomes[2]?.message, outcomes[0]?.message, 'it returns the first occurrence');
    t.same(seqs(outcomes), [1, 2, 1], 'only the distinct messages consume seqs');
    t.equal((await store.after(room, 0, 10)).length, 2, 'two messages are stored');
  });

  t.test('the same clientMsgId with a different body is a conflict and stores nothing', async (t) => {
    const room = freshRoom();
    const [original] = await store.append([msg(room, 'k', 'first body')]);
    const later = await store.append([msg(room, 'k', 'second body')]);
    t.same(kinds(later), ['conflict'], 'a later batch with another body conflicts');
    t.same(later[0]?.message, original?.message, 'the conflict returns the original');
    const within = await store.append([msg(room, 'j', 'one'), msg(room, 'j', 'two')]);
    t.same(kinds(within), ['stored', 'conflict'], 'a second body within one batch conflicts');
    t.equal(within[1]?.message!.body, 'one', 'the in-batch conflict returns the first occurrence');
    const stored = await store.after(room, 0, 10);
    t.same(stored.map((m) => m.body), ['first body', 'one'], 'only the originals are stored');
    t.equal(await store.lastSeq(room), 2, 'conflicts consume no seq');
  });

  t.test('the same clientMsgId from a different sender is a different message', async (t) => {
    const room = freshRoom();
    const outcomes = await store.append([msg(room, 'c1', 'hi', 1), msg(room, 'c1', 'hi', 2)]);
    t.same(kinds(outcomes), ['stored', 'stored'], 'both senders get their message stored');
    t.not(outcomes[0]?.message!.id, outcomes[1]?.message!.id, 'they are two messages');
    const later = await store.append([msg(room, 'c1', 'hi', 3)]);
    t.same(kinds(later), ['stored'], 'a third sender in a later batch is new too');
    t.equal(later[0]?.message!.seq, 3, 'and takes the next seq');
  });

  t.test('after returns messages strictly after the seq, oldest first, at most limit', async (t) => {
    const room = freshRoom();
    await store.append(Array.from({ length: 10 }, (_, i) => msg(room, `m${i + 1}`)));
    t.same((await store.after(room, 3, 4)).map((m) => m.seq), [4, 5, 6, 7], 'four messages after seq 3');
    t.same((await store.after(room, 8, 5)).map((m) => m.seq), [9, 10], 'fewer than the limit near the end');
    t.same(await store.after(room, 10, 5), [], 'nothing after the last seq');
    t.same(await store.after(freshRoom(), 0, 5), [], 'nothing in an unknown room');
    const [first] = await store.after(room, 0, 1);
    t.match(first, { room, seq: 1, sender: 1, clientMsgId: 'm1', body: 'body of m1' }, 'messages carry every field');
    t.equal(typeof first?.ts, 'number', 'ts is a number');
    t.ok(Math.abs(Date.now() - (first?.ts ?? 0)) < 60_000, 'ts is the server time in ms');
  });

  t.test('before returns messages strictly before the seq, newest first, at most limit', async (t) => {
    const room = freshRoom();
    await store.append(Array.from({ length: 10 }, (_, i) => msg(room, `m${i + 1}`)));
    t.same((await store.before(room, undefined, 3)).map((m) => m.seq), [10, 9, 8], 'undefined reads from the end');
    t.same((await store.before(room, 5, 3)).map((m) => m.seq), [4, 3, 2], 'three messages before seq 5');
    t.same((await store.before(room, 3, 10)).map((m) => m.seq), [2, 1], 'fewer than the limit near the start');
    t.same(await store.before(room, 1, 10), [], 'nothing before seq 1');
    t.same(await store.before(freshRoom(), undefined, 10), [], 'nothing in an unknown room');
  });

  t.test('lastSeq is 0 for an unknown room', async (t) => {
    t.equal(await store.lastSeq(freshRoom()), 0, 'an unknown room has lastSeq 0');
  });

  t.test('ids are unique uuids', async (t) => {
    const room = freshRoom();
    const outcomes = await store.append(Array.from({ length: 50 }, (_, i) => msg(room, `u${i}`)));
    const ids = outcomes.map((o) => o.message!.id);
    t.ok(ids.every((id) => UUID.test(id)), 'every id is a lower-case uuid');
    t.equal(new Set(ids).size, ids.length, 'no id repeats');
    const read = await store.after(room, 0, 100);
    t.same(read.map((m) => m.id), ids, 'the stored ids are the returned ones');
  });

  t.test('ids are time-ordered version 7 uuids: a later message has a greater id', async (t) => {
    const room = freshRoom();
    const first = (await store.append(Array.from({ length: 20 }, (_, i) => msg(room, `t${i}`)))).map((o) => o.message!.id);
    const [later] = await store.append([msg(room, 'later')]);
    t.ok(first.every((id) => UUID_V7.test(id)), 'every id has version 7 and the RFC 9562 variant');
    t.same([...first].sort(), first, 'ids within a batch increase in input order');
    t.ok(later!.message!.id > first.at(-1)!, 'an id of a later batch sorts after every earlier one');
  });

  t.test('concurrent appends to one room produce a gap-free, duplicate-free sequence', async (t) => {
    const room = freshRoom();
    const other = freshRoom();
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 5 }, (_, i) => msg(i % 2 ? other : room, `b${b}-${i}`)),
    );
    const results = await Promise.all(batches.map((batch) => store.append(batch)));
    const outcomes = results.flat();
    t.ok(outcomes.every((o) => o.kind === 'stored'), 'every message is new');
    const roomSeqs = outcomes.filter((o) => o.message!.room === room).map((o) => o.message!.seq);
    t.same([...roomSeqs].sort((x, y) => x - y), Array.from({ length: 60 }, (_, i) => i + 1), 'seqs 1..60, each once');
    const read = await store.after(room, 0, 100);
    t.same(read.map((m) => m.seq), Array.from({ length: 60 }, (_, i) => i + 1), 'the stored seqs are gap-free');
    t.equal(await store.lastSeq(other), 40, 'the other room counted its own 40 messages');
    for (const batch of results) {
      const mine = batch.filter((o) => o.message!.room === room).map((o) => o.message!.seq);
      t.same(mine, [...mine].sort((x, y) => x - y), 'each batch keeps its input order');
    }
  });

  t.test('racing appends of the same clientMsgId store it once', async (t) => {
    const room = freshRoom();
    const results = await Promise.all(Array.from({ length: 5 }, () => store.append([msg(room, 'race')])));
    const outcomes = results.flat();
    t.equal(outcomes.filter((o) => o.kind === 'stored').length, 1, 'exactly one append stores it');
    t.equal(new Set(outcomes.map((o) => o.message!.id)).size, 1, 'all of them return the same message');
    t.equal(await store.lastSeq(room), 1, 'one seq is used');
  });

  t.test('bodies round-trip unchanged', async (t) => {
    const room = freshRoom();
    const bodies = [
      'héllo wörld — 你好 👋🏽 👨‍👩‍👧',
      `it's "quoted" and 'single' and \`back\``,
      '{"$ne":null}',
      '{"$gt":""} $where this.body',
      'back\\slash, new\nline, tab\t, {braces,commas}, NULL',
      '',
    ];
    const outcomes = await store.append(bodies.map((body, i) => msg(room, `body${i}`, body)));
    t.same(outcomes.map((o) => o.message!.body), bodies, 'the outcomes carry the bodies');
    t.same((await store.after(room, 0, 10)).map((m) => m.body), bodies, 'the stored bodies are unchanged');
    const again = await store.append([msg(room, 'body2', '{"$ne":null}')]);
    t.same(kinds(again), ['duplicate'], 'an operator-looking body compares as plain text');
  });

  t.test('a batch holding a body the store cannot hold is refused whole, as content, and stores nothing', async (t) => {
    const [room, other] = [freshRoom(), freshRoom()];
    const poison = msg(room, 'poison', poisonBodyFor(store), 2);
    const honest = [msg(room, 'h1'), msg(other, 'h2', 'h2', 3), msg(room, 'h3')];
    const contentError = { name: 'HistoryContentError', cause: Object };
    await t.rejects(store.append([honest[0]!, honest[1]!, poison, honest[2]!]), contentError, 'the batch is refused with a HistoryContentError');
    t.equal(await store.lastSeq(room), 0, 'no seq of the poison\'s room was used');
    t.same(await store.after(other, 0, 10), [], 'nothing of the batch was stored');
    await t.rejects(store.append([poison]), contentError, 'the poison alone is refused the same way');
    const rest = await store.append(honest);
    t.same(kinds(rest), ['stored', 'stored', 'stored'], 'without it, the others are stored as new');
    t.same(seqs(rest), [1, 1, 2], 'from seq 1: the refused batch left no gap');
  });

  t.test('operator-looking room and clientMsgId values are stored and compared as plain strings', async (t) => {
    const room = freshRoom('a-b_c');
    const ids = ['$ne', '$gt', 'a.b.c', '$where', '__proto__'];
    const outcomes = await store.append(ids.map((id) => msg(room, id)));
    t.same(kinds(outcomes), ids.map(() => 'stored'), 'each is a distinct message');
    const read = await store.after(room, 0, 10);
    t.same(read.map((m) => m.clientMsgId), ids, 'the clientMsgIds are stored verbatim');
    t.ok(read.every((m) => m.room === room), 'the room is stored verbatim');
    const again = await store.append([msg(room, '$gt'), msg(room, 'a.b')]);
    t.same(kinds(again), ['duplicate', 'stored'], 'only the exact same clientMsgId matches');
    t.equal(again[0]?.message!.seq, 2, 'the duplicate is the original $gt message');
  });

  t.test('a group: events are entries, members are checked and changed in the commit that gives the seq', async (t) => {
    const room = `g-${randomBytes(8).toString('hex')}`;
    const event = (sender: number, e: NewMessage['event'], change: NewMessage['change'], op: { expect: number }): NewMessage => ({
      room,
      sender,
      body: '',
      clientMsgId: `ev-${randomBytes(6).toString('hex')}`,
      event: e,
      change,
      op,
    });
    t.equal(await store.groupState(room), null, 'no group before its creation');
    const [none] = await store.append([msg(room, 'early', 'hi', 1)]);
    t.same(none, { kind: 'refused', reason: 'not_member' }, 'a message to a group that does not exist is refused');
    const created = await store.append([
      event(1, { type: 'room.created', name: 'G', members: [{ user: 1, role: 'owner' }, { user: 2, role: 'member' }] }, { set: [{ user: 1, role: 'owner' }, { user: 2, role: 'member' }] }, { expect: 0 }),
    ]);
    t.match(created, [{ kind: 'stored', version: 1, message: { seq: 1, kind: 'event', event: { type: 'room.created', name: 'G' } } }], 'the creation is seq 1 and version 1');
    t.same(await store.groupState(room), { version: 1, members: [{ user: 1, role: 'owner', joinedSeq: 1 }, { user: 2, role: 'member', joinedSeq: 1 }] }, 'the state lists both members');

    const op = { expect: 1 };
    const batch = await store.append([
      msg(room, 'before', 'from 2, before', 2),
      event(1, { type: 'member.removed', user: 2 }, { remove: [2] }, op),
      event(1, { type: 'member.added', user: 3, role: 'member' }, { set: [{ user: 3, role: 'member' }] }, op),
      msg(room, 'after', 'from 2, after', 2),
      msg(room, 'hello3', 'from 3', 3),
      msg(room, 'stranger', 'from 9', 9),
    ]);
    t.same(
      batch.map((o) => [o.kind, o.message?.seq, o.kind === 'stored' ? o.version : undefined]),
      [['stored', 2, 1], ['stored', 3, 3], ['stored', 4, 4], ['refused', undefined, undefined], ['stored', 5, 4], ['refused', undefined, undefined]],
      'the message before the removal is stored, the one after it refused, the new member may send, a stranger may not; both entries of one request pass together',
    );
    t.same(batch[3], { kind: 'refused', reason: 'not_member' }, 'the removed sender is refused as not a member');
    t.equal(await store.lastSeq(room), 5, 'refused entries used no seq');
    t.same(await store.groupState(room), { version: 4, members: [{ user: 1, role: 'owner', joinedSeq: 1 }, { user: 3, role: 'member', joinedSeq: 4 }] }, 'members and version after the batch');

    const stale = await store.append([event(1, { type: 'room.renamed', name: 'H' }, undefined, { expect: 1 })]);
    t.same(stale, [{ kind: 'refused', reason: 'stale' }], 'a request decided on an old version is refused stale');
    const read = await store.after(room, 0, 10);
    t.same(read.map((m) => m.kind ?? 'text'), ['event', 'text', 'event', 'event', 'text'], 'history returns events as entries');
    t.same(read[2]?.event, { type: 'member.removed', user: 2 }, 'an event round-trips');
    t.notOk('kind' in read[1]!, 'a text message keeps its old shape, without kind');
    t.same((await store.before(room, undefined, 1))[0]?.seq, 5, 'before pages read groups too');
  });

  t.test('two group requests decided on the same version at once: one is stored, the other refused stale', async (t) => {
    const room = `g-${randomBytes(8).toString('hex')}`;
    const members = [{ user: 1, role: 'owner' as const }, { user: 2, role: 'admin' as const }, { user: 3, role: 'admin' as const }];
    await store.append([{ room, sender: 1, body: '', clientMsgId: 'ev-c', event: { type: 'room.created', name: 'G', members }, change: { set: members }, op: { expect: 0 } }]);
    const [a, b] = await Promise.all([
      store.append([{ room, sender: 2, body: '', clientMsgId: 'ev-a', event: { type: 'member.removed', user: 3 }, change: { remove: [3] }, op: { expect: 1 } }]),
      store.append([{ room, sender: 3, body: '', clientMsgId: 'ev-b', event: { type: 'member.removed', user: 2 }, change: { remove: [2] }, op: { expect: 1 } }]),
    ]);
    t.same([a![0]!.kind, b![0]!.kind].sort(), ['refused', 'stored'], 'exactly one removal is stored');
    t.equal(await store.lastSeq(room), 2, 'one seq was used');
    t.equal((await store.groupState(room))?.members.length, 2, 'one admin is left');
  });
}
