/**
 * The app's rules for message actions on plain data (app/src/lib/chat/changes.ts through apply.ts,
 * docs/protocol.md "Message actions"): change entries of the log edit, delete and react to the
 * message they name only when newer than its `rev`, are never shown, counted or previewed, and the
 * same state results whatever order live entries and history pages come in. Deleting "for me"
 * hides. Replies and forwards go out through the outbox. The same in Chromium: actions.browser.test.ts.
 */
import t from 'tap';
import type { ClientFrame, Message, MessageChange, Reaction } from '../../protocol/frames.ts';
import { apply, type Effect } from '../src/lib/chat/apply.ts';
import { isFinalRefusal, outboxItem, sendFrame } from '../src/lib/chat/outbox.ts';
import { RequestError, Requests } from '../src/lib/chat/requests.ts';
import { emptyRoom, emptyState, type ChatState, type Room } from '../src/lib/chat/state.ts';
import { canDeleteForAll, canEdit, chipsOf, lastEditable, shownIn, unreadCount } from '../src/lib/chat/view.ts';

const ME = 1;
const BOB = 2;
const ROOM = '1-2';
const NOW = 1_700_000_000_000;
const ctx = { me: ME, now: NOW };
const WINDOW = 48 * 3600_000;

function msg(seq: number, sender = BOB, over: Partial<Message> = {}): Message {
  return { id: `m${seq}`, room: ROOM, seq, sender, body: `body ${seq}`, clientMsgId: `c${seq}`, ts: NOW - 100_000 + seq, ...over };
}

function change(seq: number, event: MessageChange, sender = BOB): Message {
  return { id: `m${seq}`, room: ROOM, seq, sender, body: '', clientMsgId: `x${seq}`, ts: NOW - 100_000 + seq, kind: 'event', event };
}
const edit = (seq: number, target: number, body: string, sender = BOB) => change(seq, { type: 'message.edited', seq: target, body }, sender);
const del = (seq: number, target: number, sender = BOB) => change(seq, { type: 'message.deleted', seq: target }, sender);
const react = (seq: number, target: number, emoji: Reaction, on: boolean, sender = BOB) => change(seq, { type: 'message.reacted', seq: target, emoji, on }, sender);

function state(): ChatState {
  const s = emptyState();
  s.rooms[ROOM] = emptyRoom(ROOM, [{ id: ME, handle: 'me', displayName: 'Me' }, { id: BOB, handle: 'bob', displayName: 'Bob B' }]);
  return s;
}
const room = (s: ChatState): Room => s.rooms[ROOM]!;
const live = (s: ChatState, ...ms: Message[]) => ms.flatMap((m) => apply(s, { type: 'message.new', message: m }, ctx));
const page = (s: ChatState, ...ms: Message[]) => apply(s, { type: 'history.page', room: ROOM, messages: ms, hasMore: false }, ctx);
const at = (s: ChatState, seq: number) => room(s).messages.find((m) => m.seq === seq)!;
const sent = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'send' ? [e.frame] : []));
/** What the screen is made of: the messages shown, with everything a bubble renders. */
const screen = (s: ChatState) => shownIn(room(s)).map(({ seq, body, editedAt, deleted, reactions, replyTo, forwarded }) => ({ seq, body, editedAt, deleted, reactions, replyTo, forwarded }));

t.test('an edit', async (t) => {
  t.test('replaces the body, says when, and moves rev to its seq', async (t) => {
    const s = state();
    live(s, msg(1), msg(2, ME));
    live(s, edit(3, 1, 'fixed'));
    t.equal(at(s, 1).body, 'fixed', 'the body is the edited one');
    t.equal(at(s, 1).editedAt, edit(3, 1, '').ts, 'editedAt is the entry\'s time');
    t.equal(at(s, 1).rev, 3, 'rev is the entry\'s seq');
    t.same(shownIn(room(s)).map((m) => m.seq), [1, 2], 'the entry itself is never a bubble');
    t.same(room(s).messages.map((m) => m.seq), [1, 2, 3], 'but it is held in the log, so seqs stay contiguous');
  });

  t.test('at or below the message\'s rev changes nothing (a page read after it came first)', async (t) => {
    const s = state();
    page(s, msg(1, BOB, { body: 'second', rev: 4, editedAt: 44 }), edit(2, 1, 'stale'), msg(3, ME), edit(4, 1, 'second'));
    t.equal(at(s, 1).body, 'second', 'the current state stays');
    t.equal(at(s, 1).editedAt, 44, 'with its own editedAt');
    live(s, edit(2, 1, 'stale'));
    t.equal(at(s, 1).body, 'second', 'a replayed older edit is a no-op');
  });

  t.test('updates the quote of replies to it', async (t) => {
    const s = state();
    live(s, msg(1), msg(2, ME, { replyTo: { seq: 1, sender: BOB, preview: 'body 1' } }));
    live(s, edit(3, 1, 'x'.repeat(300)));
    t.equal(at(s, 2).replyTo?.preview, 'x'.repeat(100), 'the reply quotes the new body, cut to the preview length');
  });
});

