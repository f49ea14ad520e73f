/**
 * The one way the router reads history for a client, for `history.get` and `sync` alike: pages in
 * one order, oldest first, whichever way the cursor points, sent at the client's pace.
 */
import type { HistoryStore } from '../../../db/history.port.ts';
import type { Message } from '../../../protocol/frames.ts';
import type { Connection } from '../socket/connection.ts';

/** Where a page starts: after a seq (older to newer), or before one (the latest when `before` is undefined). */
export type Cursor = { after: number } | { before: number | undefined };

export interface Page {
  /** Ascending seq order. */
  messages: Message[];
  /** The store holds more beyond the page, in the direction the cursor reads. */
  hasMore: boolean;
}

export class HistoryReader {
  private readonly history: Pick<HistoryStore, 'after' | 'before'>;

  constructor(history: Pick<HistoryStore, 'after' | 'before'>) {
    this.history = history;
  }

  /**
   * Up to `limit` entries of `room` from `at`, oldest first; with `bounds`, only seqs from `from` to
   * `to` (inclusive; a group member's window, docs/protocol.md "Who sees what").
   */
  async page(room: string, at: Cursor, limit: number, bounds?: { from: number; to?: number }): Promise<Page> {
    if (bounds) at = 'after' in at ? { after: Math.max(at.after, bounds.from - 1) } : { before: bounds.to === undefined ? at.before : Math.min(at.before ?? Infinity, bounds.to + 1) };
    // One extra row tells whether there is more without a second query.
    let rows = 'after' in at ? await this.history.after(room, at.after, limit + 1) : await this.history.before(room, at.before, limit + 1);
    if (bounds) rows = rows.filter((m) => m.seq >= bounds.from && (bounds.to === undefined || m.seq <= bounds.to));
    const hasMore = rows.length > limit;
    const messages = rows.slice(0, limit);
    // The store reads `before` pages newest first, from the cursor down.
    return { messages: 'after' in at ? messages : messages.reverse(), hasMore };
  }

  /** Sends a page of `room` as `history.page`, at the client's pace: resolves once the next may be read and sent. */
  write(conn: Connection, room: string, page: Page, ref?: string): Promise<void> {
    return conn.replyPaced({ type: 'history.page', ...(ref ? { ref } : {}), room, messages: page.messages, hasMore: page.hasMore });
  }
}

/**
 * The page as a user from whom `seqs` are withheld reads it (a user they blocked wrote those entries
 * into their 1:1 room): each such entry as a stub without its content, so the page stays gap-free
 * and the device's receipts keep moving (docs/protocol.md, "Blocking").
 */
export function withholdIn(page: Page, seqs: ReadonlySet<number>): Page {
  if (seqs.size === 0 || !page.messages.some((m) => seqs.has(m.seq))) return page;
  return { ...page, messages: page.messages.map((m) => (seqs.has(m.seq) ? stubOf(m) : m)) };
}

/** What a withheld entry shows: where it is in the log, who wrote it and when; nothing of what it said or did. */
export const stubOf = (m: Message): Message => ({ id: m.id, room: m.room, seq: m.seq, sender: m.sender, body: '', clientMsgId: '', ts: m.ts, withheld: true });

