/**
 * The conversation's rows (lib/chat/timeline.ts) and what the view counts (lib/chat/view.ts): runs
 * of messages from one sender, day separators, the "new messages" divider at the first unread
 * message, the unread messages below what was on screen, and when an outbox item shows as failed.
 */
import t from 'tap';
import type { Message } from '../../protocol/frames.ts';
import { emptyRoom, type Room } from '../src/lib/chat/state.ts';
import { RUN_GAP_MS, timeline, type Entry, type Row } from '../src/lib/chat/timeline.ts';
import { FAILED_AFTER_SENDS, firstUnread, outboxTick, unreadAfter, unreadCount } from '../src/lib/chat/view.ts';

const ME = 1;
const BOB = 2;
const MIN = 60_000;
/** Days are numbered: an entry at `day * 1e9 + ms` is on day `day`. */
const dayKey = (ts: number) => String(Math.floor(ts / 1e9));

const msg = (seq: number, sender: number, ts: number): Entry => ({ kind: 'msg', key: `s:${seq}`, seq, sender, ts });
const ev = (seq: number, ts: number): Entry => ({ kind: 'event', key: `s:${seq}`, seq, ts });
const pending = (id: string, ts: number): Entry => ({ kind: 'msg', key: `c:${id}`, sender: ME, ts });

/** The rows as short strings: "day", "unread", "event 4", "3 first", "4 last", "5 first last", "c:x middle". */
function shape(rows: Array<Row<Entry>>): string[] {
  return rows.map((r) => {
    if (r.kind === 'day' || r.kind === 'unread') return r.kind;
    if (r.kind === 'event') return `event ${r.seq}`;
    const place = r.first && r.last ? 'single' : r.first ? 'first' : r.last ? 'last' : 'middle';
    return `${r.seq ?? r.key} ${place}`;
  });
}

t.test('timeline', async (t) => {
  t.test('groups consecutive messages from one sender a few minutes apart into runs', async (t) => {
    const rows = timeline([msg(1, BOB, 0), msg(2, BOB, MIN), msg(3, BOB, 2 * MIN), msg(4, ME, 3 * MIN), msg(5, ME, 3 * MIN), msg(6, BOB, 4 * MIN)], { dayKey });
    t.same(shape(rows), ['day', '1 first', '2 middle', '3 last', '4 first', '5 last', '6 single'], 'three runs: Bob, me, Bob again');
  });

  t.test('starts a new run after a pause, an event, a new day or the divider', async (t) => {
    t.same(shape(timeline([msg(1, BOB, 0), msg(2, BOB, RUN_GAP_MS - 1), msg(3, BOB, 2 * RUN_GAP_MS)], { dayKey })), ['day', '1 first', '2 last', '3 single'], 'a pause of RUN_GAP_MS or more');
    t.same(shape(timeline([msg(1, BOB, 0), ev(2, MIN), msg(3, BOB, 2 * MIN)], { dayKey })), ['day', '1 single', 'event 2', '3 single'], 'a group event');
    t.same(shape(timeline([msg(1, BOB, 1e9 - MIN), msg(2, BOB, 1e9 + MIN)], { dayKey })), ['day', '1 single', 'day', '2 single'], 'midnight');
    t.same(shape(timeline([msg(1, BOB, 0), msg(2, BOB, MIN), msg(3, BOB, 2 * MIN)], { dayKey, unreadFrom: 2 })), ['day', '1 single', 'unread', '2 first', '3 last'], 'the divider');
  });

  t.test('an own message waiting in the outbox joins the run of my sent ones', async (t) => {
    const rows = timeline([msg(1, ME, 0), pending('x', MIN), pending('y', 2 * MIN)], { dayKey });
    t.same(shape(rows), ['day', '1 first', 'c:x middle', 'c:y last'], 'one run, the tail on the newest');
  });

  t.test('puts the divider once, before the first message at or after the first unread seq', async (t) => {
    const entries = [msg(1, BOB, 0), ev(2, 1e9), msg(4, BOB, 1e9 + MIN), msg(5, BOB, 1e9 + 2 * MIN)];
    t.same(shape(timeline(entries, { dayKey, unreadFrom: 3 })), ['day', '1 single', 'day', 'event 2', 'unread', '4 first', '5 last'], 'seq 3 is not shown (deleted for me): the divider goes before 4');
    t.same(shape(timeline([msg(1, BOB, 0), msg(2, BOB, 1e9)], { dayKey, unreadFrom: 2 })), ['day', '1 single', 'day', 'unread', '2 single'], 'after the day separator of its day');
    t.same(shape(timeline(entries, { dayKey, unreadFrom: 9 })), ['day', '1 single', 'day', 'event 2', '4 first', '5 last'], 'none when nothing is at or after it');
    t.same(shape(timeline(entries, { dayKey })), ['day', '1 single', 'day', 'event 2', '4 first', '5 last'], 'none without unread');
    t.equal(timeline(entries, { dayKey, unreadFrom: 1 }).filter((r) => r.kind === 'unread').length, 1, 'only one divider');
  });
});

function text(seq: number, sender: number): Message {
  return { id: `m${seq}`, room: '1-2', seq, sender, body: `body ${seq}`, clientMsgId: `c${seq}`, ts: seq * MIN };
}

function roomWith(messages: Message[], read: number, hidden: number[] = []): Room {
  return { ...emptyRoom('1-2'), messages, read: { [ME]: read }, hidden };
}

t.test('unread messages', async (t) => {
  const change: Message = { ...text(7, BOB), kind: 'event', event: { type: 'message.edited', seq: 5, body: 'x' } };
  const room = roomWith([text(1, BOB), text(2, ME), text(3, BOB), text(4, ME), text(5, BOB), text(6, BOB), change], 2, [6]);

  t.test('the first unread is the first message from someone else after what I read', async (t) => {
    t.equal(firstUnread(room, ME), 3, 'my own message at 4 does not count; Bob\'s 3 is first');
    t.equal(firstUnread(roomWith([text(1, BOB), text(2, ME)], 0), ME), 1, 'nothing read yet');
    t.equal(firstUnread(roomWith([text(1, BOB), text(2, ME)], 2), ME), undefined, 'everything read');
    t.equal(firstUnread(roomWith([text(1, BOB), text(2, BOB)], 0, [1]), ME), 2, 'a message deleted for me is not where the divider goes');
  });

  t.test('counts the unread below a seq as the chat list counts unread', async (t) => {
    t.equal(unreadCount(room, ME), 2, 'Bob\'s 3 and 5: not my 4, not 6 (deleted for me), not the edit at 7');
    t.equal(unreadAfter(room, ME, 2), unreadCount(room, ME), 'after what I read: the unread count');
    t.equal(unreadAfter(room, ME, 3), 1, 'after 3 was on screen: 5 is below');
    t.equal(unreadAfter(room, ME, 7), 0, 'after the end: none');
  });
});

t.test('an outbox item shows as failed after several sends without an answer', async (t) => {
  t.equal(outboxTick(0), 'pending', 'not sent yet (offline)');
  t.equal(outboxTick(FAILED_AFTER_SENDS - 1), 'pending', 'sent, maybe sent again');
  t.equal(outboxTick(FAILED_AFTER_SENDS), 'failed', `sent ${FAILED_AFTER_SENDS} times unanswered`);
});
