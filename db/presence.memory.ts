/** Presence in one process (the embedded default): connection counts and last-seen times. */
import type { PresenceStore, UserPresence } from './presence.port.ts';

export class MemoryPresenceStore implements PresenceStore {
  readonly #counts = new Map<number, number>();
  readonly #seen = new Map<number, number>();

  connected(userId: number): void {
    this.#counts.set(userId, (this.#counts.get(userId) ?? 0) + 1);
  }

  disconnected(userId: number): void {
    const n = (this.#counts.get(userId) ?? 0) - 1;
    if (n > 0) return void this.#counts.set(userId, n);
    this.#counts.delete(userId);
    this.#seen.set(userId, Date.now());
  }

  async isOnline(userId: number): Promise<boolean> {
    return this.#counts.has(userId);
  }

  async lastSeen(userId: number): Promise<number | null> {
    if (this.#counts.has(userId)) return Date.now();
    return this.#seen.get(userId) ?? null;
  }

  async presenceOf(userIds: readonly number[]): Promise<Map<number, UserPresence>> {
    return new Map(userIds.map((id) => [id, this.#counts.has(id) ? { online: true, lastSeen: null } : { online: false, lastSeen: this.#seen.get(id) ?? null }]));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
