/**
 * Tells a user's contacts (the members of the rooms they belong to) when the user comes online or
 * goes offline, on any node. Runs only when sockets open and close, and when a 1:1 room starts
 * (its first message makes two users contacts: each is told where the other stands), never on
 * any other message.
 *
 * Online: this node's first socket of the user opened while the presence store counted none
 * anywhere. Offline: this node's last socket closed and the store, after our decrement, counts
 * none anywhere. The store is read before our increment and after our decrement on the same
 * ordered channel (one Redis connection; memory is synchronous), so of several nodes racing at
 * least the last one to drop the user announces it. Best effort, like all live events: a repeated
 * or lost announcement is repaired by the contacts' next `sync.done`.
 */
import { systemScheduler, type Clock } from '../../../db/clock.ts';
import type { PresenceStore } from '../../../db/presence.port.ts';
import type { PrivacyStore } from '../../../db/privacy.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { Bus } from './bus.port.ts';
import type { ConnectionRegistry } from '../socket/registry.ts';
import type { Logger } from '../../../kit/logger.ts';

export interface PresenceServiceDeps {
  presence: PresenceStore;
  relational: Pick<RelationalStore, 'roomsOf'>;
  /** Who may see the user's presence: their setting and blocks (read here, once per announcement). Default: everyone. */
  privacy?: Pick<PrivacyStore, 'recordOf'>;
  registry: ConnectionRegistry;
  bus: Bus;
  log: Logger;
  /** When a user was last seen is read from it. Default: the real clock. */
  clock?: Clock;
}

export class PresenceService {
  #paused = false;
  /** Per user, the announcement in progress: a quick close-and-reopen must not overtake itself. */
  readonly #queue = new Map<number, Promise<void>>();

  private readonly deps: PresenceServiceDeps;

  constructor(deps: PresenceServiceDeps) {
    this.deps = deps;
  }

  /** A socket of `userId` opened on this node; call after adding it to the registry. */
  connected(userId: number): void {
    const { presence, registry } = this.deps;
    const first = registry.ofUser(userId)?.size === 1;
    // Read before our own write lands, so "already online" means some other socket somewhere.
    const before = first ? presence.isOnline(userId) : undefined;
    presence.connected(userId);
    if (!before) return;
    before.then(
      (wasOnline) => {
        if (!wasOnline) this.#enqueue(userId, true);
      },
      (err: unknown) => this.deps.log.warn({ err, user: userId }, 'presence lookup failed'),
    );
  }

  /** A socket of `userId` on this node closed; call after removing it from the registry. */
  disconnected(userId: number): void {
    const { presence, registry } = this.deps;
    presence.disconnected(userId);
    if (registry.ofUser(userId) || this.#paused) return;
    const lastSeen = (this.deps.clock ?? systemScheduler).now();
    presence.isOnline(userId).then(
      (stillOnline) => {
        if (!stillOnline) this.#enqueue(userId, false, lastSeen);
      },
      (err: unknown) => this.deps.log.warn({ err, user: userId }, 'presence lookup failed'),
    );
  }

  /**
   * The members of a room that just started (its first message is stored) became contacts: each
   * is told, on every device, whether the others are online or when they were last seen, which
   * until now they could not know. Not awaited by the caller; best effort like every announcement.
   */
  async introduce(members: readonly number[]): Promise<void> {
    if (members.length < 2 || this.#paused) return;
    try {
      const [presence, records] = await Promise.all([
        this.deps.presence.presenceOf(members),
        Promise.all(members.map((m) => this.deps.privacy?.recordOf(m))),
      ]);
      for (const [i, user] of members.entries()) {
        // The same rule as every announcement (docs/protocol.md, "Privacy settings"): a new 1:1 room
        // makes its two contacts, so only "nobody" and a block between them keep it back.
        const record = records[i];
        if (record?.settings.lastSeen === 'nobody') continue;
        const blocked = new Set([...(record?.blocked ?? []), ...(record?.blockedBy ?? [])]);
        const to = members.filter((m) => m !== user && !blocked.has(m));
        if (to.length === 0) continue;
        const p = presence.get(user);
        const online = p?.online ?? false;
        const lastSeen = !online && p?.lastSeen != null ? { lastSeen: p.lastSeen } : {};
        this.deps.bus.publish({ kind: 'presence', room: '', members: to, user, online, ...lastSeen });
      }
    } catch (err) {
      this.deps.log.warn({ err, members }, 'could not introduce the members of a new room');
    }
  }

  /**
   * Stops announcing (graceful shutdown): this node's users reconnect to another node within
   * seconds, and saying "offline" then "online" to all their contacts would only be noise.
   */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Resolves when the announcements already under way have finished: they read the relational
   * store, so the process must not close it under them. Call after `pause()`.
   */
  async settled(): Promise<void> {
    await Promise.all(this.#queue.values());
  }

  /** Announcements of one user go out in the order their lookups resolved. */
  #enqueue(user: number, online: boolean, lastSeen?: number): void {
    const next = (this.#queue.get(user) ?? Promise.resolve()).then(() => this.#announce(user, online, lastSeen));
    this.#queue.set(user, next);
    void next.then(() => {
      if (this.#queue.get(user) === next) this.#queue.delete(user);
    });
  }

  async #announce(user: number, online: boolean, lastSeen?: number): Promise<void> {
    if (this.#paused) return;
    try {
      const [rooms, record] = await Promise.all([this.deps.relational.roomsOf(user), this.deps.privacy?.recordOf(user)]);
      // docs/protocol.md, "Privacy settings": everyone sharing a room, contacts (1:1 rooms) only, or
      // nobody; never anyone on the other side of a block.
      const shown = record?.settings.lastSeen ?? 'everyone';
      if (shown === 'nobody') return;
      const contacts = new Set<number>();
      for (const room of rooms) {
        if (shown === 'contacts' && room.kind !== 'direct') continue;
        for (const m of room.members) if (m !== user) contacts.add(m);
      }
      for (const other of [...(record?.blocked ?? []), ...(record?.blockedBy ?? [])]) contacts.delete(other);
      if (contacts.size === 0 || this.#paused) return;
      this.deps.bus.publish({ kind: 'presence', room: '', members: [...contacts], user, online, ...(online ? {} : { lastSeen }) });
    } catch (err) {
      this.deps.log.warn({ err, user }, 'could not announce presence');
    }
  }
}
