/**
 * The chatroom actor: one per active room per node. It loads the room (creating a 1:1 room on its
 * first message), checks that the requester is a member, hands messages to the group commit,
 * acknowledges them once durable, and publishes them, receipts and typing to the bus.
 *
 * Its state is a cache of what the stores hold, so the supervision rule is simple: on a crash the
 * requester gets an error frame (its client retries with the same clientMsgId, which is
 * idempotent) and the actor is reset, reloading the room on its next message. Nothing
 * acknowledged can be lost, because nothing is acknowledged before the store has it.
 */
import { spawn, type Ref } from 'nact';
import { isHistoryContentError, type AppendOutcome } from '../../../db/history.port.ts';
import type { RoomRecord, Watermarks } from '../../../db/relational.port.ts';
import { LIMITS, type Message } from '../../../protocol/frames.ts';
import { AppError, toAppError } from '../../../protocol/app-error.ts';
import type { Connection } from '../socket/connection.ts';
import type { RouterContext } from '../router.context.ts';

export type RoomMsg =
  | { type: 'send'; conn: Connection; ref: string; to?: number; clientMsgId: string; body: string }
  | { type: 'receipt'; conn: Connection; kind: 'delivered' | 'read'; seq: number }
  | { type: 'typing'; conn: Connection; active: boolean }
  | { type: 'history'; conn: Connection; ref?: string; before?: number; after?: number; limit?: number };

/** A room as this node caches it; the watermarks and `lastSeq` only ever rise. */
type LoadedRoom = RoomRecord & Watermarks & {
  /** Highest seq this node knows the room has. */
  lastSeq: number;
};

interface RoomState {
  /** Null until loaded; stays null while the room does not exist. */
  room: LoadedRoom | null;
}

const initialState = (): RoomState => ({ room: null });

/** Spawns the actor of one room under `parent`. */
export function spawnChatroom(parent: Ref<unknown>, roomId: string, ctx: RouterContext): Ref<RoomMsg> {
  return spawn(
    parent,
    async (state: RoomState, msg: RoomMsg): Promise<RoomState> => handle(state, msg, roomId, ctx),
    roomId,
    {
      initialStateFunc: initialState,
      onCrash: (msg, err, sup) => {
        ctx.log.error({ err, room: roomId, msg: msg?.type }, 'chatroom actor crashed; resetting');
        if (msg && 'ref' in msg && msg.ref !== undefined) msg.conn.send({ type: 'error', ...errorBody(err), ref: msg.ref });
        return sup.reset;
      },
    },
  );
}

function errorBody(err: unknown) {
  const e = toAppError(err);
  return { code: e.code, message: e.message };
}

async function handle(state: RoomState, msg: RoomMsg, roomId: string, ctx: RouterContext): Promise<RoomState> {
  const loaded = await load(state, msg, roomId, ctx);
  const room = loaded.room;
  if (!room || !room.members.includes(msg.conn.user.id)) {
    if (msg.type === 'send' || msg.type === 'history') {
      const err = new AppError(msg.type === 'send' && msg.to !== undefined ? 'user_not_found' : 'room_not_found');
      msg.conn.send({ type: 'error', code: err.code, message: err.message, ...(msg.ref ? { ref: msg.ref } : {}) });
    }
    return loaded;
  }
  await act(room, msg, ctx);
  return loaded;
}

/** Loads the room on first use; a `send` with `to` creates the 1:1 room if both users exist. */
async function load(state: RoomState, msg: RoomMsg, roomId: string, ctx: RouterContext): Promise<RoomState> {
  if (state.room) return state;
  const room =
    msg.type === 'send' && msg.to !== undefined
      ? await ctx.relational.openDirectRoom(msg.conn.user.id, msg.to)
      : await ctx.relational.getRoom(roomId);
  if (!room) return state;
  return { room: { ...room, lastSeq: await ctx.history.lastSeq(roomId) } };
}

async function act(room: LoadedRoom, msg: RoomMsg, ctx: RouterContext): Promise<void> {
  const { conn } = msg;
  switch (msg.type) {
    case 'send': {
      const { ref } = msg;
      // Not awaited: the actor goes on taking messages while the batch is written. The outcome is
      // handled in this continuation rather than sent back through the mailbox: it touches nothing
      // of the actor's state but `lastSeq`, which only rises, so a mailbox hop would buy nothing and
      // cost a dispatch per message (and a wait behind the room's queued sends). Outcomes of
      // one room arrive in submission order (the batcher keeps a room in one batch at a time), and
      // a reset of the actor does not stop them: nothing acknowledged depends on the actor living.
      ctx.batcher.append({ room: room.id, sender: conn.user.id, body: msg.body, clientMsgId: msg.clientMsgId }).then(
        (outcome) => onPersisted(room, conn, ref, outcome, ctx),
        (err) => onNotPersisted(room, conn, ref, err, ctx),
      );
      return;
    }
    case 'receipt':
      return onReceipt(room, msg, ctx);
    case 'typing':
      ctx.bus.publish({ kind: 'typing', room: room.id, members: room.members, origin: conn.id, user: conn.user.id, active: msg.active });
      return;
    case 'history':
      void readHistory(room.id, msg, ctx);
      return;
  }
}

