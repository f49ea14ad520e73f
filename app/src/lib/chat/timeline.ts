/**
 * The conversation as rows: messages and group events in order, with a separator before each new
 * day and the "new messages" divider before the first message that was unread when the chat
 * opened. Each message knows whether it opens and closes a run: consecutive messages from one
 * sender, less than RUN_GAP_MS apart, on one day and not split by an event or the divider. A run
 * shows one name and avatar (in groups), sits closer together, and has the tail on its last bubble.
 * Pure: the page maps the chat state to entries and renders the rows.
 */

/** Messages further apart than this (ms) start a new run even from the same sender. */
export const RUN_GAP_MS = 5 * 60_000;

/** What the timeline needs of a row: its key, time, and for a message its sender and seq (none while in the outbox). */
export interface Entry {
  kind: 'msg' | 'event';
  key: string;
  ts: number;
  sender?: number;
  seq?: number;
}

export type Separator = { kind: 'day'; key: string; ts: number } | { kind: 'unread'; key: 'unread' };
/** Where a message stands in its run. */
export interface RunPlace {
  first: boolean;
  last: boolean;
}
export type Row<T extends Entry> = Separator | (T & RunPlace);

export interface TimelineOptions {
  /** The calendar day of a time (local time): a new day gets a separator. */
  dayKey: (ts: number) => string;
  /** The divider goes before the first message at or after this seq (the first unread one on opening); none when undefined. */
  unreadFrom?: number;
  /** Default RUN_GAP_MS. */
  gapMs?: number;
}

/** The rows for `entries` (in order: held messages by seq, then the outbox). */
export function timeline<T extends Entry>(entries: readonly T[], { dayKey, unreadFrom, gapMs = RUN_GAP_MS }: TimelineOptions): Array<Row<T>> {
  const rows: Array<Row<T>> = [];
  let day = '';
  let divided = unreadFrom === undefined;
  for (const e of entries) {
    const key = dayKey(e.ts);
    if (key !== day) {
      day = key;
      rows.push({ kind: 'day', key: `day:${key}`, ts: e.ts });
    }
    if (!divided && e.kind === 'msg' && e.seq !== undefined && e.seq >= unreadFrom!) {
      divided = true;
      rows.push({ kind: 'unread', key: 'unread' });
    }
    const prev = rows.at(-1);
    const continues = e.kind === 'msg' && isMsg(prev) && prev.sender === e.sender && e.ts - prev.ts < gapMs;
    if (continues) prev.last = false;
    rows.push({ ...e, first: e.kind === 'msg' ? !continues : false, last: e.kind === 'msg' });
  }
  return rows;
}

function isMsg<T extends Entry>(row: Row<T> | undefined): row is T & RunPlace {
  return row !== undefined && row.kind === 'msg';
}
