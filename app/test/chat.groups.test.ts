/**
 * The app's group rules on plain data (docs/protocol.md, "Groups"): what a group's events, its
 * summary and a `group.members` answer do to members, roles, the name and this user's standing;
 * receipts as N of M; who is typing; the sentence each event shows; how a group message and a
 * group request go out. No browser or socket: groups.browser.test.ts runs them against a router.
 */
import t from 'tap';
import type { Message, RoomEvent, RoomSummary } from '../../protocol/frames.ts';
import { apply, TYPING_SHOW_MS, type Effect } from '../src/lib/chat/apply.ts';
import { learn } from '../src/lib/chat/members.ts';
import { outboxItem, sendFrame } from '../src/lib/chat/outbox.ts';
import { Requests, RequestError } from '../src/lib/chat/requests.ts';
import { emptyState, type ChatState, type Room } from '../src/lib/chat/state.ts';
import { eventText, hasOlder, receiptsOf, tickOf, titleOf, typingLine, unreadCount } from '../src/lib/chat/view.ts';

const ME = 1;
const BOB = 2;
const CAROL = 3;
const DAN = 4;
const G = 'g-0192f3c4-0000-7000-8000-000000000001';
const NOW = 1_700_000_000_000;
const ctx = { me: ME, now: NOW };

const people = {
  [ME]: { id: ME, handle: 'me', displayName: 'Me Myself' },
  [BOB]: { id: BOB, handle: 'bob', displayName: 'Bob Builder' },
  [CAROL]: { id: CAROL, handle: 'carol', displayName: 'Carol C' },
  [DAN]: { id: DAN, handle: 'dan', displayName: 'Dan D' },
};

function text(seq: number, sender = BOB): Message {
  return { id: `m${seq}`, room: G, seq, sender, body: `body ${seq}`, clientMsgId: `c${seq}`, ts: NOW - 1000 + seq };
}

function ev(seq: number, event: RoomEvent, sender = ME): Message {
  return { id: `e${seq}`, room: G, seq, sender, body: '', clientMsgId: `ev-${seq}`, ts: NOW - 1000 + seq, kind: 'event', event };
}

const created = ev(1, { type: 'room.created', name: 'Climbing', members: [{ user: ME, role: 'owner' }, { user: BOB, role: 'member' }, { user: CAROL, role: 'member' }] });

function groupSummary(over: Partial<RoomSummary> = {}): RoomSummary {
  return {
    room: G,
    kind: 'group',
    name: 'Climbing',
    members: [
      { ...people[ME], online: true, role: 'owner', joinedSeq: 1 },
      { ...people[BOB], online: true, role: 'member', joinedSeq: 1 },
      { ...people[CAROL], online: false, lastSeen: NOW - 5000, role: 'member', joinedSeq: 1 },
    ],
    lastSeq: 1,
    delivered: {},
    read: {},
    joinedSeq: 1,
    muted: false,
    ...over,
  };
}

/** A state holding the group as a sync left it, with the created entry and the given messages. */
function synced(...messages: Message[]): ChatState {
  const state = emptyState();
  const last = messages.at(-1)?.seq ?? 1;
  apply(state, { type: 'history.page', room: G, messages: [created, ...messages], hasMore: false }, ctx);
  apply(state, { type: 'sync.done', rooms: [groupSummary({ lastSeq: last })] }, ctx);
  return state;
}

const room = (state: ChatState): Room => state.rooms[G]!;
const ids = (state: ChatState) => room(state).members.map((m) => m.id);
const sent = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'send' ? [e.frame] : []));
const lookups = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'lookup' ? [e] : []));

