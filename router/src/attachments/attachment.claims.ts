/**
 * A message's attachments through its append, so nothing half-applies: the uploads are claimed
 * for the message (room, clientMsgId) all or none before it goes to the group commit, given back
 * when the log refuses it, and settled at its seq (the seq that decides who may fetch them)
 * before its sender hears "sent". A failed append leaves the claim: a retry with the same
 * clientMsgId claims the same uploads again, and a claim never stored is swept after the TTL.
 */
import type { AppendOutcome, NewMessage } from '../../../db/history.port.ts';
import { attachmentOf, type UploadStore } from '../../../db/upload.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { Clock } from '../../../db/clock.ts';

export interface ClaimDeps {
  uploads: Pick<UploadStore, 'claim' | 'release' | 'settle'>;
  clock: Clock;
}

/** Claims `ids` for `entry` and puts what the message shows of them on it; `attachment_not_found` when any is not the sender's to send. */
export async function claimAttachments(entry: NewMessage, ids: readonly string[], deps: ClaimDeps): Promise<void> {
  const claimed = await deps.uploads.claim(entry.sender, ids, { room: entry.room, clientMsgId: entry.clientMsgId, at: deps.clock.now() });
  if (!claimed) throw new AppError('attachment_not_found');
  entry.attachments = claimed.map(attachmentOf);
}

/** After the append: the claim settled at the stored seq, or given back when nothing was stored. */
export async function settleAttachments(entry: NewMessage, ids: readonly string[], outcome: AppendOutcome, deps: ClaimDeps): Promise<void> {
  if (outcome.kind === 'stored' || outcome.kind === 'duplicate') await deps.uploads.settle(ids, entry.room, entry.clientMsgId, outcome.message.seq);
  else await deps.uploads.release(ids, entry.room, entry.clientMsgId);
}
