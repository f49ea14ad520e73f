/**
 * The conversation's window: which of the held messages are in the DOM. Rendering every message a
 * room holds (a thousand from IndexedDB) is what made opening slow, so the list renders the messages
 * from a seq on (the window's `start`) and the outbox; `start` only ever moves back. 0 means every
 * message held, and stays so: pages of earlier history loaded from the server then show as they
 * come, as before the window. Counts (the divider, the jump button, reads) are about messages, not
 * about what is rendered, so none of them reads the window.
 *
 * Pure: `seqs` are the seqs of what the conversation shows (messages and group events), ascending.
 */

/** Messages rendered when a conversation opens at its end: more than the tallest screen holds, with a margin to scroll. */
export const OPEN_ROWS = 70;
/** Messages added above each time the reader nears the top of the window. */
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

/** The window holds the oldest message held: scrolling further up asks the server for earlier history. */
export const atOldest = (start: number): boolean => start === 0;

/** Message `seq` is in the window (a message still in the outbox has no seq and always is). */
export const inWindow = (start: number, seq: number | undefined): boolean => seq === undefined || seq >= start;
