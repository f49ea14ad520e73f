/**
 * The chat state as plain data: what `apply` changes, the cache keeps and the store makes reactive.
 * Nothing here touches the socket, storage or the clock.
 *
 * Pure chat modules import the protocol by relative path, not `$protocol`, so their unit tests run
 * under plain tsx (which knows no SvelteKit aliases).
 */
import type { GroupRole, Message, PublicUser, RoomSummary } from '../../../../protocol/frames.ts';
import type { OutboxItem } from './outbox.ts';

/** A current member of a room; in a group also their role and the seq from which they see the log. */
export interface Member extends PublicUser {
  role?: GroupRole;
  joinedSeq?: number;
}

/**
 * A room as the offline cache keeps it: the server's summary of it (room, kind, name, lastSeq,
 * watermarks, joinedSeq, left, muted), with members as this device knows them, and its messages.
 */
export interface CachedRoom extends Omit<RoomSummary, 'members'> {
  /** The current members (empty once this user left the group). */
  members: Member[];
  /**
   * The seq of the log entry up to which `members` (and `name`) are known to be right: events at or
   * below it (an older history page) are already in them, events above it change them.
   */
  membersSeq?: number;
  /**
   * Everyone this device has seen in the room, current members or not, by user id: the names of
   * senders who left and of users named in events.
   */
  people?: Record<string, PublicUser>;
  /** Sorted by seq, no duplicates: messages and every other log entry (group events, changes to messages). */
  messages: Message[];
  /** The seq up to which change entries (edits, deletions, reactions) are applied to their targets (changes.ts). */
  changesApplied?: number;
}

/** A room as the app holds it: the cached part plus what only matters while it runs. */
export interface Room extends CachedRoom {
  /** Per user id: until when (ms) that member counts as typing. */
  typing: Record<string, number>;
  loadingOlder: boolean;
}

/** An own message's status: waiting in the outbox, not answered after several sends, then stored, on their device, read. */
export type Tick = 'pending' | 'failed' | 'sent' | 'delivered' | 'read';

/** What the app knows about a contact's presence: online, or offline since `lastSeen` (ms) if known. */
export interface Presence {
  online: boolean;
  lastSeen?: number;
}

/** Everything `apply` reads and changes. */
export interface ChatState {
  /** By room id. */
  rooms: Record<string, Room>;
  /** Messages not acknowledged yet, oldest first. */
  outbox: OutboxItem[];
  /** Contacts' presence by user id: from each sync.done, then live `presence` frames. Not cached. */
  presence: Record<number, Presence>;
}

export function emptyState(): ChatState {
  return { rooms: {}, outbox: [], presence: {} };
}

/** A room the app knows nothing about yet beyond its id (and maybe its members). */
export function emptyRoom(room: string, members: Member[] = []): Room {
  return { room, members, lastSeq: 0, delivered: {}, read: {}, messages: [], typing: {}, loadingOlder: false };
}

/** A cached room back in memory: not typing, not loading. */
export function fromCache(room: CachedRoom): Room {
  return { ...room, typing: {}, loadingOlder: false };
}

/** The highest seq up to which the held messages have no gap (from the oldest held). */
export function contiguous(messages: Message[]): number {
  let seq = messages[0]?.seq ?? 0;
  for (const m of messages) {
    if (m.seq > seq + 1) break;
    seq = m.seq;
  }
  return seq;
}
