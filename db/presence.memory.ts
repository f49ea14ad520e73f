/** Presence in one process (the embedded default): connection counts and last-seen times. */
import { systemScheduler, type Clock } from './clock.ts';
import type { PresenceStore, UserPresence } from './presence.port.ts';

export class MemoryPresenceStore implements PresenceStore {
  readonly #counts = new Map<number, number>();
  readonly #seen = new Map<number, number>();
  readonly #clock: Clock;

  /** `clock`: what last-seen times are read from; default the real clock. */
  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemScheduler;
  }

  connected(userId: number): void {
    this.#counts.set(userId, (this.#counts.get(userId) ?? 0) + 1);
  }

  disconnected(userId: number): void {
    const n = (this.#counts.get(userId) ?? 0) - 1;
    if (n > 0) return void this.#counts.set(userId, n);
    this.#counts.delete(userId);
    this.#seen.set(userId, this.#clock.now());
  }

  async isOnline(userId: number): Promise<boolean> {
    return this.#counts.has(userId);
  }

  async lastSeen(userId: number): Promise<number | null> {
    if (this.#counts.has(userId)) return this.#clock.now();
    return this.#seen.get(userId) ?? null;
  }

  async presenceOf(userIds: readonly number[]): Promise<Map<number, UserPresence>> {
    return new Map(userIds.map((id) => [id, this.#counts.has(id) ? { online: true, lastSeen: null } : { online: false, lastSeen: this.#seen.get(id) ?? null }]));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