t.test('a deletion for everyone', async (t) => {
  t.test('leaves a tombstone: no body, no reactions; replies to it say deleted', async (t) => {
    const s = state();
    live(s, msg(1, BOB, { replyTo: { seq: 1, sender: ME, preview: 'q' } }), msg(2, ME, { replyTo: { seq: 1, sender: BOB, preview: 'body 1' } }), react(3, 1, '👍', true, ME));
    live(s, del(4, 1));
    const m = at(s, 1);
    t.same({ body: m.body, deleted: m.deleted, reactions: m.reactions, rev: m.rev }, { body: '', deleted: true, reactions: undefined, rev: 4 }, 'the message is a tombstone at rev 4');
    t.same(at(s, 2).replyTo, { seq: 1, sender: BOB, preview: '', deleted: true }, 'the reply\'s quote says deleted');
    live(s, del(5, 1), edit(6, 1, 'too late'), react(7, 1, '🔥', true));
    t.equal(at(s, 1).body, '', 'nothing brings the body back');
    t.notOk(at(s, 1).reactions, 'nor reactions');
  });
});

t.test('reactions', async (t) => {
  t.test('toggle per sender and emoji, in order of reacting', async (t) => {
    const s = state();
    live(s, msg(1, ME), react(2, 1, '👍', true), react(3, 1, '👍', true, ME), react(4, 1, '❤️', true, ME), react(5, 1, '👍', true));
    t.same(at(s, 1).reactions, { '👍': [BOB, ME], '❤️': [ME] }, 'each user counts once per emoji');
    live(s, react(6, 1, '👍', false), react(7, 1, '❤️', false, ME));
    t.same(at(s, 1).reactions, { '👍': [ME] }, 'taking one off removes only that user, and empty emoji go');
    live(s, react(8, 1, '👍', false, ME));
    t.equal(at(s, 1).reactions, undefined, 'no reactions left: none at all');
    t.same(chipsOf(room(s), { ...at(s, 1), reactions: { '❤️': [BOB], '👍': [ME, BOB] } }, ME), [
      { emoji: '👍', count: 2, mine: true, names: ['You', 'Bob B'] },
      { emoji: '❤️', count: 1, mine: false, names: ['Bob B'] },
    ], 'chips come in the offered order, with who reacted');
  });
});

t.test('a change entry is never shown, previewed, counted unread or a reason to stop typing', async (t) => {
  const s = state();
  live(s, msg(1, ME));
  room(s).typing[String(BOB)] = NOW + 5000;
  const effects = live(s, react(2, 1, '😂', true));
  t.same(shownIn(room(s)).at(-1)?.seq, 1, 'the chat list\'s last message is the message, not the reaction');
  t.equal(unreadCount(room(s), ME), 0, 'nothing unread');
  t.ok(room(s).typing[String(BOB)], 'Bob still shows typing');
  t.same(sent(effects), [{ type: 'message.ack', room: ROOM, seq: 2 }], 'the entry is acked like every entry of the log');
});

t.test('a change to a message this device does not hold is kept in the log only', async (t) => {
  const s = state();
  page(s, msg(5), msg(6), edit(7, 2, 'edited two'));
  t.same(room(s).messages.map((m) => m.seq), [5, 6, 7], 'the entry is held');
  t.same(shownIn(room(s)).map((m) => m.seq), [5, 6], 'and not shown');
  page(s, msg(1), msg(2, BOB, { body: 'edited two', rev: 7, editedAt: 9 }), msg(3), msg(4));
  t.same({ body: at(s, 2).body, editedAt: at(s, 2).editedAt }, { body: 'edited two', editedAt: 9 }, 'the older page brings the message in its current state, untouched');
});

