/**
 * The app's chat rules (app/src/lib/chat/apply.ts) on plain data: what each server frame does to
 * the rooms, the outbox and presence, and which effects (frames to send, cache writes, reads) it
 * asks the store for. No browser, socket or clock: time is a parameter. The same rules in Chromium
 * against a real router are pwa.browser.test.ts.
 */
import t from 'tap';
import type { Message, RoomSummary, ServerFrame } from '../../protocol/frames.ts';
import { LIMITS } from '../../protocol/frames.ts';
import { apply, TYPING_SHOW_MS, type Effect } from '../src/lib/chat/apply.ts';
import type { OutboxItem } from '../src/lib/chat/outbox.ts';
import { emptyRoom, emptyState, type ChatState } from '../src/lib/chat/state.ts';

const ME = 1;
const BOB = 2;
const ROOM = '1-2';
const NOW = 1_700_000_000_000;
const ctx = { me: ME, now: NOW };

function msg(seq: number, sender = BOB, room = ROOM): Message {
  return { id: `m${room}:${seq}`, room, seq, sender, body: `body ${seq}`, clientMsgId: `c${room}:${seq}`, ts: NOW - 1000 + seq };
}

/** A state holding ROOM with the messages of the given seqs. */
function withRoom(...seqs: number[]): ChatState {
  const state = emptyState();
  state.rooms[ROOM] = { ...emptyRoom(ROOM, [{ id: ME, handle: 'me', displayName: 'Me' }, { id: BOB, handle: 'bob', displayName: 'Bob' }]), messages: seqs.map((s) => msg(s)), lastSeq: seqs.at(-1) ?? 0 };
  return state;
}

const seqs = (state: ChatState, room = ROOM) => state.rooms[room]!.messages.map((m) => m.seq);
const sent = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'send' ? [e.frame] : []));
const kinds = (effects: Effect[]) => effects.map((e) => e.type);

function pending(clientMsgId: string): OutboxItem {
  return { clientMsgId, room: ROOM, to: BOB, body: `draft ${clientMsgId}`, createdAt: NOW - 5000 };
}

function summary(over: Partial<RoomSummary> = {}): RoomSummary {
  return {
    room: ROOM,
    members: [
      { id: ME, handle: 'me', displayName: 'Me', online: true },
      { id: BOB, handle: 'bob', displayName: 'Bob B', online: false, lastSeen: NOW - 60_000 },
    ],
    lastSeq: 5,
    delivered: {},
    read: {},
    ...over,
  };
}

