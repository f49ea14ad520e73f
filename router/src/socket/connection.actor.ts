/**
 * The connection actor: one per socket. It decodes and validates every frame at the edge,
 * rate-limits the user, and hands each request to the room's actor (or answers a sync itself).
 * Frames of one socket are handled one at a time, in order.
 *
 * Supervision: a crash closes this one socket with 1011 and stops this actor; no other connection
 * or room notices. The client reconnects and resyncs, so nothing is lost.
 */
import { spawn, type Ref, type SupervisionActorFunc } from 'nact';
import { CLIENT_FRAME_TYPES, clientFrameSchema, refSchema } from '../../../protocol/frames.schema.ts';
import { directRoomId, GROUP_ID_PREFIX, LIMITS, type ClientFrame } from '../../../protocol/frames.ts';
import { uuid7 } from '../../../db/uuid7.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { SessionActivity } from '../auth/session.activity.ts';
import type { ChatroomDirectory } from '../chat/chatroom.directory.ts';
import { syncRooms, type SyncDeps } from '../chat/sync.ts';
import { forwardOf, type ForwardDeps } from '../chat/message.actions.ts';
import type { RouterMetrics } from '../health/metrics.ts';
import type { PrivacyCache } from '../privacy/privacy.cache.ts';
import type { Connection } from './connection.ts';
import type { RefusalWindow } from './refusal.window.ts';
import type { ConnectionRegistry } from './registry.ts';

/** What the connection actors of a node use: one object per node, shared by every socket. */
export interface ConnectionActorDeps {
  log: Logger;
  /** Each user's rate-limit bucket and the refusal windows. */
  registry: Pick<ConnectionRegistry, 'bucketOf' | 'refusalWindow'>;
  metrics: Pick<RouterMetrics, 'framesRateLimited'>;
  /** Where requests about a room go. */
  rooms: Pick<ChatroomDirectory, 'tell'>;
  /** What a `sync` reads. */
  sync: SyncDeps;
  /** What a `message.forward` reads of its source. */
  forward: ForwardDeps;
  /** The user's blocks and settings, which the room actors read without a store round trip: loaded before the first frame is routed. */
  privacy: Pick<PrivacyCache, 'get' | 'ensure' | 'forget'>;
  /** Marks the socket's session used (last active, sliding expiry), at most once a step. */
  activity: Pick<SessionActivity, 'seen'>;
}

export type ConnectionMsg = { type: 'frame'; text: string };

interface ConnState {
  /** This socket's rate-limit refusals; made at the first one, so a socket never refused carries none. */
  refusals?: RefusalWindow;
}

/** The state is replaced, never changed, so every new actor can start from one object. */
const FRESH: ConnState = Object.freeze({});

/** Spawns the actor that owns `conn`'s inbound frames. */
export function spawnConnection(parent: Ref<unknown>, conn: Connection, deps: ConnectionActorDeps): Ref<ConnectionMsg> {
  return spawn(parent, async (state: ConnState, msg: ConnectionMsg): Promise<ConnState> => onFrame(state, msg.text, conn, deps), conn.id, {
    initialState: FRESH,
    onCrash: crashHandler(conn, deps),
  });
}

/**
 * Made by a function rather than inline: one of these lives as long as each socket, and an arrow
 * written inside an object literal gets a name-keeping wrapper from the TypeScript loader that
 * costs 256 bytes per socket.
 */
function crashHandler(conn: Connection, deps: ConnectionActorDeps): SupervisionActorFunc<ConnectionMsg, Ref<unknown>, Ref<unknown>> {
  return (_msg, err, sup) => {
    deps.log.error({ err, conn: conn.id, user: conn.user.id }, 'connection actor crashed; closing its socket');
    conn.close('internal_error');
    return sup.stop;
  };
}

