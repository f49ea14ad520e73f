/**
 * What the app keeps across reloads in localStorage, per user: the outbox (messages not yet
 * acknowledged), and a cache of the chat list and recent messages so the app opens offline.
 */
import type { Message, PublicUser } from '$protocol/frames.ts';
import type { User } from './api.ts';

/** A message the server has not acknowledged yet; re-sent with the same clientMsgId until it is. */
export interface OutboxItem {
  clientMsgId: string;
  room: string;
  to: number;
  body: string;
  createdAt: number;
}

export interface CachedRoom {
  room: string;
  members: PublicUser[];
  lastSeq: number;
  delivered: Record<string, number>;
  read: Record<string, number>;
  /** Sorted by seq, no duplicates. */
  messages: Message[];
}

/** Messages per room kept in the offline cache. */
export const CACHED_MESSAGES = 50;

function read<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}
function write(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* quota or private mode: the cache is an optimisation, the outbox best effort */
  }
}

export const storage = {
  me: () => read<User | null>('me', null),
  setMe: (user: User | null) => (user ? write('me', user) : localStorage.removeItem('me')),
  outbox: (userId: number) => read<OutboxItem[]>(`outbox:${userId}`, []),
  setOutbox: (userId: number, items: OutboxItem[]) => write(`outbox:${userId}`, items),
  rooms: (userId: number) => read<CachedRoom[]>(`rooms:${userId}`, []),
  setRooms: (userId: number, rooms: CachedRoom[]) => write(`rooms:${userId}`, rooms),
  /** Forgets everything of a user (sign-out). */
  clear(userId: number) {
    for (const key of ['me', `outbox:${userId}`, `rooms:${userId}`]) localStorage.removeItem(key);
  },
};