t.test('sync.done of a group', async (t) => {
  t.test('takes its kind, name, members with roles, this user\'s joining and mute', async (t) => {
    const state = emptyState();
    apply(state, { type: 'sync.done', rooms: [groupSummary({ joinedSeq: 1, muted: true })] }, ctx);
    const r = room(state);
    t.same([r.kind, r.name, r.joinedSeq, r.left, r.muted], ['group', 'Climbing', 1, undefined, true], 'kind, name, joinedSeq, not left, muted');
    t.same(r.members.map((m) => [m.id, m.role, m.joinedSeq]), [[ME, 'owner', 1], [BOB, 'member', 1], [CAROL, 'member', 1]], 'members keep role and joinedSeq');
    t.same(r.people?.[CAROL], people[CAROL], 'and their profiles are remembered');
    t.same(state.presence[CAROL], { online: false, lastSeen: NOW - 5000 }, 'presence comes with it');
    t.equal(titleOf(r, ME), 'Climbing', 'the title is the group\'s name');
  });

  t.test('of a group this user was removed from: left, with no members, names kept', async (t) => {
    const state = synced(text(2));
    apply(state, { type: 'sync.done', rooms: [groupSummary({ members: [], lastSeq: 3, left: 3 })] }, ctx);
    t.equal(room(state).left, 3, 'the room says where this user left');
    t.same(ids(state), [], 'no members are shown');
    t.equal(room(state).people?.[BOB]?.displayName, 'Bob Builder', 'names of the past stay known');
  });

  t.test('asks to look up users the held log names but the room does not know', async (t) => {
    const state = emptyState();
    const effects = apply(state, { type: 'history.page', room: G, messages: [created, ev(2, { type: 'member.removed', user: DAN }), text(3, DAN)], hasMore: false }, ctx);
    t.same(lookups(effects), [], 'no lookups before the summary says who the members are');
    const done = apply(state, { type: 'sync.done', rooms: [groupSummary({ lastSeq: 3 })] }, ctx);
    t.same(lookups(done), [{ type: 'lookup', room: G, users: [DAN] }], 'after it, only Dan, who was removed, is looked up');
    learn(room(state), [people[DAN]]);
    t.equal(eventText(room(state), room(state).messages[1] as Message & { event: RoomEvent }, ME), 'You removed Dan D', 'and once learnt, the event names him');
  });
});

