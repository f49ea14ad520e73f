/**
 * Avatars of users and groups (docs/http-api.md, "Avatars"): the body spooled like an upload, sniffed from its
 * bytes and refused unless it is an image, cut to a square WebP with no metadata, stored in the blob
 * store under a new key, and named on the profile as `/api/avatars/<id>`. A new avatar's blob is
 * never the old one's (so a download may be cached as immutable); the replaced blob is deleted.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileTypeFromFile } from 'file-type';
import type { AuthStore, UserProfile } from '../../../db/auth.port.ts';
import type { BlobStore } from '../../../db/blob.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { Logger } from '../../../kit/logger.ts';
import { AppError } from '../../../protocol/app-error.ts';
import { manages } from '../chat/group.rules.ts';
import type { ProfileService } from '../users/profile.service.ts';
import type { AttachmentsConfig } from './attachments.config.ts';
import { isImageExt, squareAvatar } from './image.process.ts';
import { asUploadError } from './upload.service.ts';
import { spool } from './upload.spool.ts';

const PREFIX = '/api/avatars/';
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for an id an avatar of ours can have (a UUID); anything else is never looked up. */
export const isAvatarId = (id: string): boolean => ID.test(id);
/** The blob key of avatar `id`. */
export const avatarKey = (id: string): string => `v/${id}`;
/** The id of the avatar `url` names when it is one of ours (not a provider's https URL), else null. */
export function avatarIdOf(url: string | null | undefined): string | null {
  const id = url?.startsWith(PREFIX) ? url.slice(PREFIX.length) : null;
  return id !== null && isAvatarId(id) ? id : null;
}

export interface AvatarDeps {
  blobs: Pick<BlobStore, 'put' | 'delete'>;
  auth: Pick<AuthStore, 'profile'>;
  profiles: Pick<ProfileService, 'update'>;
  relational: Pick<RelationalStore, 'getRoom' | 'setRoomAvatar'>;
  spoolDir: string;
  config: Pick<AttachmentsConfig, 'maxBytes' | 'imageMaxPixels'>;
  log: Pick<Logger, 'warn'>;
}

export class AvatarService {
  readonly #deps: AvatarDeps;

  constructor(deps: AvatarDeps) {
    this.#deps = deps;
  }

  /** Makes the image in `body` the user's avatar; the profile as it now is. */
  async set(userId: number, body: Readable, length: number | undefined): Promise<UserProfile> {
    const before = await this.#deps.auth.profile(userId);
    if (!before || before.deleted) throw new AppError('unauthenticated');
    const id = await this.#store(body, length);
    const user = await this.#deps.profiles.update(userId, { avatarUrl: PREFIX + id }).catch(async (err: unknown) => {
      await this.#drop(id);
      throw err;
    });
    if (!user) {
      await this.#drop(id);
      throw new AppError('unauthenticated');
    }
    await this.#drop(avatarIdOf(before.avatarUrl));
    return user;
  }

  /** Removes the user's avatar (a provider's picture too); the profile as it now is. */
  async remove(userId: number): Promise<UserProfile> {
    const before = await this.#deps.auth.profile(userId);
    if (!before || before.deleted) throw new AppError('unauthenticated');
    const user = await this.#deps.profiles.update(userId, { avatarUrl: null });
    if (!user) throw new AppError('unauthenticated');
    await this.#drop(avatarIdOf(before.avatarUrl));
    return user;
  }

  /**
   * Makes the image in `body` (or, with null, nothing) the photo of group `room`; its new URL. Only
   * its owner and admins may, the rule that guards renaming; checked before a byte of the body is read.
   * Members read it in the group's summary at their next sync.
   */
  async setGroup(userId: number, room: string, body: Readable | null, length?: number): Promise<string | null> {
    const group = await this.#deps.relational.getRoom(room);
    if (!group || !group.members.includes(userId)) throw new AppError('room_not_found');
    if (group.kind !== 'group') throw new AppError('wrong_room_kind');
    if (!manages(group.roles?.[userId])) throw new AppError('not_admin');
    const id = body ? await this.#store(body, length) : null;
    const url = id === null ? null : PREFIX + id;
    const before = await this.#deps.relational.setRoomAvatar(room, url).catch(async (err: unknown) => {
      await this.#drop(id);
      throw err;
    });
    await this.#drop(avatarIdOf(before));
    return url;
  }

  /** Spools, checks and squares the image, and stores it under a new id. */
  async #store(body: Readable, length: number | undefined): Promise<string> {
    const { blobs, config, spoolDir } = this.#deps;
    if (length !== undefined && length > config.maxBytes) throw new AppError('file_too_large');
    if (length === 0) throw new AppError('file_empty');
    const spooled = await spool(body, spoolDir, config.maxBytes, length).catch((err: unknown) => {
      throw asUploadError(err);
    });
    try {
      const ext = (await fileTypeFromFile(spooled.path))?.ext;
      if (!isImageExt(ext)) throw new AppError('not_an_image');
      const webp = await squareAvatar(spooled.path, config.imageMaxPixels).catch((err: unknown) => {
        throw asUploadError(err);
      });
      const id = randomUUID();
      await blobs.put(avatarKey(id), Readable.from([webp]), webp.length, 'image/webp');
      return id;
    } finally {
      await rm(spooled.path, { force: true });
    }
  }

  /** Best effort: a blob left behind costs bytes, never a wrong picture (its id is on no profile). */
  async #drop(id: string | null): Promise<void> {
    if (id === null) return;
    await this.#deps.blobs.delete(avatarKey(id)).catch((err: unknown) => this.#deps.log.warn({ err, avatar: id }, 'could not delete a replaced avatar'));
  }
}