async function onFrame(state: ConnState, text: string, conn: Connection, deps: ConnectionActorDeps): Promise<ConnState> {
  if (!conn.open) return state;
  if (!deps.registry.bucketOf(conn.user.id).take()) return refuse(state, conn, deps);
  // A socket is its session in use, like an HTTP request: the app's pings keep an open tab active.
  conn.sessionActiveAt = deps.activity.seen(conn.sessionId, conn.sessionActiveAt);
  const decoded = decode(text);
  if (!decoded.ok) {
    conn.fail(decoded.error, decoded.ref);
    return state;
  }
  if (!deps.privacy.get(conn.user.id)) {
    try {
      await deps.privacy.ensure(conn.user.id);
    } catch (err) {
      deps.log.warn({ err, user: conn.user.id }, 'could not load a user\'s privacy');
      conn.fail(new AppError('unavailable', 'retry'), refOf(decoded.frame));
      return state;
    }
  }
  await route(decoded.frame, conn, deps);
  return state;
}

/** Drops a frame over the rate limit: answered once per window, closed when the client keeps flooding. */
function refuse(state: ConnState, conn: Connection, deps: ConnectionActorDeps): ConnState {
  const refusals = state.refusals ?? deps.registry.refusalWindow();
  deps.metrics.framesRateLimited.inc();
  const verdict = refusals.refuse();
  if (verdict === 'answer') conn.fail(new AppError('rate_limited'));
  else if (verdict === 'close') conn.close('policy_violation');
  return state.refusals ? state : { refusals };
}

/** The reference an answer to `frame` would carry. */
const refOf = (frame: ClientFrame): string | undefined => ('ref' in frame && frame.ref) || ('clientMsgId' in frame ? frame.clientMsgId : undefined);

type Decoded = { ok: true; frame: ClientFrame } | { ok: false; error: AppError; ref?: string };

/**
 * Parses and validates one text frame. Every failure is an AppError with a documented code, with
 * the frame's `ref` (or clientMsgId) when it has a sane one, so the client can match the error.
 */
export function decode(text: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: new AppError('invalid_frame', 'the frame is not valid JSON') };
  }
  const parsed = clientFrameSchema.safeParse(value);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  // Echoed only when it passes the ref's own rule: a bad ref is never sent back.
  const ref = [fields.ref, fields.clientMsgId].find((r): r is string => refSchema.safeParse(r).success);
  const withRef = ref ? { ref } : {};
  if (typeof fields.type === 'string' && !CLIENT_FRAME_TYPES.includes(fields.type)) {
    const error = new AppError('unknown_type', `unknown frame type; this server speaks ${CLIENT_FRAME_TYPES.join(', ')}`);
    return { ok: false, error, ...withRef };
  }
  // The path names the offending field without echoing the client's value back; only our own
  // (custom) messages are passed on, zod's may quote the client's keys.
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'frame';
  const what = issue?.code === 'custom' ? issue.message : (issue?.code ?? 'invalid');
  return { ok: false, error: new AppError('invalid_frame', `${where}: ${what}`), ...withRef };
}

/** The room a `message.send` or `message.forward` goes to, or the refusal of its `to`/`room`. */
function destination(frame: { to?: number | undefined; room?: string | undefined }, me: number): string | AppError {
  if ((frame.to === undefined) === (frame.room === undefined)) return new AppError('invalid_frame', 'exactly one of to and room is required');
  if (frame.to === me) return new AppError('invalid_recipient');
  return frame.to !== undefined ? directRoomId(me, frame.to) : frame.room!;
}

