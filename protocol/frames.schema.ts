/**
 * The zod schemas of the client frames of protocol v1 (frames.ts has the shared types). The router
 * validates every frame at the edge with them: strict objects, so an unknown field is an error.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { groupNameSchema, textSchema } from './text.schema.ts';

const userId = z.number().int().positive().max(2 ** 31 - 1);
/** `LOWER-HIGHER` for a 1:1 room, `g-…` for a group (frames.ts, `roomKindOf`). */
const roomId = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/);
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** The client's own reference for a request, echoed back in the reply or error frame. */
export const refSchema = textSchema('plain').min(1).max(64);
const ref = refSchema.optional();
const clientMsgId = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/);

const messageSend = z.strictObject({
  type: z.literal('message.send'),
  ref,
  /** The recipient of a 1:1 message; the room is derived from it. Exactly one of `to` and `room`. */
  to: userId.optional(),
  room: roomId.optional(),
  clientMsgId,
  /**
   * The text rule of bodies (text.ts); length is checked separately so an over-long body gets its
   * own error code. With `attachments`, an optional caption (absent or `''`).
   */
  body: z.union([textSchema('body'), z.literal('')]).optional(),
  /** A reply: the seq of a message (not an event) of the same room the sender can see. */
  replyTo: seq.min(1).optional(),
  /** Upload ids (`POST /api/uploads`) of the sender's own uploads no message carries yet, in the order shown. */
  attachments: z.array(z.string().uuid()).min(1).max(LIMITS.attachmentsMax).optional(),
}).refine((f) => f.attachments !== undefined || (f.body !== undefined && f.body !== ''), { message: 'a message needs a body or attachments', path: ['body'] });

/** A message of a room the sender is a member of, named by its seq. */
const target = { ref, room: roomId, seq: seq.min(1) };

export const clientFrameSchema = z.discriminatedUnion('type', [
  messageSend,
  /**
   * Copies a message the sender can see (`from`) into another room as a new message marked
   * forwarded, answered `message.sent` like `message.send` (same `to`/`room` rule, same idempotency).
   */
  z.strictObject({
    type: z.literal('message.forward'),
    ref,
    to: userId.optional(),
    room: roomId.optional(),
    clientMsgId,
    from: z.strictObject({ room: roomId, seq: seq.min(1) }),
  }),
  /** The sender replaces the body of their own text message, within the edit window. Answered `message.changed`. */
  z.strictObject({ type: z.literal('message.edit'), ...target, body: textSchema('body') }),
  /** `everyone`: the sender (or a group's owner or admin) erases it for all; `me`: hidden on the caller's devices only. */
  z.strictObject({ type: z.literal('message.delete'), ...target, for: z.enum(['everyone', 'me']) }),
  /** Puts (`on`) or takes off one of `REACTIONS`; answered `message.changed`. */
  z.strictObject({ type: z.literal('message.react'), ...target, emoji: z.string().max(16), on: z.boolean() }),
  /** "I have every message of this room up to `seq`" (cumulative): drives the delivered tick. */
  z.strictObject({ type: z.literal('message.ack'), room: roomId, seq }),
  /** "I have shown every message of this room up to `seq`" (cumulative): drives the read tick. */
  z.strictObject({ type: z.literal('message.read'), room: roomId, seq }),
  z.strictObject({ type: z.literal('typing'), room: roomId, active: z.boolean() }),
  /** One page of history, newest first when only `before` is given, oldest first with `after`. */
  z.strictObject({
    type: z.literal('history.get'),
    ref,
    room: roomId,
    before: seq.optional(),
    after: seq.optional(),
    limit: z.number().int().positive().optional(),
  }),
  /** Resume after a gap: every message after `lastSeq` of each listed room, then `sync.done`. */
  z.strictObject({
    type: z.literal('sync'),
    ref,
    rooms: z.array(z.strictObject({ room: roomId, lastSeq: seq })).max(LIMITS.syncRoomsMax),
  }),
  z.strictObject({ type: z.literal('ping'), ref }),
  /**
   * A new group named `name` with the sender as owner and `members` (others; duplicates, the sender
   * and unknown users are refused whole) as members. Answered `group.done` with the new room id.
   */
  z.strictObject({ type: z.literal('group.create'), ref, name: groupNameSchema, members: z.array(userId).max(LIMITS.groupUsersPerFrame) }),
  /** Owner or admin: a new name. */
  z.strictObject({ type: z.literal('group.rename'), ref, room: roomId, name: groupNameSchema }),
  /** Owner or admin: adds users as members, all or none. */
  z.strictObject({ type: z.literal('group.add'), ref, room: roomId, users: z.array(userId).min(1).max(LIMITS.groupUsersPerFrame) }),
  /** Owner or admin: removes a member (an admin cannot remove the owner). */
  z.strictObject({ type: z.literal('group.remove'), ref, room: roomId, user: userId }),
  /** Owner: makes a member an admin, or an admin a member. */
  z.strictObject({ type: z.literal('group.role'), ref, room: roomId, user: userId, role: z.enum(['admin', 'member']) }),
  /** Leaves the group; an owner hands ownership to the longest-standing admin, else member. */
  z.strictObject({ type: z.literal('group.leave'), ref, room: roomId }),
  /** The current members, their roles and receipt watermarks: answered `group.members`. */
  z.strictObject({ type: z.literal('group.members'), ref, room: roomId }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];
export const CLIENT_FRAME_TYPES: readonly string[] = clientFrameSchema.options.map((o) => o.shape.type.value);
