/**
 * The conversation's window: which of the held messages are in the DOM. Rendering every message a
 * room holds (a thousand from IndexedDB) is what made opening slow, so the list renders the messages
 * from a seq (the window's `start`) to a seq (its `end`), and the outbox while the window reaches the
 * newest. `start` 0 means from the oldest held, and stays so: pages of earlier history loaded from
 * the server then show as they come. `end` null means to the newest, and stays so: new messages show
 * as they come. A chat opening at its end has `end` null; one opening at a "new messages" divider far
 * back renders from a little above the divider down a screenful or so, and grows both ways as the
 * reader scrolls. Counts (the divider, the jump button, reads) are about messages, not about what is
 * rendered, so none of them reads the window.
 *
 * Pure: `seqs` are the seqs of what the conversation shows (messages and group events), ascending.
 */

/** Messages rendered when a conversation opens at its end: more than the tallest screen holds, with a margin to scroll. */
export const OPEN_ROWS = 70;
/** Messages added above (or below) each time the reader nears the top (or the bottom) of the window. */
export const GROW_ROWS = 50;
/** Messages kept above the "new messages" divider or a revealed message, so it does not open at the window's edge. */
export const CONTEXT_ROWS = 10;

/** The index of the first of `seqs` at or after `seq` (`seqs.length` when none is). */
function indexAt(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seqs[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The window's start at index `i` of `seqs`: 0 (everything) at or before the oldest. */
const startAt = (seqs: readonly number[], i: number): number => (i <= 0 ? 0 : seqs[i]!);

/**
 * Where the window starts when the conversation opens: the newest `rows` messages, or from
 * CONTEXT_ROWS before `unreadFrom` (the divider's seq) when that is further back, since the chat
 * then opens at the divider and everything below it is to be read.
 */
export function openStart(seqs: readonly number[], { unreadFrom, rows = OPEN_ROWS }: { unreadFrom?: number | undefined; rows?: number } = {}): number {
  let i = seqs.length - rows;
  if (unreadFrom !== undefined) i = Math.min(i, indexAt(seqs, unreadFrom) - CONTEXT_ROWS);
  return startAt(seqs, i);
}

/** The start after growing the window by `rows` messages towards the oldest held. */
export function grow(seqs: readonly number[], start: number, rows = GROW_ROWS): number {
  if (start === 0) return 0;
  return startAt(seqs, indexAt(seqs, start) - rows);
}

/** The start of a window that holds message `seq` (a revealed one) with CONTEXT_ROWS above it. */
export function include(seqs: readonly number[], start: number, seq: number): number {
  if (start === 0 || seq >= start) return start;
  return Math.min(start, startAt(seqs, indexAt(seqs, seq) - CONTEXT_ROWS));
}

/** The seq `rows` - 1 messages after index `i` of `seqs`, or null (to the newest) when that reaches the newest. */
function endAt(seqs: readonly number[], i: number): number | null {
  return i >= seqs.length - 1 ? null : seqs[Math.max(i, 0)]!;
}

/**
 * Where the window ends when it opens at `start` (openStart's): `rows` messages down, or null when
 * that reaches the newest, as it does for a chat opening at its end.
 */
export function openEnd(seqs: readonly number[], start: number, rows = OPEN_ROWS): number | null {
  return endAt(seqs, indexAt(seqs, start) + rows - 1);
}

/** The end after growing the window by `rows` messages towards the newest (null: it reached them). */
export function growDown(seqs: readonly number[], end: number | null, rows = GROW_ROWS): number | null {
  if (end === null) return null;
  return endAt(seqs, indexAt(seqs, end) + rows);
}

/** The end of a window that holds message `seq` (a revealed one) with CONTEXT_ROWS below it. */
export function includeEnd(seqs: readonly number[], end: number | null, seq: number): number | null {
  if (end === null || seq <= end) return end;
  return endAt(seqs, indexAt(seqs, seq) + CONTEXT_ROWS);
}

/** The window holds the oldest message held: scrolling further up asks the server for earlier history. */
export const atOldest = (start: number): boolean => start === 0;

/** The window reaches the newest message: new ones, and the outbox, show as they come. */
export const atNewest = (end: number | null): boolean => end === null;

/** Message `seq` is in the window; a message still in the outbox (no seq) is while the window reaches the newest. */
export const inWindow = (start: number, end: number | null, seq: number | undefined): boolean =>
  seq === undefined ? end === null : seq >= start && (end === null || seq <= end);