async function route(frame: ClientFrame, conn: Connection, deps: ConnectionActorDeps): Promise<void> {
  const me = conn.user.id;
  switch (frame.type) {
    case 'message.send': {
      const ref = frame.ref ?? frame.clientMsgId;
      const room = destination(frame, me);
      if (room instanceof AppError) return conn.fail(room, ref);
      const body = frame.body ?? '';
      if (body.length > LIMITS.maxBodyLength) {
        return conn.fail(new AppError('body_too_long', `the body is longer than ${LIMITS.maxBodyLength}`), ref);
      }
      deps.rooms.tell(room, {
        type: 'send',
        conn,
        ref,
        clientMsgId: frame.clientMsgId,
        body,
        ...(frame.attachments !== undefined ? { attachments: frame.attachments } : {}),
        ...(frame.to !== undefined ? { to: frame.to } : {}),
        ...(frame.replyTo !== undefined ? { replyTo: frame.replyTo } : {}),
      });
      return;
    }
    case 'message.forward': {
      const ref = frame.ref ?? frame.clientMsgId;
      const room = destination(frame, me);
      if (room instanceof AppError) return conn.fail(room, ref);
      // Read here, one socket's frames at a time, so the target room's actor is not held up by it.
      let copy: Awaited<ReturnType<typeof forwardOf>>;
      try {
        copy = await forwardOf(me, frame.from, deps.forward);
      } catch (err) {
        if (!(err instanceof AppError)) deps.log.error({ err }, 'could not read a forward\'s source');
        return conn.fail(err instanceof AppError ? err : new AppError('unavailable', 'retry'), ref);
      }
      deps.rooms.tell(room, { type: 'send', conn, ref, clientMsgId: frame.clientMsgId, ...copy, ...(frame.to !== undefined ? { to: frame.to } : {}) });
      return;
    }
    case 'message.edit':
      deps.rooms.tell(frame.room, { type: 'change', conn, ...(frame.ref ? { ref: frame.ref } : {}), req: { type: frame.type, seq: frame.seq, body: frame.body } });
      return;
    case 'message.react':
      deps.rooms.tell(frame.room, { type: 'change', conn, ...(frame.ref ? { ref: frame.ref } : {}), req: { type: frame.type, seq: frame.seq, emoji: frame.emoji, on: frame.on } });
      return;
    case 'message.delete':
      if (frame.for === 'me') {
        deps.rooms.tell(frame.room, { type: 'hide', conn, ...(frame.ref ? { ref: frame.ref } : {}), seq: frame.seq });
      } else {
        deps.rooms.tell(frame.room, { type: 'change', conn, ...(frame.ref ? { ref: frame.ref } : {}), req: { type: frame.type, seq: frame.seq } });
      }
      return;
    case 'message.ack':
    case 'message.read':
      deps.rooms.tell(frame.room, { type: 'receipt', conn, kind: frame.type === 'message.ack' ? 'delivered' : 'read', seq: frame.seq });
      return;
    case 'typing':
      deps.rooms.tell(frame.room, { type: 'typing', conn, active: frame.active });
      return;
    case 'history.get': {
      const { type: _, ...query } = frame;
      deps.rooms.tell(frame.room, { type: 'history', conn, ...query });
      return;
    }
    case 'sync':
      await syncRooms(conn, frame, deps.sync);
      return;
    case 'ping':
      conn.reply({ type: 'pong', ...(frame.ref ? { ref: frame.ref } : {}) });
      return;
    case 'group.create': {
      // The id is ours: `g-` and a UUID, which no 1:1 id can be, and no client can choose.
      const room = `${GROUP_ID_PREFIX}${uuid7()}`;
      deps.rooms.tell(room, { type: 'group.create', conn, ...(frame.ref ? { ref: frame.ref } : {}), name: frame.name, members: frame.members });
      return;
    }
    case 'group.rename':
    case 'group.add':
    case 'group.remove':
    case 'group.role':
    case 'group.leave':
      deps.rooms.tell(frame.room, { type: 'group', conn, ...(frame.ref ? { ref: frame.ref } : {}), req: frame });
      return;
    case 'group.members':
      deps.rooms.tell(frame.room, { type: 'members', conn, ...(frame.ref ? { ref: frame.ref } : {}) });
      return;
    default:
      frame satisfies never;
  }
}
