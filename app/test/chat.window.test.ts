/**
 * The conversation's window (lib/chat/window.ts): which held messages are rendered when a chat
 * opens at its end or at the divider, how it grows towards the oldest and the newest, that a
 * revealed message is brought in with some context, and that once it holds the oldest (the newest)
 * it holds everything before (after).
 */
import t from 'tap';
import { CONTEXT_ROWS, GROW_ROWS, OPEN_ROWS, atNewest, atOldest, grow, growDown, include, includeEnd, inWindow, openEnd, openStart } from '../src/lib/chat/window.ts';

/** Seqs from..to; `gaps` are left out (messages deleted for me, change entries). */
const range = (from: number, to: number, gaps: number[] = []) => Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((s) => !gaps.includes(s));
const rendered = (seqs: number[], start: number, end: number | null = null) => seqs.filter((s) => inWindow(start, end, s));

t.test('a chat opens on its newest messages', async (t) => {
  const seqs = range(1, 1000);
  const start = openStart(seqs);
  t.equal(start, 1000 - OPEN_ROWS + 1, 'the window starts OPEN_ROWS from the end');
  t.equal(rendered(seqs, start).length, OPEN_ROWS, 'and renders that many');
  t.same(rendered(seqs, start).at(-1), 1000, 'down to the newest');
  t.notOk(atOldest(start), 'not the oldest held');
  t.equal(openStart(range(1, OPEN_ROWS)), 0, 'a chat holding no more than that renders all of it');
  t.equal(openStart([]), 0, 'so does an empty one, and whatever comes to it');
  t.ok(atOldest(openStart(range(1, 10))), 'such a window is at the oldest');
  t.equal(openStart(range(1, 200, range(100, 180))), 50, 'counts messages shown, not seqs: the 20 after a gap and 50 before it');
  t.equal(openEnd(seqs, start), null, 'and to the newest, following new ones');
  t.equal(openEnd(range(1, 10), 0), null, 'so does a short chat');
  t.equal(openEnd([], 0), null, 'and an empty one');
});

t.test('a chat opening at the divider far back renders from a little above it, a screenful or so down', async (t) => {
  const seqs = range(1, 1000);
  t.equal(openStart(seqs, { unreadFrom: 500 }), 500 - CONTEXT_ROWS, 'CONTEXT_ROWS above the first unread');
  const start = openStart(seqs, { unreadFrom: 500 });
  const end = openEnd(seqs, start);
  t.equal(end, start + OPEN_ROWS - 1, 'OPEN_ROWS in all, not the 500 unread down to the newest');
  t.equal(rendered(seqs, start, end).length, OPEN_ROWS, 'that many rendered');
  t.notOk(atNewest(end), 'short of the newest');
  t.equal(openEnd(seqs, openStart(seqs, { unreadFrom: 950 })), null, 'a divider within OPEN_ROWS of the newest: to the newest');
  t.equal(openEnd(seqs, openStart(seqs, { unreadFrom: 5 })), OPEN_ROWS, 'a divider near the oldest: the oldest OPEN_ROWS');
  t.equal(openStart(seqs, { unreadFrom: 990 }), 1000 - OPEN_ROWS + 1, 'a divider among the newest changes nothing');
  t.equal(openStart(seqs, { unreadFrom: 5 }), 0, 'a divider near the oldest: everything');
  t.equal(openStart(range(300, 1000), { unreadFrom: 1 }), 0, 'a divider before the oldest held: everything');
  t.equal(openStart(range(1, 1000, [500]), { unreadFrom: 500 }), 490, 'a first unread deleted for me: CONTEXT_ROWS shown above the next one (490..499)');
});

