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
import { isHistoryContentError, type AppendOutcome, type HistoryStore } from '../../../db/history.port.ts';
import type { RelationalStore, RoomRecord, Watermarks } from '../../../db/relational.port.ts';
import { LIMITS, type Message } from '../../../protocol/frames.ts';
import { AppError, toAppError } from '../../../protocol/app-error.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { Bus } from '../live/bus.port.ts';
import type { RouterMetrics } from '../health/metrics.ts';
import type { PushNotifier } from '../notify/push.notifier.ts';
import type { Connection } from '../socket/connection.ts';
import type { HistoryBatcher } from './history.batcher.ts';
import type { HistoryReader } from './history.reader.ts';
import type { WatermarkBatcher } from './watermark.batcher.ts';

/** What the chatroom actors of a node use: one object per node, shared by every room. */
export interface ChatDeps {
  log: Logger;
  relational: Pick<RelationalStore, 'getRoom' | 'openDirectRoom'>;
  history: Pick<HistoryStore, 'lastSeq'>;
  /** The group commit messages are stored through. */
  batcher: Pick<HistoryBatcher, 'append'>;
  watermarks: Pick<WatermarkBatcher, 'raise'>;
  reader: HistoryReader;
  bus: Pick<Bus, 'publish'>;
  /** Queues push notifications for a stored message. */
  notifier: Pick<PushNotifier, 'messageStored'>;
  metrics: Pick<RouterMetrics, 'messagesStored'>;
}

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
export function spawnChatroom(parent: Ref<unknown>, roomId: string, deps: ChatDeps): Ref<RoomMsg> {
  return spawn(
    parent,
    async (state: RoomState, msg: RoomMsg): Promise<RoomState> => handle(state, msg, roomId, deps),
    roomId,
    {
      initialStateFunc: initialState,
      onCrash: (msg, err, sup) => {
        deps.log.error({ err, room: roomId, msg: msg?.type }, 'chatroom actor crashed; resetting');
        if (msg && 'ref' in msg && msg.ref !== undefined) msg.conn.fail(toAppError(err), msg.ref);
        return sup.reset;
      },
    },
  );
}

async function handle(state: RoomState, msg: RoomMsg, roomId: string, deps: ChatDeps): Promise<RoomState> {
  const loaded = await load(state, msg, roomId, deps);
  const room = loaded.room;
  if (!room || !room.members.includes(msg.conn.user.id)) {
    if (msg.type === 'send' || msg.type === 'history') {
      msg.conn.fail(new AppError(msg.type === 'send' && msg.to !== undefined ? 'user_not_found' : 'room_not_found'), msg.ref);
    }
    return loaded;
  }
  await act(room, msg, deps);
  return loaded;
}

/** Loads the room on first use; a `send` with `to` creates the 1:1 room if both users exist. */
async function load(state: RoomState, msg: RoomMsg, roomId: string, deps: ChatDeps): Promise<RoomState> {
  if (state.room) return state;
  const room =
    msg.type === 'send' && msg.to !== undefined
      ? await deps.relational.openDirectRoom(msg.conn.user.id, msg.to)
      : await deps.relational.getRoom(roomId);
  if (!room) return state;
  return { room: { ...room, lastSeq: await deps.history.lastSeq(roomId) } };
}

async function act(room: LoadedRoom, msg: RoomMsg, deps: ChatDeps): Promise<void> {
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
      deps.batcher.append({ room: room.id, sender: conn.user.id, body: msg.body, clientMsgId: msg.clientMsgId }).then(
        (outcome) => onPersisted(room, conn, ref, outcome, deps),
        (err) => onNotPersisted(room, conn, ref, err, deps),
      );
      return;
    }
    case 'receipt':
      return onReceipt(room, msg, deps);
    case 'typing':
      deps.bus.publish({ kind: 'typing', room: room.id, members: room.members, origin: conn.id, user: conn.user.id, active: msg.active });
      return;
    case 'history':
      // Not awaited: the page goes at the client's pace, and a slow reader must not hold up the
      // room's other members. Its connection's rate limit bounds how many it has under way.
      void sendHistory(room.id, msg, deps);
      return;
  }
}

