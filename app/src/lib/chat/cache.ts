/**
 * The chat's offline cache in localStorage, per user: the outbox (so nothing written is lost on a
 * reload) and the rooms with their latest messages (so the app opens offline). Room writes are
 * batched: at most one per WRITE_DELAY_MS, with the state as it is when the write happens.
 */
import { readStored, removeStored, writeStored } from '../storage.ts';
import type { OutboxItem } from './outbox.ts';
import type { CachedRoom, Room } from './state.ts';

/** Messages per room kept in the offline cache. */
export const CACHED_MESSAGES = 50;
/** How long (ms) room changes gather before one write. */
const WRITE_DELAY_MS = 300;

/** A room as the cache keeps it: without what only matters while the app runs, and only its latest messages. */
export function toCached({ typing: _t, loadingOlder: _l, ...room }: Room): CachedRoom {
  return { ...room, messages: room.messages.slice(-CACHED_MESSAGES) };
}

export class ChatCache {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly outboxKey: string;
  private readonly roomsKey: string;

  private readonly rooms: () => CachedRoom[];

  /** `rooms` is called when a batched write happens and returns what to keep, as plain data (no proxies). */
  constructor(userId: number, rooms: () => CachedRoom[]) {
    this.rooms = rooms;
    this.outboxKey = `outbox:${userId}`;
    this.roomsKey = `rooms:${userId}`;
  }

  loadRooms(): CachedRoom[] {
    return readStored<CachedRoom[]>(this.roomsKey, []);
  }

  loadOutbox(): OutboxItem[] {
    return readStored<OutboxItem[]>(this.outboxKey, []);
  }

  /** Writes the outbox now: it is what a reload must not lose. */
  saveOutbox(items: OutboxItem[]): void {
    writeStored(this.outboxKey, items);
  }

  /** Writes the rooms soon (batched). */
  saveRooms(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), WRITE_DELAY_MS);
  }

  /** Does a pending room write now (the store stops, maybe to start for someone else). */
  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    writeStored(this.roomsKey, this.rooms());
  }

  /** Drops a pending write and everything cached (sign-out). */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const key of [this.outboxKey, this.roomsKey]) removeStored(key);
  }
}