t.test('scrolling up grows the window to the oldest held, then it stays there', async (t) => {
  const seqs = range(1, 200);
  let start = openStart(seqs);
  const sizes = [rendered(seqs, start).length];
  while (!atOldest(start)) {
    const next = grow(seqs, start);
    t.ok(next < start || next === 0, `grows from ${start} to ${next}`);
    start = next;
    sizes.push(rendered(seqs, start).length);
  }
  t.same(sizes, [OPEN_ROWS, OPEN_ROWS + GROW_ROWS, OPEN_ROWS + 2 * GROW_ROWS, 200], 'GROW_ROWS at a time, the last step what is left');
  t.equal(grow(seqs, 0), 0, 'at the oldest it does not move');
  const older = [...range(100, 150), ...seqs];
  t.same(rendered(older, start), older, 'earlier history loaded then is all rendered');
  t.equal(grow(seqs, 150, 5), 145, 'a step of 5');
  t.equal(grow(seqs, 3, 5), 0, 'a step past the oldest ends at it');
});

t.test('scrolling down grows a window opened at the divider to the newest, then it stays there', async (t) => {
  const seqs = range(1, 300);
  const start = openStart(seqs, { unreadFrom: 100 });
  let end = openEnd(seqs, start);
  const sizes = [rendered(seqs, start, end).length];
  while (!atNewest(end)) {
    const next = growDown(seqs, end);
    t.ok(next === null || next > end!, `grows from ${end} to ${next}`);
    end = next;
    sizes.push(rendered(seqs, start, end).length);
  }
  t.same(sizes, [OPEN_ROWS, OPEN_ROWS + GROW_ROWS, OPEN_ROWS + 2 * GROW_ROWS, 300 - start + 1], 'GROW_ROWS at a time, the last step what is left');
  t.equal(growDown(seqs, null), null, 'at the newest it does not move');
  t.same(rendered([...seqs, 301, 302], start, end).slice(-2), [301, 302], 'messages arriving then are rendered');
  t.equal(growDown(seqs, 150, 5), 155, 'a step of 5');
  t.equal(growDown(seqs, 298, 5), null, 'a step past the newest ends at it');
  t.equal(growDown(range(1, 300, [155]), 150, 5), 156, 'a step counts messages shown, not seqs');
});

t.test('a revealed message is brought into the window with some context', async (t) => {
  const seqs = range(1, 1000);
  const start = openStart(seqs);
  t.equal(include(seqs, start, 995), start, 'one already in it changes nothing');
  t.equal(include(seqs, start, 400), 400 - CONTEXT_ROWS, 'one further back: from CONTEXT_ROWS above it');
  t.ok(rendered(seqs, include(seqs, start, 400)).includes(400), 'it is rendered');
  t.equal(include(seqs, start, 5), 0, 'one near the oldest: everything');
  t.equal(include(seqs, 0, 5), 0, 'a window at the oldest stays there');
  const loaded = [...range(1, 99), ...seqs.filter((s) => s >= 100)];
  t.equal(include(loaded, 0, 50), 0, 'earlier history loaded to reveal a message is in a window at the oldest');
  t.equal(include(seqs, 300, 295), 295 - CONTEXT_ROWS, 'close above the window');
  t.equal(include(seqs, 300, 300), 300, 'its first message');
  t.equal(includeEnd(seqs, 569, 800), 800 + CONTEXT_ROWS, 'one past a window short of the newest: to CONTEXT_ROWS below it');
  t.equal(includeEnd(seqs, 569, 500), 569, 'one in it changes nothing');
  t.equal(includeEnd(seqs, 569, 995), null, 'one near the newest: to the newest');
  t.equal(includeEnd(seqs, null, 995), null, 'a window at the newest stays there');
});

t.test('messages in the outbox are rendered while the window reaches the newest', async (t) => {
  t.ok(inWindow(900, null, undefined), 'at the newest');
  t.notOk(inWindow(400, 469, undefined), 'not in a window short of it (sending jumps to the newest)');
  t.notOk(inWindow(900, null, 899));
  t.ok(inWindow(900, null, 900));
  t.ok(inWindow(0, null, 1));
  t.ok(inWindow(400, 469, 469), 'the end is in');
  t.notOk(inWindow(400, 469, 470), 'past it is not');
});