t.test('group events in the log', async (t) => {
  t.test('room.created in a room this device does not know: members and name from the entry, then a sync', async (t) => {
    const state = emptyState();
    const effects = apply(state, { type: 'message.new', message: { ...created, sender: BOB, event: { type: 'room.created', name: 'Climbing', members: [{ user: BOB, role: 'owner' }, { user: ME, role: 'member' }] } } }, ctx);
    t.same([room(state).kind, room(state).name, room(state).joinedSeq], ['group', 'Climbing', 1], 'the group exists with its name and my joining');
    t.same(room(state).members.map((m) => [m.id, m.role]), [[BOB, 'owner'], [ME, 'member']], 'members and roles come from the entry');
    t.same(sent(effects).at(-1), { type: 'sync', rooms: [] }, 'a sync brings names and receipts');
  });

  t.test('member.added adds a member who sees from that seq, and looks up a stranger', async (t) => {
    const state = synced(text(2));
    const effects = apply(state, { type: 'message.new', message: ev(3, { type: 'member.added', user: DAN, role: 'member' }) }, ctx);
    t.same(room(state).members.at(-1), { id: DAN, handle: '', displayName: '', role: 'member', joinedSeq: 3 }, 'Dan is a member from seq 3');
    t.same(lookups(effects), [{ type: 'lookup', room: G, users: [DAN] }], 'his profile is looked up');
    learn(room(state), [people[DAN]]);
    t.equal(room(state).members.at(-1)!.displayName, 'Dan D', 'the looked-up profile fills the member in');
  });

  t.test('member.removed and member.left take members out and end their typing', async (t) => {
    const state = synced(text(2));
    room(state).typing[BOB] = NOW + 1000;
    apply(state, { type: 'message.new', message: ev(3, { type: 'member.removed', user: BOB }) }, ctx);
    apply(state, { type: 'message.new', message: ev(4, { type: 'member.left', user: CAROL }, CAROL) }, ctx);
    t.same(ids(state), [ME], 'only I am left');
    t.same(room(state).typing, {}, 'Bob no longer shows as typing');
    t.equal(room(state).left, undefined, 'and I am still in the group');
  });

  t.test('my own removal ends my membership at its seq', async (t) => {
    const state = synced(text(2));
    apply(state, { type: 'message.new', message: ev(3, { type: 'member.removed', user: ME }, BOB) }, ctx);
    t.equal(room(state).left, 3, 'left at seq 3');
    t.same(ids(state), [], 'no members are shown any more');
  });

  t.test('being added back asks for the current members', async (t) => {
    const state = synced(text(2));
    apply(state, { type: 'message.new', message: ev(3, { type: 'member.left', user: ME }) }, ctx);
    const effects = apply(state, { type: 'message.new', message: ev(7, { type: 'member.added', user: ME, role: 'member' }, BOB) }, ctx);
    t.same([room(state).left, room(state).joinedSeq], [undefined, 7], 'a member again, from seq 7');
    t.ok(sent(effects).some((f) => f.type === 'group.members' && f.room === G), 'the member list is asked for');
  });

  t.test('member.role and room.renamed change the role and the name', async (t) => {
    const state = synced();
    apply(state, { type: 'message.new', message: ev(2, { type: 'member.role', user: BOB, role: 'admin' }) }, ctx);
    apply(state, { type: 'message.new', message: ev(3, { type: 'room.renamed', name: 'Bouldering' }, BOB) }, ctx);
    t.equal(room(state).members.find((m) => m.id === BOB)!.role, 'admin', 'Bob is an admin');
    t.equal(room(state).name, 'Bouldering', 'the group has its new name');
  });

  t.test('an older history page does not undo later changes', async (t) => {
    const state = synced(text(2));
    apply(state, { type: 'message.new', message: ev(5, { type: 'member.removed', user: CAROL }) }, ctx);
    apply(state, { type: 'history.page', room: G, messages: [ev(3, { type: 'member.added', user: CAROL, role: 'member' }), ev(4, { type: 'room.renamed', name: 'Old name' })], hasMore: false }, ctx);
    t.same(ids(state), [ME, BOB], 'Carol, removed at seq 5, is not brought back by the entry at seq 3');
    t.equal(room(state).name, 'Climbing', 'nor the name by the rename at seq 4');
    t.same(room(state).messages.map((m) => m.seq), [1, 2, 3, 4, 5], 'yet every entry shows, in seq order');
  });

  t.test('a summary older than applied events keeps the newer members', async (t) => {
    const state = synced(text(2));
    apply(state, { type: 'message.new', message: ev(3, { type: 'member.removed', user: CAROL }) }, ctx);
    apply(state, { type: 'sync.done', rooms: [groupSummary({ lastSeq: 2 })] }, ctx);
    t.same(ids(state), [ME, BOB], 'the summary as of seq 2 does not bring Carol back');
  });
});

t.test('group.members', async (t) => {
  t.test('replaces the members and moves watermarks up', async (t) => {
    const state = synced(text(2), text(3, ME));
    room(state).read[BOB] = 3;
    apply(state, {
      type: 'group.members', room: G, name: 'Climbing', lastSeq: 3,
      members: [
        { ...people[ME], role: 'owner', joinedSeq: 1, delivered: 3, read: 3 },
        { ...people[BOB], role: 'admin', joinedSeq: 1, delivered: 3, read: 2 },
      ],
    }, ctx);
    t.same(room(state).members.map((m) => [m.id, m.role]), [[ME, 'owner'], [BOB, 'admin']], 'members and roles as answered');
    t.same([room(state).delivered[BOB], room(state).read[BOB]], [3, 3], 'a lower read watermark does not move Bob\'s back');
  });

  t.test('an answer older than an applied event leaves the members', async (t) => {
    const state = synced(text(2));
    apply(state, { type: 'message.new', message: ev(3, { type: 'member.removed', user: CAROL }) }, ctx);
    apply(state, { type: 'group.members', room: G, name: 'Climbing', lastSeq: 2, members: [{ ...people[CAROL], role: 'member', joinedSeq: 1, delivered: 0, read: 0 }] }, ctx);
    t.same(ids(state), [ME, BOB], 'the stale answer is not taken');
  });
});