t.test('message.new', async (t) => {
  t.test('adds a message from someone else, acks it, asks to read it and to save', async (t) => {
    const state = withRoom(1, 2);
    const effects = apply(state, { type: 'message.new', message: msg(3) }, ctx);
    t.same(seqs(state), [1, 2, 3], 'the message joins the room in seq order');
    t.equal(state.rooms[ROOM]!.lastSeq, 3, 'the room\'s last seq moves to it');
    t.same(sent(effects), [{ type: 'message.ack', room: ROOM, seq: 3 }], 'it is acked up to the last contiguous seq');
    t.same(kinds(effects), ['send', 'read', 'save'], 'then read if on screen, then the cache is written');
  });

  t.test('keeps a message it holds already only once, whatever arrives twice', async (t) => {
    const state = withRoom(1, 2, 3);
    const first = state.rooms[ROOM]!.messages[2]!;
    apply(state, { type: 'message.new', message: { ...msg(3), body: 'a replayed copy' } }, ctx);
    apply(state, { type: 'message.new', message: msg(3) }, ctx);
    t.same(seqs(state), [1, 2, 3], 'no message shows twice');
    t.equal(new Set(state.rooms[ROOM]!.messages.map((m) => m.id)).size, 3, 'every id is held once');
    t.equal(state.rooms[ROOM]!.messages[2], first, 'the message held first stays');
  });

  t.test('after a gap, asks history for what is missing after the last contiguous seq', async (t) => {
    const state = withRoom(1, 2, 3);
    const effects = apply(state, { type: 'message.new', message: msg(7) }, ctx);
    t.same(seqs(state), [1, 2, 3, 7], 'the live message shows at once');
    t.same(sent(effects), [
      { type: 'message.ack', room: ROOM, seq: 3 },
      { type: 'history.get', room: ROOM, after: 3, limit: LIMITS.historyPageMax },
    ], 'the ack stops at the gap and a history.get asks for what comes after seq 3');
  });

  t.test('asks for no history when the next seq arrives', async (t) => {
    const effects = apply(withRoom(1, 2), { type: 'message.new', message: msg(3) }, ctx);
    t.notOk(sent(effects).some((f) => f.type === 'history.get'), 'no history.get without a gap');
  });

  t.test('in a room it does not know, creates the room and asks for a sync', async (t) => {
    const state = emptyState();
    const effects = apply(state, { type: 'message.new', message: msg(1, BOB, '2-9') }, ctx);
    t.same(seqs(state, '2-9'), [1], 'the room exists with the message');
    t.same(sent(effects).at(-1), { type: 'sync', rooms: [] }, 'a sync brings the room\'s members and receipts');
  });

  t.test('own messages (from another device) are neither acked nor read', async (t) => {
    const effects = apply(withRoom(1), { type: 'message.new', message: msg(2, ME) }, ctx);
    t.same(kinds(effects), ['save'], 'only the cache is written');
  });

  t.test('takes its own message out of the outbox by clientMsgId', async (t) => {
    const state = withRoom(1);
    state.outbox = [pending(`c${ROOM}:2`), pending('other')];
    const effects = apply(state, { type: 'message.new', message: msg(2, ME) }, ctx);
    t.same(state.outbox.map((o) => o.clientMsgId), ['other'], 'the stored message leaves the outbox, the rest stays in order');
    t.ok(kinds(effects).includes('saveOutbox'), 'and the outbox is written');
  });

  t.test('a message from the other member ends their typing', async (t) => {
    const state = withRoom(1);
    state.rooms[ROOM]!.typing[BOB] = NOW + 5000;
    apply(state, { type: 'message.new', message: msg(2) }, ctx);
    t.same(state.rooms[ROOM]!.typing, {}, 'typing stops showing');
  });
});

t.test('message.sent', async (t) => {
  t.test('turns the outbox item into the stored message, sent by me', async (t) => {
    const state = withRoom(1);
    state.outbox = [pending('x1')];
    const effects = apply(state, { type: 'message.sent', ref: 'x1', room: ROOM, id: 'mid', seq: 2, ts: NOW, duplicate: false }, ctx);
    t.same(state.rooms[ROOM]!.messages.at(-1), { id: 'mid', room: ROOM, seq: 2, sender: ME, body: 'draft x1', clientMsgId: 'x1', ts: NOW }, 'the message holds the draft\'s body and the server\'s seq and time');
    t.same(state.outbox, [], 'the outbox is empty');
    t.same(kinds(effects), ['saveOutbox', 'save'], 'nothing is acked (it is mine); outbox and cache are written');
  });

  t.test('is ignored for a clientMsgId not in the outbox', async (t) => {
    const state = withRoom(1);
    const effects = apply(state, { type: 'message.sent', ref: 'gone', room: ROOM, id: 'mid', seq: 2, ts: NOW, duplicate: true }, ctx);
    t.same(seqs(state), [1], 'no message appears');
    t.same(effects, [], 'and nothing happens');
  });
});

