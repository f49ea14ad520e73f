/**
 * The offline store's rules (app/src/lib/chat/offline.schema.ts): rooms as records and back, writes
 * of only what changed, eviction under a storage budget, the localStorage cache migrated whole, and
 * a pushed message joining its room.
 */
import t from 'tap';
import type { Message } from '../../protocol/frames.ts';
import type { PushPayload } from '../../protocol/push.ts';
import { EVICT_PAGE, evictionPlan, fromLocalStorage, joinRoom, mergeOutbox, pushedMessage, roomAfterPush, splitRoom, Written } from '../src/lib/chat/offline.schema.ts';
import type { OutboxItem } from '../src/lib/chat/outbox.ts';
import type { CachedRoom } from '../src/lib/chat/state.ts';

const msg = (seq: number, body = `m${seq}`): Message => ({ id: `id${seq}`, room: '1-2', seq, sender: 2, body, clientMsgId: `c${seq}`, ts: 1000 + seq });
const room = (n: number): CachedRoom => ({ room: '1-2', kind: 'direct', members: [], lastSeq: n, delivered: {}, read: {}, messages: Array.from({ length: n }, (_, i) => msg(i + 1)) });
const item = (id: string): OutboxItem => ({ clientMsgId: id, room: '1-2', to: 2, body: id, createdAt: 1 });

t.test('a room splits into records and joins back the same, messages in seq order', async (t) => {
  const r = room(120);
  const { record, messages } = splitRoom(7, r);
  t.equal(messages.length, 120, 'one record per message: no cap on what is kept');
  t.equal(record.active, 1120, 'the room is as recent as its newest message');
  t.same(joinRoom(record, [...messages].reverse().map((m) => m.message)), r, 'joined back, in seq order');
});

t.test('a write puts only what changed since the last one', async (t) => {
  const w = new Written();
  const r = room(1000);
  w.loaded(7, r);
  t.same(w.changes(7, r), { record: null, messages: [] }, 'nothing changed: nothing to write');
  r.messages.push(msg(1001));
  r.lastSeq = 1001;
  r.messages[3] = { ...r.messages[3]!, body: 'edited', rev: 1001 };
  const c = w.changes(7, r);
  t.ok(c.record, 'the room record changed (lastSeq, active)');
  t.same(c.messages.map((m) => m.seq).sort((a, b) => a - b), [4, 1001], 'only the edited and the new message');
});

t.test('eviction drops the least recently active rooms\' oldest pages first and keeps every newest page', async (t) => {
  const seqs = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const rooms = [
    { room: 'new', active: 300, seqs: seqs(500) },
    { room: 'old', active: 100, seqs: seqs(200) },
    { room: 'mid', active: 200, seqs: seqs(60) },
  ];
  t.same([...evictionPlan(rooms, 900, 1000, 1)], [], 'under budget: nothing goes');
  t.same([...evictionPlan(rooms, 1050, 1000, 1)], [['old', 51]], 'a little over: one page of the oldest room');
  t.same([...evictionPlan(rooms, 1000 + 500, 1000, 1)], [['old', 151], ['mid', 11], ['new', 351]], 'far over: the oldest room to its newest page, then the next');
  const all = evictionPlan(rooms, 1e9, 1000, 1);
  t.equal(all.get('new'), 500 - EVICT_PAGE + 1, 'even far over budget each room keeps its newest page');
});

t.test('the localStorage cache migrates whole: every room, message and outbox item, by user', async (t) => {
  const rooms = [room(50), { ...room(3), room: '1-3' }];
  const outbox = [item('a'), item('b')];
  const { users, keys } = fromLocalStorage([
    ['rooms:7', JSON.stringify(rooms)],
    ['outbox:7', JSON.stringify(outbox)],
    ['outbox:9', 'not json'],
    ['me', '{}'],
    ['theme', 'dark'],
  ]);
  t.same(keys.sort(), ['outbox:7', 'outbox:9', 'rooms:7'], 'the chat keys, and no others, are removed after');
  t.same(users.get(7), { rooms, outbox }, 'every cached message and the outbox of user 7');
  t.same(users.get(9), { rooms: [], outbox: [] }, 'a value that does not parse migrates as nothing');
  t.same(mergeOutbox([item('b')], outbox).map((o) => o.clientMsgId), ['b', 'a'], 'items already held stay once, in order');
});

t.test('a pushed message joins its room, or makes one naming the sender', async (t) => {
  const p: PushPayload = { type: 'message', room: '1-2', kind: 'direct', seq: 5, id: 'x5', sender: { id: 2, handle: 'bob', displayName: 'Bob' }, preview: 'hi', trimmed: false, body: 'hi', ts: 5000, recipient: 1 };
  const m = pushedMessage(p)!;
  t.match(m, { id: 'x5', room: '1-2', seq: 5, sender: 2, body: 'hi', ts: 5000 }, 'the whole message');
  t.equal(pushedMessage({ ...p, body: undefined }), null, 'a preview only carries no message');
  const made = roomAfterPush(1, undefined, p, m);
  t.match(made, { user: 1, room: '1-2', active: 5000, data: { lastSeq: 5, members: [{ id: 2 }], people: { 2: { displayName: 'Bob' } } } }, 'a new room knows the sender');
  const { record } = splitRoom(1, room(9));
  t.equal(roomAfterPush(1, record, p, m).data.lastSeq, 9, 'a room ahead keeps its lastSeq');
});
