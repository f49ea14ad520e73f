/**
 * The outbox: messages written here and not yet acknowledged by the server. They survive reloads
 * (the cache keeps them) and go out again with the same clientMsgId until a `message.sent` or the
 * message itself comes back, so the server stores each exactly once. Time comes in as a parameter.
 */
import { LIMITS, type Attachment, type ClientFrame, type Message, type ReplyPreview } from '../../../../protocol/frames.ts';
import type { ErrorCode } from '../../../../protocol/errors.ts';
import { textProblem } from '../../../../protocol/text.ts';

/** A message the server has not acknowledged yet; re-sent with the same clientMsgId until it is. */
export interface OutboxItem {
  clientMsgId: string;
  room: string;
  /** The recipient of a 1:1 message (its room may not exist on the server yet); absent for a group, sent by `room`. */
  to?: number;
  /** The text; for a forward, the original's (shown while it waits). */
  body: string;
  /** When it was written (ms); shown as its time until the server's `ts` replaces it. */
  createdAt: number;
  /** A reply: the message it answers, as it was when the reply was written (sent as `replyTo: seq`). */
  replyTo?: ReplyPreview;
  /** A forward (sent as `message.forward`): the message copied and who wrote it. */
  forward?: Forward;
  /**
   * Photos and files already uploaded (`POST /api/uploads`), sent by id; `body` is then an optional
   * caption. Kept whole so the waiting bubble shows them as they will look.
   */
  attachments?: Attachment[];
}

/** What a forward copies: the message (`room`, `seq`) and the marker the copy shows. */
export interface Forward {
  room: string;
  seq: number;
  from: NonNullable<Message['forwarded']>;
}

/** A sent message without `message.sent` after this long (ms) is sent again (same clientMsgId). */
export const RESEND_MS = 8000;

/** Refusals no resend can fix (too long, conflict, not allowed, not storable): such a send leaves the outbox. */
const FINAL_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'body_too_long',
  'invalid_recipient',
  'user_not_found',
  'room_not_found',
  'conflict',
  'invalid_frame',
  'message_rejected',
  // A reply or forward whose original is gone or deleted: sending it again cannot help.
  'message_not_found',
  'message_deleted',
]);

export function isFinalRefusal(code: ErrorCode): boolean {
  return FINAL_REFUSALS.has(code);
}

/**
 * The outbox item for `body` (to user `to` in a 1:1 room), maybe a reply or a forward, or null when
 * the text rule or the length limit refuses it.
 */
export function outboxItem(
  room: string,
  to: number | undefined,
  body: string,
  clientMsgId: string,
  now: number,
  extra: Pick<OutboxItem, 'replyTo' | 'forward' | 'attachments'> = {},
): OutboxItem | null {
  const files = extra.attachments?.length ? [...extra.attachments] : undefined;
  // With attachments the caption may be empty; a message with none needs a body.
  const captionOnly = files !== undefined && body === '';
  if ((!captionOnly && textProblem(body, 'body') !== null) || body.length > LIMITS.maxBodyLength || (files && files.length > LIMITS.attachmentsMax)) return null;
  const item: OutboxItem = to === undefined ? { clientMsgId, room, body, createdAt: now } : { clientMsgId, room, to, body, createdAt: now };
  if (extra.forward) item.forward = extra.forward;
  else if (extra.replyTo) item.replyTo = extra.replyTo;
  if (files && !extra.forward) item.attachments = files;
  return item;
}

/**
 * The frame of an outbox item: `message.send` (a reply names the seq it answers) or
 * `message.forward`; by recipient in a 1:1 room, by room id in a group.
 */
export function sendFrame(item: OutboxItem): Extract<ClientFrame, { type: 'message.send' | 'message.forward' }> {
  const where = item.to === undefined ? { room: item.room } : { to: item.to };
  if (item.forward) return { type: 'message.forward', clientMsgId: item.clientMsgId, from: { room: item.forward.room, seq: item.forward.seq }, ...where };
  const frame = { type: 'message.send', clientMsgId: item.clientMsgId, body: item.body, ...where } as const;
  const withFiles = item.attachments?.length ? { ...frame, attachments: item.attachments.map((a) => a.id) } : frame;
  return item.replyTo ? { ...withFiles, replyTo: item.replyTo.seq } : withFiles;
}

/**
 * Which outbox items are on the wire and since when. Kept in memory only: after a reload or a
 * reconnect everything is sent again, which the server dedupes by clientMsgId.
 */
export class InFlight {
  private readonly since = new Map<string, number>();

  has(clientMsgId: string): boolean {
    return this.since.has(clientMsgId);
  }

  mark(clientMsgId: string, now: number): void {
    this.since.set(clientMsgId, now);
  }

  /** Forgets one send, so the next flush sends it again (a retry asked for). */
  forget(clientMsgId: string): void {
    this.since.delete(clientMsgId);
  }

  /** Forgets everything (the socket is gone, so nothing is on the wire any more). */
  clear(): void {
    this.since.clear();
  }

  /** Forgets sends older than RESEND_MS, so the next flush sends them again. */
  expire(now: number): void {
    for (const [id, at] of this.since) if (now - at > RESEND_MS) this.since.delete(id);
  }

  /** Forgets items that left the outbox. */
  keepOnly(outbox: readonly OutboxItem[]): void {
    const ids = new Set(outbox.map((o) => o.clientMsgId));
    for (const id of this.since.keys()) if (!ids.has(id)) this.since.delete(id);
  }

  /** The items to send now: every one not in flight, oldest first. */
  due(outbox: readonly OutboxItem[]): OutboxItem[] {
    return outbox.filter((o) => !this.since.has(o.clientMsgId));
  }
}