t.test('history.page', async (t) => {
  t.test('merges a page into the messages held, sorted by seq whatever order the page comes in', async (t) => {
    for (const [order, page] of [
      ['ascending', [1, 2, 3, 4]],
      ['descending', [4, 3, 2, 1]],
      ['shuffled', [3, 1, 4, 2]],
    ] as const) {
      const state = withRoom(3, 5, 6);
      apply(state, { type: 'history.page', room: ROOM, messages: page.map((s) => msg(s)), hasMore: false }, ctx);
      t.same(seqs(state), [1, 2, 3, 4, 5, 6], `a page in ${order} order fills the room in seq order, each once`);
    }
  });

  t.test('ends the loading of older messages, even for an empty page', async (t) => {
    const state = withRoom(5);
    state.rooms[ROOM]!.loadingOlder = true;
    const effects = apply(state, { type: 'history.page', room: ROOM, messages: [], hasMore: false }, ctx);
    t.equal(state.rooms[ROOM]!.loadingOlder, false, 'the spinner stops');
    t.same(effects, [], 'an empty page changes nothing else');
  });

  t.test('acks up to the last contiguous seq once a page closes a gap', async (t) => {
    const state = withRoom(1, 2, 5);
    const effects = apply(state, { type: 'history.page', room: ROOM, messages: [msg(4), msg(3)], hasMore: false }, ctx);
    t.same(sent(effects), [{ type: 'message.ack', room: ROOM, seq: 5 }], 'the ack covers everything held');
  });
});

t.test('hello', async (t) => {
  t.test('asks for a sync from each room\'s last contiguous seq', async (t) => {
    const state = withRoom(1, 2, 4);
    state.rooms['1-3'] = emptyRoom('1-3');
    const effects = apply(state, { type: 'hello', v: 1, user: { id: ME, handle: 'me', displayName: 'Me' }, connectionId: 'c', limits: LIMITS }, ctx);
    t.same(sent(effects), [{ type: 'sync', ref: 'sync', rooms: [{ room: ROOM, lastSeq: 2 }] }], 'rooms with messages resync after their gap; empty rooms are not listed');
  });
});

t.test('sync.done', async (t) => {
  t.test('creates rooms it did not know, with members, watermarks and presence', async (t) => {
    const state = emptyState();
    const effects = apply(state, { type: 'sync.done', ref: 'sync', rooms: [summary({ delivered: { [BOB]: 4 }, read: { [BOB]: 3 } })] }, ctx);
    const room = state.rooms[ROOM]!;
    t.same(room.members, [{ id: ME, handle: 'me', displayName: 'Me' }, { id: BOB, handle: 'bob', displayName: 'Bob B' }], 'members are kept without their presence');
    t.same([room.lastSeq, room.delivered, room.read, room.messages], [5, { [BOB]: 4 }, { [BOB]: 3 }, []], 'with the room\'s last seq and receipts, and no messages yet');
    t.same(state.presence, { [ME]: { online: true }, [BOB]: { online: false, lastSeen: NOW - 60_000 } }, 'presence comes from the summary');
    t.same(kinds(effects), ['save', 'flush'], 'then the cache is written and the outbox goes out');
  });

  t.test('updates known rooms: new members replace old, watermarks only move up', async (t) => {
    const state = withRoom(1, 2, 3, 4, 5, 6, 7);
    Object.assign(state.rooms[ROOM]!, { delivered: { [BOB]: 6 }, read: { [BOB]: 2 } });
    apply(state, { type: 'sync.done', rooms: [summary({ lastSeq: 5, delivered: { [BOB]: 4 }, read: { [BOB]: 4, [ME]: 7 } })] }, ctx);
    const room = state.rooms[ROOM]!;
    t.equal(room.members[1]!.displayName, 'Bob B', 'the members come from the summary');
    t.equal(room.lastSeq, 7, 'an older last seq does not move the room back');
    t.same(room.delivered, { [BOB]: 6 }, 'a lower delivered watermark is ignored');
    t.same(room.read, { [BOB]: 4, [ME]: 7 }, 'higher read watermarks are taken');
    t.same(seqs(state), [1, 2, 3, 4, 5, 6, 7], 'the messages stay');
  });
});