t.test('receipts: N of M', async (t) => {
  t.test('count the members other than the sender who joined at or before the message', async (t) => {
    const state = synced(text(2, ME));
    apply(state, { type: 'message.new', message: ev(3, { type: 'member.added', user: DAN, role: 'member' }) }, ctx);
    const r = room(state);
    const mine = r.messages[1]!;
    t.equal(receiptsOf(r, mine).total, 2, 'Bob and Carol, not me, not Dan who joined after it');
    t.equal(tickOf(r, mine, ME), 'sent', 'nobody has it yet: one tick');
    apply(state, { type: 'receipt', room: G, user: BOB, kind: 'read', seq: 2 }, ctx);
    apply(state, { type: 'receipt', room: G, user: CAROL, kind: 'delivered', seq: 3 }, ctx);
    const now = receiptsOf(r, mine);
    t.same([now.delivered.map((m) => m.id), now.read.map((m) => m.id)], [[BOB, CAROL], [BOB]], 'delivered to 2 of 2, read by 1 of 2 (Bob)');
    t.equal(tickOf(r, mine, ME), 'delivered', 'two ticks while not everyone read it');
    apply(state, { type: 'receipt', room: G, user: CAROL, kind: 'read', seq: 3 }, ctx);
    t.equal(tickOf(r, mine, ME), 'read', 'read once everyone it was for read it');
    apply(state, { type: 'message.new', message: ev(4, { type: 'member.removed', user: BOB }) }, ctx);
    apply(state, { type: 'message.new', message: ev(5, { type: 'member.removed', user: CAROL }) }, ctx);
    t.equal(receiptsOf(r, mine).total, 0, 'once Bob and Carol are gone it is for nobody now');
    t.equal(tickOf(r, mine, ME), 'read', 'yet it keeps the ticks it earned');
  });

  t.test('unread counts text messages from others, not events', async (t) => {
    const state = synced(text(2), ev(3, { type: 'member.added', user: DAN, role: 'member' }, BOB), text(4, ME));
    t.equal(unreadCount(room(state), ME), 1, 'Bob\'s message only');
  });

  t.test('there is nothing older than the seq this user joined at', async (t) => {
    const state = synced();
    room(state).joinedSeq = 5;
    room(state).messages = [text(5), text(6)];
    t.notOk(hasOlder(room(state)), 'no page before seq 5 is asked for');
  });
});

t.test('typing in a group', async (t) => {
  t.test('shows each member typing, by name', async (t) => {
    const state = synced();
    apply(state, { type: 'typing', room: G, user: BOB, active: true }, ctx);
    t.equal(typingLine(room(state), NOW), 'Bob is typing…', 'one');
    apply(state, { type: 'typing', room: G, user: CAROL, active: true }, { me: ME, now: NOW + 1000 });
    t.equal(typingLine(room(state), NOW + 1000), 'Bob and Carol are typing…', 'two');
    apply(state, { type: 'typing', room: G, user: DAN, active: true }, ctx);
    t.equal(typingLine(room(state), NOW), '3 people are typing…', 'three');
    t.equal(typingLine(room(state), NOW + 1000 + TYPING_SHOW_MS + 1), null, 'and nobody once it lapsed');
  });
});

