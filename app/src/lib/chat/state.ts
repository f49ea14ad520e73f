/**
 * The chat state as plain data: what `apply` changes, the cache keeps and the store makes reactive.
 * Nothing here touches the socket, storage or the clock.
 *
 * Pure chat modules import the protocol by relative path, not `$protocol`, so their unit tests run
 * under plain tsx (which knows no SvelteKit aliases).
 */
import type { Message, PublicUser } from '../../../../protocol/frames.ts';
import type { OutboxItem } from './outbox.ts';

/** A room as the offline cache keeps it. */
export interface CachedRoom {
  room: string;
  members: PublicUser[];
  lastSeq: number;
  /** Per member id: the highest seq that member's devices acknowledged / read. */
  delivered: Record<string, number>;
  read: Record<string, number>;
  /** Sorted by seq, no duplicates. */
  messages: Message[];
}

/** A room as the app holds it: the cached part plus what only matters while it runs. */
export interface Room extends CachedRoom {
  /** Until when (ms) the other member counts as typing. */
  typingUntil: number;
  loadingOlder: boolean;
}

export type Tick = 'pending' | 'sent' | 'delivered' | 'read';

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
export function emptyRoom(room: string, members: PublicUser[] = []): Room {
  return { room, members, lastSeq: 0, delivered: {}, read: {}, messages: [], typingUntil: 0, loadingOlder: false };
}

/** A cached room back in memory: not typing, not loading. */
export function fromCache(room: CachedRoom): Room {
  return { ...room, typingUntil: 0, loadingOlder: false };
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