t.test('the same state whatever order entries and pages come in', async (t) => {
  // The log: 1 Bob, 2 mine, 3 Bob replying to 2, then changes, then 9 mine.
  const log = [
    msg(1),
    msg(2, ME),
    msg(3, BOB, { replyTo: { seq: 2, sender: ME, preview: 'body 2' } }),
    edit(4, 2, 'two, edited', ME),
    react(5, 1, '👍', true, ME),
    react(6, 1, '🔥', true),
    del(7, 3),
    react(8, 2, '❤️', true),
    msg(9, ME, { replyTo: { seq: 2, sender: ME, preview: 'two, edited' } }),
    react(10, 1, '👍', false, ME),
  ];
  const current = (m: Message): Message => {
    // What history.get returns as of seq 10: messages in their current state.
    if (m.seq === 1) return { ...m, reactions: { '🔥': [BOB] }, rev: 10 };
    if (m.seq === 2) return { ...m, body: 'two, edited', editedAt: log[3]!.ts, reactions: { '❤️': [BOB] }, rev: 8 };
    if (m.seq === 3) return { ...m, body: '', deleted: true, replyTo: { seq: 2, sender: ME, preview: 'two, edited' }, rev: 7 };
    return m;
  };
  const ref = state();
  live(ref, ...log);
  const expected = screen(ref);
  t.same(expected, [
    { seq: 1, body: 'body 1', editedAt: undefined, deleted: undefined, reactions: { '🔥': [BOB] }, replyTo: undefined, forwarded: undefined },
    { seq: 2, body: 'two, edited', editedAt: log[3]!.ts, deleted: undefined, reactions: { '❤️': [BOB] }, replyTo: undefined, forwarded: undefined },
    { seq: 3, body: '', editedAt: undefined, deleted: true, reactions: undefined, replyTo: { seq: 2, sender: ME, preview: 'two, edited' }, forwarded: undefined },
    { seq: 9, body: 'body 9', editedAt: undefined, deleted: undefined, reactions: undefined, replyTo: { seq: 2, sender: ME, preview: 'two, edited' }, forwarded: undefined },
  ], 'live, in order: the expected screen');

  const orders: Record<string, (s: ChatState) => void> = {
    'latest page first, then the older one (messages in current state, older changes no-ops)': (s) => {
      page(s, ...log.slice(5).map(current));
      page(s, ...log.slice(0, 5).map(current));
    },
    'history in reverse, one entry at a time': (s) => {
      for (const m of [...log].reverse()) page(s, current(m));
    },
    'a live entry after a gap, then the page that fills it': (s) => {
      page(s, ...log.slice(0, 3));
      live(s, log[9]!, log[7]!);
      page(s, ...log.slice(3, 9));
    },
    'the first three as first sent, every change live in reverse order, then the rest': (s) => {
      page(s, ...log.slice(0, 3));
      for (const m of log.slice(3).reverse()) live(s, m);
    },
    'a page read just before the changes committed, after the entries': (s) => {
      page(s, ...log.slice(3));
      page(s, ...log.slice(0, 3));
    },
  };
  for (const [name, run] of Object.entries(orders)) {
    const s = state();
    run(s);
    t.same(screen(s), expected, name);
  }
});

t.test('an earlier change arriving after a later one to the same message is not lost', async (t) => {
  const s = state();
  live(s, msg(1), msg(2));
  live(s, react(4, 1, '😮', true, ME));
  t.equal(at(s, 1).reactions, undefined, 'an entry after a gap waits');
  live(s, edit(3, 1, 'edited first'));
  t.same({ body: at(s, 1).body, reactions: at(s, 1).reactions, rev: at(s, 1).rev }, { body: 'edited first', reactions: { '😮': [ME] }, rev: 4 }, 'both apply, in seq order, once the gap is filled');
});