t.test('event sentences', async (t) => {
  const state = synced();
  const r = room(state);
  const say = (event: RoomEvent, sender = ME) => eventText(r, ev(9, event, sender) as Message & { event: RoomEvent }, ME);
  t.equal(say(created.event as RoomEvent), 'You created the group “Climbing”', 'created');
  t.equal(say({ type: 'room.renamed', name: 'X' }, BOB), 'Bob Builder renamed the group to “X”', 'renamed');
  t.equal(say({ type: 'member.added', user: CAROL, role: 'member' }, BOB), 'Bob Builder added Carol C', 'added');
  t.equal(say({ type: 'member.added', user: ME, role: 'member' }, BOB), 'Bob Builder added you', 'added me');
  t.equal(say({ type: 'member.removed', user: BOB }), 'You removed Bob Builder', 'removed');
  t.equal(say({ type: 'member.left', user: CAROL }, CAROL), 'Carol C left', 'left');
  t.equal(say({ type: 'member.role', user: BOB, role: 'admin' }), 'You made Bob Builder an admin', 'promoted');
  t.equal(say({ type: 'member.role', user: ME, role: 'owner' }, BOB), 'You are now the owner', 'made owner');
  t.equal(say({ type: 'member.added', user: 99, role: 'member' }), 'You added Someone', 'a user not known yet');
});

t.test('sending to a group', async (t) => {
  t.test('goes by room id; a 1:1 message by recipient', async (t) => {
    const group = outboxItem(G, undefined, 'hi all', 'c1', NOW)!;
    const direct = outboxItem('1-2', BOB, 'hi', 'c2', NOW)!;
    t.same(sendFrame(group), { type: 'message.send', clientMsgId: 'c1', body: 'hi all', room: G }, 'the group message names the room');
    t.same(sendFrame(direct), { type: 'message.send', clientMsgId: 'c2', body: 'hi', to: BOB }, 'the 1:1 message names the recipient');
  });

  t.test('a removed sender\'s message leaves the outbox (room_not_found is final)', async (t) => {
    const state = synced();
    state.outbox = [outboxItem(G, undefined, 'too late', 'c9', NOW)!];
    apply(state, { type: 'error', code: 'room_not_found', message: 'no such room', ref: 'c9' }, ctx);
    t.same(state.outbox, [], 'it is dropped');
  });
});

t.test('group requests', async (t) => {
  const socket = (ok = true) => {
    const frames: unknown[] = [];
    return { frames, send: (f: unknown) => (frames.push(f), ok) };
  };

  t.test('resolve with the answer that carries their ref', async (t) => {
    const requests = new Requests();
    const s = socket();
    const done = requests.send(s, { type: 'group.rename', room: G, name: 'New' });
    const ref = (s.frames[0] as { ref: string }).ref;
    t.match(s.frames[0], { type: 'group.rename', room: G, name: 'New', ref: String }, 'the request goes out with a ref');
    requests.settle({ type: 'group.done', ref: 'other', room: G, seq: 1 });
    requests.settle({ type: 'group.done', ref, room: G, seq: 4 });
    t.same(await done, { type: 'group.done', ref, room: G, seq: 4 }, 'its own answer settles it');
  });

  t.test('reject with the error that carries their ref', async (t) => {
    const requests = new Requests();
    const s = socket();
    const done = requests.send(s, { type: 'group.remove', room: G, user: BOB });
    requests.settle({ type: 'error', code: 'not_admin', message: 'only admins', ref: (s.frames[0] as { ref: string }).ref });
    await t.rejects(done, { code: 'not_admin', message: 'Only the owner or an admin can do that.' }, 'with the code and words a person understands');
  });

  t.test('fail when the socket cannot take them or goes away', async (t) => {
    const requests = new Requests();
    const refused = await requests.send(socket(false), { type: 'group.leave', room: G }).catch((e: unknown) => e);
    t.ok(refused instanceof RequestError && refused.code === 'offline', 'offline at once');
    const waiting = requests.send(socket(), { type: 'group.leave', room: G });
    requests.failAll();
    await t.rejects(waiting, { code: 'offline' }, 'and when the socket drops');
  });
});