function onPersisted(room: LoadedRoom, conn: Connection, ref: string, outcome: AppendOutcome, ctx: RouterContext): void {
  const m: Message = outcome.message;
  if (outcome.kind === 'conflict') {
    conn.send({ type: 'error', code: 'conflict', message: 'this clientMsgId was used for a different message', ref });
    return;
  }
  const duplicate = outcome.kind === 'duplicate';
  conn.send({ type: 'message.sent', ref, room: m.room, id: m.id, seq: m.seq, ts: m.ts, duplicate });
  if (m.seq > room.lastSeq) room.lastSeq = m.seq;
  if (!duplicate) ctx.metrics.messagesStored.inc();
  // A duplicate goes out again: its first attempt may have been stored without anyone hearing of
  // it (a lost reply, a timeout, a crash between commit and ack), and then nothing published it.
  // A second copy costs little: clients keep messages by (room, seq), a push task has the same key
  // as the first (the worker skips a key done) and the notification the same tag (it replaces).
  ctx.bus.publish({ kind: 'message', room: m.room, members: room.members, origin: conn.id, message: m });
  // After the ack and off the actor's path: presence lookups and the enqueue never delay anyone.
  // A member whose device reported having a repeated message needs no notification for it.
  const notify = duplicate ? room.members.filter((u) => (room.delivered[u] ?? 0) < m.seq) : room.members;
  ctx.notifications.notifier.messageStored(m, notify, conn.user);
}

function onNotPersisted(room: LoadedRoom, conn: Connection, ref: string, err: unknown, ctx: RouterContext): void {
  if (isHistoryContentError(err)) {
    // The store refused this message alone (the group commit split its batch): retrying cannot help.
    ctx.log.warn({ err, room: room.id, sender: conn.user.id }, 'history store refused a message');
    conn.send({ type: 'error', code: 'message_rejected', message: 'the message cannot be stored; do not retry it', ref });
    return;
  }
  ctx.log.error({ err, room: room.id }, 'history append failed');
  conn.send({ type: 'error', code: 'unavailable', message: 'the message may or may not have been stored; retry with the same clientMsgId', ref });
}

async function onReceipt(room: LoadedRoom, msg: Extract<RoomMsg, { type: 'receipt' }>, ctx: RouterContext): Promise<void> {
  const user = msg.conn.user.id;
  // Another node may have stored newer messages; ask the store before clamping a claim down.
  if (msg.seq > room.lastSeq) room.lastSeq = Math.max(room.lastSeq, await ctx.history.lastSeq(room.id));
  const seq = Math.min(msg.seq, room.lastSeq);
  const marks = msg.kind === 'read' ? room.read : room.delivered;
  if (seq <= (marks[user] ?? 0)) return;
  marks[user] = seq;
  if (msg.kind === 'read' && seq > (room.delivered[user] ?? 0)) room.delivered[user] = seq;
  ctx.watermarks.raise(room.id, user, msg.kind, seq);
  ctx.bus.publish({ kind: 'receipt', room: room.id, members: room.members, origin: msg.conn.id, user, receipt: msg.kind, seq });
}

async function readHistory(room: string, msg: Extract<RoomMsg, { type: 'history' }>, ctx: RouterContext): Promise<void> {
  const limit = Math.min(msg.limit ?? 50, LIMITS.historyPageMax);
  try {
    // One extra row tells whether there is more without a second query.
    const rows =
      msg.after !== undefined
        ? await ctx.history.after(room, msg.after, limit + 1)
        : await ctx.history.before(room, msg.before, limit + 1);
    const hasMore = rows.length > limit;
    const messages = rows.slice(0, limit);
    msg.conn.send({ type: 'history.page', ...(msg.ref ? { ref: msg.ref } : {}), room, messages, hasMore });
  } catch (err) {
    ctx.log.error({ err, room }, 'history read failed');
    msg.conn.send({ type: 'error', code: 'unavailable', message: 'history is unavailable; retry', ...(msg.ref ? { ref: msg.ref } : {}) });
  }
}