t.test('receipt', async (t) => {
  t.test('moves a watermark up, never down', async (t) => {
    const state = withRoom(1, 2, 3);
    apply(state, { type: 'receipt', room: ROOM, user: BOB, kind: 'delivered', seq: 3 }, ctx);
    apply(state, { type: 'receipt', room: ROOM, user: BOB, kind: 'delivered', seq: 2 }, ctx);
    t.equal(state.rooms[ROOM]!.delivered[BOB], 3, 'a late lower receipt does not move delivered back');
    apply(state, { type: 'receipt', room: ROOM, user: BOB, kind: 'read', seq: 2 }, ctx);
    apply(state, { type: 'receipt', room: ROOM, user: BOB, kind: 'read', seq: 1 }, ctx);
    t.equal(state.rooms[ROOM]!.read[BOB], 2, 'nor read');
  });

  t.test('read implies delivered', async (t) => {
    const state = withRoom(1, 2, 3);
    const effects = apply(state, { type: 'receipt', room: ROOM, user: BOB, kind: 'read', seq: 3 }, ctx);
    t.same([state.rooms[ROOM]!.read[BOB], state.rooms[ROOM]!.delivered[BOB]], [3, 3], 'a read receipt also sets delivered');
    t.same(kinds(effects), ['save'], 'and the cache is written');
  });

  t.test('a delivered receipt does not imply read', async (t) => {
    const state = withRoom(1, 2, 3);
    apply(state, { type: 'receipt', room: ROOM, user: BOB, kind: 'delivered', seq: 3 }, ctx);
    t.equal(state.rooms[ROOM]!.read[BOB], undefined, 'read stays unset');
  });

  t.test('is ignored for an unknown room', async (t) => {
    const state = emptyState();
    t.same(apply(state, { type: 'receipt', room: ROOM, user: BOB, kind: 'read', seq: 3 }, ctx), [], 'no effects');
    t.same(state.rooms, {}, 'and no room appears');
  });
});

t.test('typing', async (t) => {
  t.test('shows the other member typing for TYPING_SHOW_MS from the time given', async (t) => {
    const state = withRoom(1);
    apply(state, { type: 'typing', room: ROOM, user: BOB, active: true }, ctx);
    t.same(state.rooms[ROOM]!.typing, { [BOB]: NOW + TYPING_SHOW_MS }, 'typing shows until now + TYPING_SHOW_MS');
    apply(state, { type: 'typing', room: ROOM, user: BOB, active: false }, { me: ME, now: NOW + 1000 });
    t.same(state.rooms[ROOM]!.typing, {}, 'and stops when they stop');
  });

  t.test('ignores my own typing from another device', async (t) => {
    const state = withRoom(1);
    apply(state, { type: 'typing', room: ROOM, user: ME, active: true }, ctx);
    t.same(state.rooms[ROOM]!.typing, {}, 'I never see myself typing');
  });
});

t.test('error', async (t) => {
  t.test('with ref older:<room> stops that room\'s loading of older messages', async (t) => {
    const state = withRoom(5);
    state.rooms[ROOM]!.loadingOlder = true;
    const effects = apply(state, { type: 'error', code: 'rate_limited', message: 'slow down', ref: `older:${ROOM}` }, ctx);
    t.equal(state.rooms[ROOM]!.loadingOlder, false, 'the spinner stops, so scrolling can ask again');
    t.same(effects, [], 'nothing else happens');
  });

  t.test('a final refusal of a send takes it out of the outbox', async (t) => {
    const state = withRoom(1);
    state.outbox = [pending('a'), pending('b')];
    const effects = apply(state, { type: 'error', code: 'body_too_long', message: 'too long', ref: 'a' }, ctx);
    t.same(state.outbox.map((o) => o.clientMsgId), ['b'], 'the refused message leaves the outbox');
    t.same(kinds(effects), ['saveOutbox'], 'and the outbox is written');
  });

  t.test('a passing refusal keeps the send for a retry', async (t) => {
    const state = withRoom(1);
    state.outbox = [pending('a')];
    const effects = apply(state, { type: 'error', code: 'rate_limited', message: 'slow down', ref: 'a' }, ctx);
    t.equal(state.outbox.length, 1, 'the message stays in the outbox');
    t.same(effects, [], 'nothing is written');
  });
});