function onPersisted(room: LoadedRoom, conn: Connection, ref: string, outcome: AppendOutcome, deps: ChatDeps): void {
  if (outcome.kind === 'refused') {
    conn.fail(new AppError('room_not_found'), ref);
    return;
  }
  const m: Message = outcome.message;
  if (outcome.kind === 'conflict') {
    conn.fail(new AppError('conflict', 'this clientMsgId was used for a different message'), ref);
    return;
  }
  const duplicate = outcome.kind === 'duplicate';
  conn.reply({ type: 'message.sent', ref, room: m.room, id: m.id, seq: m.seq, ts: m.ts, duplicate });
  if (m.seq > room.lastSeq) room.lastSeq = m.seq;
  if (!duplicate) deps.metrics.messagesStored.inc();
  // A duplicate goes out again: its first attempt may have been stored without anyone hearing of
  // it (a lost reply, a timeout, a crash between commit and ack), and then nothing published it.
  // A second copy costs little: clients keep messages by (room, seq), a push task has the same key
  // as the first (the worker skips a key done) and the notification the same tag (it replaces).
  deps.bus.publish({ kind: 'message', room: m.room, members: room.members, origin: conn.id, message: m });
  // After the ack and off the actor's path: presence lookups and the enqueue never delay anyone.
  // A member whose device reported having a repeated message needs no notification for it.
  const notify = duplicate ? room.members.filter((u) => (room.delivered[u] ?? 0) < m.seq) : room.members;
  deps.notifier.messageStored(m, notify, conn.user);
}

function onNotPersisted(room: LoadedRoom, conn: Connection, ref: string, err: unknown, deps: ChatDeps): void {
  if (isHistoryContentError(err)) {
    // The store refused this message alone (the group commit split its batch): retrying cannot help.
    deps.log.warn({ err, room: room.id, sender: conn.user.id }, 'history store refused a message');
    conn.fail(new AppError('message_rejected', 'the message cannot be stored; do not retry it'), ref);
    return;
  }
  deps.log.error({ err, room: room.id }, 'history append failed');
  conn.fail(new AppError('unavailable', 'the message may or may not have been stored; retry with the same clientMsgId'), ref);
}

async function onReceipt(room: LoadedRoom, msg: Extract<RoomMsg, { type: 'receipt' }>, deps: ChatDeps): Promise<void> {
  const user = msg.conn.user.id;
  // Another node may have stored newer messages; ask the store before clamping a claim down.
  if (msg.seq > room.lastSeq) room.lastSeq = Math.max(room.lastSeq, await deps.history.lastSeq(room.id));
  const seq = Math.min(msg.seq, room.lastSeq);
  const marks = msg.kind === 'read' ? room.read : room.delivered;
  if (seq <= (marks[user] ?? 0)) return;
  marks[user] = seq;
  if (msg.kind === 'read' && seq > (room.delivered[user] ?? 0)) room.delivered[user] = seq;
  deps.watermarks.raise(room.id, user, msg.kind, seq);
  deps.bus.publish({ kind: 'receipt', room: room.id, members: room.members, origin: msg.conn.id, user, receipt: msg.kind, seq });
}

/** Answers `history.get` with one page, oldest first, through the history reader. */
async function sendHistory(room: string, msg: Extract<RoomMsg, { type: 'history' }>, deps: ChatDeps): Promise<void> {
  const limit = Math.min(msg.limit ?? 50, LIMITS.historyPageMax);
  try {
    const page = await deps.reader.page(room, msg.after !== undefined ? { after: msg.after } : { before: msg.before }, limit);
    await deps.reader.write(msg.conn, room, page, msg.ref);
  } catch (err) {
    deps.log.error({ err, room }, 'history read failed');
    msg.conn.fail(new AppError('unavailable', 'history is unavailable; retry'), msg.ref);
  }
}