t.test('deleted for me', async (t) => {
  t.test('message.hidden hides it on this device; it stays in the log', async (t) => {
    const s = state();
    live(s, msg(1), msg(2), msg(3));
    const effects = apply(s, { type: 'message.hidden', ref: 'req:1', room: ROOM, seq: 2 }, ctx);
    t.same(shownIn(room(s)).map((m) => m.seq), [1, 3], 'the message is gone from the screen');
    t.same(room(s).messages.map((m) => m.seq), [1, 2, 3], 'the log keeps its seq');
    t.same(effects, [{ type: 'save' }], 'and the cache is written');
    t.same(apply(s, { type: 'message.hidden', room: ROOM, seq: 2 }, ctx), [], 'hiding twice changes nothing');
  });

  t.test('sync.done lists what was hidden while this device was away; unread does not count it', async (t) => {
    const s = state();
    live(s, msg(1), msg(2));
    apply(s, { type: 'sync.done', rooms: [{ room: ROOM, members: [], lastSeq: 2, delivered: {}, read: {}, hidden: [1] }] }, ctx);
    t.same(shownIn(room(s)).map((m) => m.seq), [2], 'seq 1 is hidden');
    t.equal(unreadCount(room(s), ME), 1, 'only the shown message counts unread');
    page(s, msg(1));
    t.same(shownIn(room(s)).map((m) => m.seq), [2], 'and stays hidden when history brings it again');
  });
});

t.test('message.changed answers a request and changes nothing itself', async (t) => {
  const s = state();
  live(s, msg(1, ME));
  t.same(apply(s, { type: 'message.changed', ref: 'req:1', room: ROOM, target: 1, seq: 2 }, ctx), [], 'no effects');
  t.equal(at(s, 1).body, 'body 1', 'the entry, when it comes, makes the change');
});

t.test('replies and forwards through the outbox', async (t) => {
  t.test('go out as message.send with replyTo, or message.forward with the source', async (t) => {
    const reply = outboxItem(ROOM, BOB, 'yes', 'c1', NOW, { replyTo: { seq: 4, sender: BOB, preview: 'q' } })!;
    t.same(sendFrame(reply), { type: 'message.send', clientMsgId: 'c1', body: 'yes', to: BOB, replyTo: 4 }, 'a reply names the seq it answers');
    const fwd = outboxItem('g-1', undefined, 'look', 'c2', NOW, { forward: { room: ROOM, seq: 4, from: { sender: BOB, name: 'Bob B' } } })!;
    t.same(sendFrame(fwd), { type: 'message.forward', clientMsgId: 'c2', from: { room: ROOM, seq: 4 }, room: 'g-1' }, 'a forward names its source, not a body');
    t.ok(isFinalRefusal('message_not_found') && isFinalRefusal('message_deleted'), 'a reply or forward whose original is gone leaves the outbox');
  });

  t.test('message.sent makes the message the others get: the quote as held now, the forwarded marker', async (t) => {
    const s = state();
    live(s, msg(1), edit(2, 1, 'now this'));
    s.outbox = [
      outboxItem(ROOM, BOB, 'yes', 'c1', NOW, { replyTo: { seq: 1, sender: BOB, preview: 'body 1' } })!,
      outboxItem(ROOM, BOB, 'fwd', 'c2', NOW, { forward: { room: 'g-1', seq: 7, from: { sender: 9, name: 'Zoe' } } })!,
    ];
    apply(s, { type: 'message.sent', ref: 'c1', room: ROOM, id: 'i3', seq: 3, ts: NOW, duplicate: false }, ctx);
    apply(s, { type: 'message.sent', ref: 'c2', room: ROOM, id: 'i4', seq: 4, ts: NOW, duplicate: false }, ctx);
    t.same(at(s, 3).replyTo, { seq: 1, sender: BOB, preview: 'now this' }, 'the reply quotes the original as it is');
    t.same(at(s, 4).forwarded, { sender: 9, name: 'Zoe' }, 'the forward shows who wrote it');
    t.same(s.outbox, [], 'both left the outbox');
  });
});

