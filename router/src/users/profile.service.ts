/**
 * Profile changes: stores the new display name (or avatar) and tells everyone who shows it, live:
 * a `user.updated` frame to every member of every room the user is in, and to the user's own other
 * devices, on every node (through the bus). A device that misses it catches up at its next sync,
 * whose `sync.done` members carry the profile as it now is.
 */
import type { AuthStore, UserProfile } from '../../../db/auth.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { Bus } from '../live/bus.port.ts';

export interface ProfileServiceDeps {
  auth: Pick<AuthStore, 'updateProfile'>;
  relational: Pick<RelationalStore, 'roomsOf'>;
  bus: Pick<Bus, 'publish'>;
  log: Pick<Logger, 'warn'>;
}

export class ProfileService {
  readonly #deps: ProfileServiceDeps;

  constructor(deps: ProfileServiceDeps) {
    this.#deps = deps;
  }

  /** Changes the profile and announces it; null when there is no such user. */
  async update(userId: number, change: { displayName?: string; avatarUrl?: string | null }): Promise<UserProfile | null> {
    const user = await this.#deps.auth.updateProfile(userId, change);
    if (user) await this.#announce(user);
    return user;
  }

  /**
   * Best effort, like every live event: the change is stored whatever happens here, and a contact
   * who misses the frame reads the new profile at their next sync.
   */
  async #announce({ id, handle, displayName, avatarUrl }: UserProfile): Promise<void> {
    try {
      const rooms = await this.#deps.relational.roomsOf(id);
      const members = new Set<number>([id]);
      for (const room of rooms) for (const m of room.members) members.add(m);
      this.#deps.bus.publish({ kind: 'profile', room: '', members: [...members], profile: { id, handle, displayName, ...(avatarUrl ? { avatarUrl } : {}) } });
    } catch (err) {
      this.#deps.log.warn({ err, user: id }, 'could not announce a profile change');
    }
  }
}
