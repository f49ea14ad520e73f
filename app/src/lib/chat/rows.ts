/**
 * The chat list's rows, newest first: one per room with something in it, with what its row shows
 * (name, last line and who wrote it, time, unread, waiting sends, typing, presence). Read by the chat
 * list and the quick switcher; reactive where it is called from (a `$derived`, a template).
 */
import { attachmentsPreview } from '$protocol/attachments.ts';
import type { Attachment } from '$protocol/frames.ts';
import { chat } from './store.svelte.ts';
import type { Room } from './state.ts';
import { DELETED_TEXT, isGroupEvent } from './view.ts';

export interface ChatRow {
  room: Room;
  group: boolean;
  name: string;
  /** A 1:1 chat with someone who deleted their account. */
  deleted: boolean;
  /** The other member's handle in a 1:1 chat, '' in a group. */
  handle: string;
  text: string;
  /** Who wrote the last line: "You", a group member's first name, or ''. */
  by: string;
  ts: number;
  unread: number;
  pending: number;
  typing: string | null;
  online: boolean;
}

export function chatRows(): ChatRow[] {
  return Object.values(chat.rooms)
    .map((room) => {
      // Changes to messages (edits, reactions) and messages deleted for me are never the last line.
      const last = chat.shown(room).at(-1);
      const pending = chat.outbox.filter((o) => o.room === room.room);
      const lastPending = pending.at(-1);
      const other = chat.other(room);
      const group = chat.isGroup(room);
      const event = !lastPending && last && isGroupEvent(last) ? chat.eventText(room, last) : null;
      const mine = lastPending ? true : last?.sender === chat.me?.id;
      return {
        room,
        group,
        name: chat.title(room),
        deleted: chat.withDeleted(room),
        handle: other?.handle ?? '',
        text: event ?? (lastPending ? line(lastPending) : last?.deleted ? DELETED_TEXT : last ? line(last) : ''),
        // Who wrote the last message: "You: " in every room, the sender's first name in a group.
        by: event ? '' : mine ? 'You' : group && last ? chat.nameIn(room, last.sender).split(/\s+/)[0]! : '',
        ts: lastPending?.createdAt ?? last?.ts ?? 0,
        unread: chat.unread(room),
        pending: pending.length,
        typing: chat.typingLine(room),
        online: chat.presenceIn(room)?.online ?? false,
      };
    })
    .filter((r) => r.ts > 0)
    .sort((a, b) => b.ts - a.ts);
}

/** The longest file name a row shows before it is clipped. */
const ROW_NAME_CHARS = 60;

/** A message's line in its row: the body (a caption too), or "Photo" / "File: name" when it has none. */
function line(m: { body: string; attachments?: Attachment[] }): string {
  return !m.body && m.attachments?.length ? attachmentsPreview(m.attachments, ROW_NAME_CHARS) : m.body;
}

/**
 * Unread messages across every room but the muted ones (a muted busy group would make the count
 * mean nothing): the tab title's "(3)" and the installed app's badge.
 */
export function unreadTotal(): number {
  let n = 0;
  for (const room of Object.values(chat.rooms)) if (!room.muted) n += chat.unread(room);
  return n;
}
