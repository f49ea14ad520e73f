/**
 * The wire protocol, version 1: JSON text frames over one WebSocket, negotiated with the
 * subprotocol `messenger.v1`. This module holds the types and constants router and app share; the
 * zod schemas that validate client frames at the router's edge are in frames.schema.ts, so the app
 * does not ship a validator it never runs. Prose and examples: docs/protocol.md.
 */
import type { ErrorCode } from './errors.ts';

import type { LIMITS } from './limits.ts';

export { LIMITS, PROTOCOL_VERSION, SUBPROTOCOL } from './limits.ts';
export type { ClientFrame, ClientFrameType } from './frames.schema.ts';

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
