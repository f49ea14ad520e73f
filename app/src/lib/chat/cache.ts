/**
 * The chat's offline cache, per user, in IndexedDB (offline.db.ts): the outbox (so nothing written
 * is lost on a reload) and the rooms with every message seen (so the app opens offline at once).
 * Room writes are batched: at most one per WRITE_DELAY_MS, with the state as it is when the write
 * happens, and only what changed since the last one goes to disk.
 */
import { clearUser, loadUser, saveOutbox, saveRooms } from './offline.db.ts';
import { Written } from './offline.schema.ts';
import type { OutboxItem } from './outbox.ts';
import type { CachedRoom, Room } from './state.ts';

/** How long (ms) room changes gather before one write. */
const WRITE_DELAY_MS = 300;

/** A room as the cache keeps it: without what only matters while the app runs. */
export function toCached({ typing: _t, loadingOlder: _l, ...room }: Room): CachedRoom {
  return room;
}

export class ChatCache {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly written = new Written();
  /** Every outbox item (clientMsgId) this page held: one it wrote away was sent, not someone else's. */
  private readonly known = new Set<string>();
  /** Writes run one after the other, so an older snapshot never lands after a newer one. */
  private chain: Promise<void> = Promise.resolve();
  private readonly user: number;
  private readonly rooms: () => CachedRoom[];

  /** `rooms` is called when a batched write happens and returns what to keep, as plain data (no proxies). */
  constructor(user: number, rooms: () => CachedRoom[]) {
    this.user = user;
    this.rooms = rooms;
  }

  /** The rooms and outbox stored on this device (empty when IndexedDB is unavailable). */
  async load(): Promise<{ rooms: CachedRoom[]; outbox: OutboxItem[] }> {
    try {
      const held = await loadUser(this.user);
      for (const r of held.rooms) this.written.loaded(this.user, r);
      for (const o of held.outbox) this.known.add(o.clientMsgId);
      return held;
    } catch {
      return { rooms: [], outbox: [] };
    }
  }

  /**
   * Writes the outbox now: it is what a reload must not lose. What the service worker added and
   * this page never held stays (offline.db.ts's saveOutbox), so each item held is remembered.
   */
  saveOutbox(items: OutboxItem[]): void {
    for (const o of items) this.known.add(o.clientMsgId);
    this.then(() => saveOutbox(this.user, items, this.known));
  }

  /** Writes the rooms soon (batched). */
  saveRooms(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), WRITE_DELAY_MS);
  }

  /** Does a pending room write now (the store stops, maybe to start for someone else); resolves once written. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      const rooms = this.rooms();
      this.then(() => saveRooms(this.user, rooms, this.written));
    }
    return this.chain;
  }

  /** Drops a pending write and everything cached (sign-out). */
  clear(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.written.clear();
    this.then(() => clearUser(this.user));
    return this.chain;
  }

  private then(write: () => Promise<void>): void {
    // Quota or private mode: the cache is an optimisation, the outbox best effort.
    this.chain = this.chain.then(write).catch(() => undefined);
  }
}
