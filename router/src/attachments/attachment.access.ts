/**
 * Who may fetch an attachment, checked on every request: its uploader, and the members of the room
 * whose message carries it who see that message (a group member from the seq they joined at to the
 * one they left at; in a 1:1 room, not one withheld from them because they blocked its sender).
 * Anyone else gets the same `not_found` as for an id that does not exist, so nobody learns that
 * an attachment exists by guessing.
 */
import type { PrivacyStore } from '../../../db/privacy.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { UploadRecord, UploadStore } from '../../../db/upload.port.ts';
import { AppError } from '../../../protocol/app-error.ts';

export interface AccessDeps {
  uploads: Pick<UploadStore, 'get'>;
  relational: Pick<RelationalStore, 'membershipOf'>;
  withheld: Pick<PrivacyStore, 'withheldIn'>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The upload `id` if `user` may fetch it; `not_found` otherwise, whatever the reason. */
export async function attachmentFor(user: number, id: string, deps: AccessDeps): Promise<UploadRecord> {
  const upload = UUID.test(id) ? await deps.uploads.get(id) : null;
  if (!upload) throw new AppError('not_found');
  if (upload.owner === user) return upload;
  const claim = upload.claim;
  if (!claim || claim.seq === null) throw new AppError('not_found');
  const own = await deps.relational.membershipOf(claim.room, user);
  if (!own || claim.seq < own.joinedSeq || (own.leftSeq !== null && claim.seq > own.leftSeq)) throw new AppError('not_found');
  if ((await deps.withheld.withheldIn(user, claim.room, claim.seq, claim.seq)).length > 0) throw new AppError('not_found');
  return upload;
}
