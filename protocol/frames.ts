/**
 * The wire protocol, version 1: JSON text frames over one WebSocket, negotiated with the
 * subprotocol `messenger.v1`. Client frames are validated here, at the edge, with zod; server
 * frames are typed only (we trust ourselves). Router and app import this one module.
 * Prose and examples: docs/protocol.md.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors.ts';

export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = `messenger.v${PROTOCOL_VERSION}`;

/** Hard limits a client must respect; the server also announces them in `hello`. */
export const LIMITS = {
  /** Longest message body, in UTF-16 code units (what JavaScript's `length` counts). */
  maxBodyLength: 4096,
  /** Largest WebSocket frame the server reads, in bytes; a larger one closes with 1009. */
  maxFrameBytes: 64 * 1024,
  /** Most messages in one history page; larger requests are clamped. */
  historyPageMax: 100,
  /** Most rooms in one `sync` request. */
  syncRoomsMax: 1000,
} as const;

const userId = z.number().int().positive().max(2 ** 31 - 1);
/** `LOWER-HIGHER` for a 1:1 room; the charset leaves room for other room kinds later. */
const roomId = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/);
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** The client's own reference for a request, echoed back in the reply or error frame. */
const ref = z.string().min(1).max(64).optional();
const clientMsgId = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/);

const messageSend = z.strictObject({
  type: z.literal('message.send'),
  ref,
  /** The recipient of a 1:1 message; the room is derived from it. Exactly one of `to` and `room`. */
  to: userId.optional(),
  room: roomId.optional(),
  clientMsgId,
  /** Length is checked separately so an over-long body gets its own error code. */
  body: z.string(),
});

export const clientFrameSchema = z.discriminatedUnion('type', [
  messageSend,
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
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];
export const CLIENT_FRAME_TYPES: readonly string[] = clientFrameSchema.options.map((o) => o.shape.type.value);

/** A stored message as every client sees it. `seq` is gap-free per room; `ts` is server time (ms). */
export interface Message {
  id: string;
  room: string;
  seq: number;
  sender: number;
  body: string;
  clientMsgId: string;
  ts: number;
}

export interface PublicUser {
  id: number;
  handle: string;
  displayName: string;
}

/** A room member as `sync.done` lists them: the public profile plus presence at sync time. */
export interface MemberPresence extends PublicUser {
  /** True when the user has a live connection on some router node. */
  online: boolean;
  /** When the user's last connection closed (ms); absent while online or when unknown. */
  lastSeen?: number;
}

export interface RoomSummary {
  room: string;
  members: MemberPresence[];
  lastSeq: number;
  /** Per member id: the highest seq that member's devices acknowledged / read. */
  delivered: Record<string, number>;
  read: Record<string, number>;
}

export type ServerFrame =
  | {
      type: 'hello';
      v: number;
      user: PublicUser;
      connectionId: string;
      limits: typeof LIMITS;
    }
  | { type: 'message.sent'; ref: string; room: string; id: string; seq: number; ts: number; duplicate: boolean }
  | { type: 'message.new'; message: Message }
  | { type: 'receipt'; room: string; user: number; kind: 'delivered' | 'read'; seq: number }
  | { type: 'typing'; room: string; user: number; active: boolean }
  | { type: 'history.page'; ref?: string; room: string; messages: Message[]; hasMore: boolean }
  | { type: 'sync.done'; ref?: string; rooms: RoomSummary[] }
  /** A contact (someone sharing a room) came online or went offline; `lastSeen` only when offline. */
  | { type: 'presence'; user: number; online: boolean; lastSeen?: number }
  | { type: 'pong'; ref?: string }
  | { type: 'error'; code: ErrorCode; message: string; ref?: string };

export type ServerFrameType = ServerFrame['type'];

/** The 1:1 room of two users: ids sorted numerically and joined, `LOWER-HIGHER`. */
export function directRoomId(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