t.test('presence', async (t) => {
  t.test('keeps online, or offline with the last-seen time', async (t) => {
    const state = emptyState();
    apply(state, { type: 'presence', user: BOB, online: true }, ctx);
    t.same(state.presence[BOB], { online: true }, 'online');
    apply(state, { type: 'presence', user: BOB, online: false, lastSeen: NOW }, ctx);
    t.same(state.presence[BOB], { online: false, lastSeen: NOW }, 'then offline since NOW');
  });
});

t.test('user.updated', async (t) => {
  t.test('renames the user wherever a room shows them, and keeps their role', async (t) => {
    const state = withRoom(1);
    state.rooms['g-1'] = { ...emptyRoom('g-1', [{ id: ME, handle: 'me', displayName: 'Me', role: 'owner' }, { id: BOB, handle: 'bob', displayName: 'Bob', role: 'admin', joinedSeq: 1 }]), kind: 'group', people: { [BOB]: { id: BOB, handle: 'bob', displayName: 'Bob' } } };
    state.rooms['3-4'] = emptyRoom('3-4', [{ id: 3, handle: 'cy', displayName: 'Cy' }, { id: 4, handle: 'di', displayName: 'Di' }]);
    const effects = apply(state, { type: 'user.updated', user: { id: BOB, handle: 'bob', displayName: 'Robert' } }, ctx);
    t.equal(state.rooms[ROOM]!.members.find((m) => m.id === BOB)?.displayName, 'Robert', 'the 1:1 room shows the new name');
    t.match(state.rooms['g-1']!.members.find((m) => m.id === BOB), { displayName: 'Robert', role: 'admin', joinedSeq: 1 }, 'the group too, role and joining kept');
    t.equal(state.rooms['g-1']!.people?.[BOB]?.displayName, 'Robert', 'and the people it has seen');
    t.same(state.rooms['3-4']!.members.map((m) => m.displayName), ['Cy', 'Di'], 'a room without them is untouched');
    t.same(kinds(effects), ['save'], 'the cache is written');
  });

  t.test('a new photo shows, and a removed one goes, wherever the user is shown', async (t) => {
    const state = withRoom(1);
    const photo = '/api/avatars/0190a0a0-0000-7000-8000-000000000001';
    apply(state, { type: 'user.updated', user: { id: BOB, handle: 'bob', displayName: 'Bob', avatarUrl: photo } }, ctx);
    t.equal(state.rooms[ROOM]!.members.find((m) => m.id === BOB)?.avatarUrl, photo, 'the photo is taken');
    apply(state, { type: 'user.updated', user: { id: BOB, handle: 'bob', displayName: 'Bob' } }, ctx);
    t.notOk('avatarUrl' in state.rooms[ROOM]!.members.find((m) => m.id === BOB)!, 'a profile without one removes the old photo');
  });

  t.test('a former member\'s name as a sender changes too; a stranger changes nothing', async (t) => {
    const state = emptyState();
    state.rooms['g-2'] = { ...emptyRoom('g-2'), kind: 'group', people: { 7: { id: 7, handle: 'gone', displayName: 'Gone' } } };
    apply(state, { type: 'user.updated', user: { id: 7, handle: 'gone', displayName: 'Back' } }, ctx);
    t.equal(state.rooms['g-2']!.people?.[7]?.displayName, 'Back', 'the sender of old messages shows the new name');
    t.same(apply(state, { type: 'user.updated', user: { id: 99, handle: 'x', displayName: 'X' } }, ctx), [], 'nobody known: no effect');
  });
});

t.test('pong changes nothing', async (t) => {
  const state = withRoom(1);
  const before = structuredClone(state);
  const frame: ServerFrame = { type: 'pong' };
  t.same(apply(state, frame, ctx), [], 'no effects');
  t.same(state, before, 'and the state is as it was');
});