t.test('what a person may do to a message', async (t) => {
  const s = state();
  const mine = msg(1, ME, { ts: NOW - 1000 });
  t.ok(canEdit(mine, ME, NOW, WINDOW), 'edit: an own text message within the window');
  t.notOk(canEdit(msg(1, BOB, { ts: NOW }), ME, NOW, WINDOW), 'not someone else\'s');
  t.notOk(canEdit({ ...mine, ts: NOW - WINDOW }, ME, NOW, WINDOW), 'not past the window');
  t.notOk(canEdit({ ...mine, forwarded: { sender: BOB, name: 'Bob' } }, ME, NOW, WINDOW), 'not a forwarded one');
  t.notOk(canEdit({ ...mine, deleted: true }, ME, NOW, WINDOW), 'not a deleted one');
  t.ok(canDeleteForAll(room(s), mine, ME), 'delete for everyone: own messages');
  t.notOk(canDeleteForAll(room(s), msg(2), ME), 'not someone else\'s in a 1:1 room');
  const group: Room = { ...emptyRoom('g-1', [{ id: ME, handle: 'me', displayName: 'Me', role: 'admin' }]), kind: 'group' };
  t.ok(canDeleteForAll(group, msg(2), ME), 'in a group, an admin may delete anyone\'s');
  group.members[0]!.role = 'member';
  t.notOk(canDeleteForAll(group, msg(2), ME), 'a member may not');
  live(s, mine, msg(2), msg(3, ME, { forwarded: { sender: BOB, name: 'Bob' } }));
  t.equal(lastEditable(room(s), ME, NOW, WINDOW)?.seq, 1, 'Up arrow edits the newest own message that can be edited');
});

t.test('edit, delete and react requests', async (t) => {
  const socket = (up = true) => {
    const frames: ClientFrame[] = [];
    return { frames, send: (f: ClientFrame) => (frames.push(f), up) };
  };

  t.test('are settled by message.changed or message.hidden carrying their ref', async (t) => {
    const requests = new Requests();
    const s = socket();
    const edit = requests.send(s, { type: 'message.edit', room: ROOM, seq: 1, body: 'x' });
    const hide = requests.send(s, { type: 'message.delete', room: ROOM, seq: 2, for: 'me' });
    requests.settle({ type: 'message.changed', ref: (s.frames[0] as { ref: string }).ref, room: ROOM, target: 1, seq: 3 });
    requests.settle({ type: 'message.hidden', ref: (s.frames[1] as { ref: string }).ref, room: ROOM, seq: 2 });
    t.same(await edit, { type: 'message.changed', ref: (s.frames[0] as { ref: string }).ref, room: ROOM, target: 1, seq: 3 }, 'the edit resolves with its answer');
    t.equal((await hide).type, 'message.hidden', 'delete for me resolves with message.hidden');
  });

  t.test('a refusal rejects with a sentence a person can read; offline is refused at once', async (t) => {
    const requests = new Requests();
    const s = socket();
    const react = requests.send(s, { type: 'message.react', room: ROOM, seq: 1, emoji: '🔥', on: true });
    requests.settle({ type: 'error', code: 'too_many_reactions', message: 'limit', ref: (s.frames[0] as { ref: string }).ref });
    const refused = await react.catch((e: unknown) => e);
    t.ok(refused instanceof RequestError && refused.code === 'too_many_reactions', 'rejected with the code');
    t.equal((refused as RequestError).message, 'You can put at most 3 reactions on a message. Take one off first.', 'and a sentence');
    const offline = await requests.send(socket(false), { type: 'message.delete', room: ROOM, seq: 1, for: 'everyone' }).catch((e: unknown) => e);
    t.ok(offline instanceof RequestError && offline.code === 'offline', 'nothing is queued offline');
  });
});

t.test('a withheld entry (from someone this user blocked) is held for the log but never shown, previewed or unread', async (t) => {
  const s = state();
  live(s, msg(1));
  const stub = (seq: number): Message => ({ id: `m${seq}`, room: ROOM, seq, sender: BOB, body: '', clientMsgId: '', ts: NOW - 100_000 + seq, withheld: true });
  const effects = page(s, stub(2), stub(3), msg(4));
  t.same(room(s).messages.map((m) => m.seq), [1, 2, 3, 4], 'the stubs keep the log gap-free');
  t.same(shownIn(room(s)).map((m) => m.seq), [1, 4], 'they are not shown');
  t.equal(unreadCount(room(s), ME), 2, 'nor counted unread');
  t.same(sent(effects).find((f) => f.type === 'message.ack'), { type: 'message.ack', room: ROOM, seq: 4 }, 'the device acknowledges past them');
  page(s, stub(5));
  t.same(shownIn(room(s)).at(-1)?.seq, 4, 'the chat list\'s last line is never one');
});
