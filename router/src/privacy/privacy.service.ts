/**
 * Blocking and privacy settings, the rules: who may be blocked, what is stored, and the `privacy`
 * event that makes every node apply a change at once (privacy.cache.ts). Blocking twice and
 * unblocking someone not blocked are not errors: the request's outcome is the state asked for.
 */
import type { AuthStore, UserProfile } from '../../../db/auth.port.ts';
import type { BlockRecord, PrivacyStore } from '../../../db/privacy.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { BlockJson, PrivacySettings } from '../../../protocol/http.ts';
import type { Bus } from '../live/bus.port.ts';

export interface PrivacyServiceDeps {
  privacy: Pick<PrivacyStore, 'block' | 'unblock' | 'blocksOf' | 'settingsOf' | 'setSettings'>;
  /** Profiles of the users a block names. */
  auth: Pick<AuthStore, 'profile'>;
  bus: Pick<Bus, 'publish'>;
}

export class PrivacyService {
  readonly #deps: PrivacyServiceDeps;

  constructor(deps: PrivacyServiceDeps) {
    this.#deps = deps;
  }

  /** `me` blocks `other`: `cannot_block_self`, `user_not_found`; again is fine. */
  async block(me: number, other: number): Promise<BlockJson> {
    if (me === other) throw new AppError('cannot_block_self');
    const user = await this.#deps.auth.profile(other);
    if (!user) throw new AppError('user_not_found');
    await this.#deps.privacy.block(me, other);
    // After the write: a node that loads either user from now on reads it, and the event covers those that hold them.
    this.#deps.bus.publish({ kind: 'privacy', user: me, block: { user: other, on: true } });
    const since = (await this.#deps.privacy.blocksOf(me)).find((b) => b.user === other)?.since ?? Date.now();
    return toJson(user, since);
  }

  /** `me` unblocks `other`; unblocking someone not blocked (or who does not exist) changes nothing. */
  async unblock(me: number, other: number): Promise<void> {
    await this.#deps.privacy.unblock(me, other);
    this.#deps.bus.publish({ kind: 'privacy', user: me, block: { user: other, on: false } });
  }

  /** Whom `me` blocked, newest first, with their profiles (a deleted account drops out). */
  async blocks(me: number): Promise<BlockJson[]> {
    const blocks = await this.#deps.privacy.blocksOf(me);
    const profiles = await Promise.all(blocks.map((b: BlockRecord) => this.#deps.auth.profile(b.user)));
    return blocks.flatMap((b, i) => (profiles[i] ? [toJson(profiles[i], b.since)] : []));
  }

  async settings(me: number): Promise<PrivacySettings> {
    return (await this.#deps.privacy.settingsOf([me])).get(me)!;
  }

  async setSettings(me: number, change: Partial<PrivacySettings>): Promise<PrivacySettings> {
    const settings = await this.#deps.privacy.setSettings(me, change);
    this.#deps.bus.publish({ kind: 'privacy', user: me, settings });
    return settings;
  }
}

const toJson = (user: UserProfile, since: number): BlockJson => ({ user: { id: user.id, handle: user.handle, displayName: user.displayName, avatarUrl: user.avatarUrl }, since: new Date(since).toISOString() });
