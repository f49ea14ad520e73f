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
import { isHistoryContentError, type AppendOutcome, type GroupState, type HistoryStore, type NewMessage } from '../../../db/history.port.ts';
import type { RelationalStore, RoomRecord, Watermarks } from '../../../db/relational.port.ts';
import { LIMITS, roomKindOf, type GroupLimits, type Message } from '../../../protocol/frames.ts';
import { AppError, toAppError } from '../../../protocol/app-error.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { Bus } from '../live/bus.port.ts';
import type { RouterMetrics } from '../health/metrics.ts';
import type { PushNotifier } from '../notify/push.notifier.ts';
import type { PresenceService } from '../live/presence.ts';
import type { Connection } from '../socket/connection.ts';
import type { HistoryBatcher } from './history.batcher.ts';
import { withholdIn, type HistoryReader } from './history.reader.ts';
import type { WatermarkBatcher } from './watermark.batcher.ts';
import { createGroup, listMembers, runGroupRequest, type GroupDeps, type GroupView, type Requester } from './group.ops.ts';
import type { GroupRequest } from './group.rules.ts';
import { canSee, changeMessage, hideMessage, type ActionDeps, type ChangeRequest } from './message.actions.ts';
import type { Clock } from '../../../db/clock.ts';
import type { PrivacyStore } from '../../../db/privacy.port.ts';
import type { PrivacyCache } from '../privacy/privacy.cache.ts';
import type { UploadStore } from '../../../db/upload.port.ts';
import { claimAttachments, settleAttachments } from '../attachments/attachment.claims.ts';
import type { UploadSweeper } from '../attachments/upload.sweeper.ts';
import { blockerOf, marksFor, quotable } from './chatroom.privacy.ts';

/** What the chatroom actors of a node use: one object per node, shared by every room. */
export interface ChatDeps {
  log: Logger;
  relational: Pick<RelationalStore, 'getRoom' | 'openDirectRoom' | 'membershipOf' | 'applyGroupEvents' | 'getUsers' | 'countGroupsOf' | 'hideMessage'>;
  history: Pick<HistoryStore, 'lastSeq' | 'groupState' | 'after' | 'at'>;
  /** The group commit messages are stored through. */
  batcher: Pick<HistoryBatcher, 'append' | 'appendAll'>;
  /** Members per group and groups per user (config). */
  groupLimits: GroupLimits;
  watermarks: Pick<WatermarkBatcher, 'raise'>;
  reader: HistoryReader;
  bus: Pick<Bus, 'publish'>;
  /** Queues push notifications for a stored message. */
  notifier: Pick<PushNotifier, 'messageStored'>;
  /** Tells the two members of a 1:1 room that starts where the other stands. */
  presence: Pick<PresenceService, 'introduce'>;
  metrics: Pick<RouterMetrics, 'messagesStored'>;
  /** How long a message stays editable (EDIT_WINDOW_MS), ms. */
  editWindowMs: number;
  /** The time the edit window is measured on. */
  clock: Clock;
  /** The privacy of this node's connected users (a sender's blocks, a reader's settings): no store read per message. */
  privacy: Pick<PrivacyCache, 'get' | 'hideFrom'>;
  /** Where entries withheld from a blocker are recorded and read back; members' settings for `group.members`. */
  withheld: Pick<PrivacyStore, 'withhold' | 'withheldIn' | 'settingsOf'>;
  /** Uploads a message claims (attachments/attachment.claims.ts). */
  uploads: Pick<UploadStore, 'claim' | 'release' | 'settle'>;
  /** Deletes the attachments of a message deleted for everyone. */
  sweeper: Pick<UploadSweeper, 'dropMessage'>;
}

export type RoomMsg =
  /** A message: a reply names its original (`replyTo`), a forward carries the source's body and author (connection actor). */
  | { type: 'send'; conn: Connection; ref: string; to?: number; clientMsgId: string; body: string; replyTo?: number; forwarded?: { sender: number; name: string }; attachments?: string[] }
  /** An edit, a deletion for everyone or a reaction (message.actions.ts). */
  | { type: 'change'; conn: Connection; ref?: string; req: ChangeRequest }
  /** "Delete for me". */
  | { type: 'hide'; conn: Connection; ref?: string; seq: number }
  /**
   * A watermark raised by a socket (`message.ack`, `message.read`: a claim past the room's last seq
   * is clamped, a non-member's ignored) or over HTTP by a device (`answer` given: refusals come
   * back as errors, success as the watermark now held).
   */
  | { type: 'receipt'; conn: Pick<Connection, 'id' | 'user'>; kind: 'delivered' | 'read'; seq: number; answer?: (outcome: AppError | number) => void }
  | { type: 'typing'; conn: Connection; active: boolean }
  | { type: 'history'; conn: Connection; ref?: string; before?: number; after?: number; limit?: number }
  /** Sent to the actor of a new group id (made by the connection actor). */
  | { type: 'group.create'; conn: Connection; ref?: string; name: string; members: number[] }
  /** A group request; `conn` is a socket, or the account deletion leaving the user's groups. */
  | { type: 'group'; conn: Requester; ref?: string; req: GroupRequest }
  | { type: 'members'; conn: Connection; ref?: string };

/** A room as this node caches it; the watermarks and `lastSeq` only ever rise. */
type LoadedRoom = RoomRecord & Watermarks & {
  /** Highest seq this node knows the room has. */
  lastSeq: number;
  /** Groups only: the members as the log last showed this node (`members` follows it). */
  group?: GroupState;
};

interface RoomState {
  /** Null until loaded; stays null while the room does not exist. */
  room: LoadedRoom | null;
}

const initialState = (): RoomState => ({ room: null });

/** What a 1:1 room's notifications say about it: one object for every message. */
const DIRECT = Object.freeze({ kind: 'direct' as const });

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
        if (msg?.type === 'receipt') msg.answer?.(toAppError(err));
        return sup.reset;
      },
    },
  );
}

async function handle(state: RoomState, msg: RoomMsg, roomId: string, deps: ChatDeps): Promise<RoomState> {
  if (msg.type === 'group.create') {
    if (state.room) throw new Error(`group id ${roomId} is taken`);
    const view = await createGroup(roomId, msg.conn, msg.ref, msg.name, msg.members, groupDeps(deps));
    return view ? { room: fromView(view, await deps.relational.getRoom(roomId)) } : state;
  }
  const loaded = await load(state, msg, roomId, deps);
  const room = loaded.room;
  if (msg.type === 'history' && room?.kind === 'group') {
    // A former member reads up to their leaving: the relational store says who may see which seqs.
    void sendHistory(room.id, msg, deps, true);
    return loaded;
  }
  // This node's view of a group may be behind (a member added on another node): look again before refusing.
  if (room?.group && (msg.type === 'members' || !room.members.includes(msg.conn.user.id))) await refreshGroup(room, deps);
  if (!room || !room.members.includes(msg.conn.user.id)) {
    if (msg.type === 'receipt') msg.answer?.(new AppError('room_not_found'));
    else if (msg.type !== 'typing') {
      msg.conn.fail(new AppError(msg.type === 'send' && msg.to !== undefined ? 'user_not_found' : 'room_not_found'), msg.ref);
    }
    return loaded;
  }
  if ((msg.type === 'group' || msg.type === 'members') && !room.group) {
    msg.conn.fail(new AppError('wrong_room_kind'), msg.ref);
    return loaded;
  }
  await act(room, msg, deps);
  return loaded;
}

/** Loads the room on first use; a `send` with `to` creates the 1:1 room if both users exist. */
async function load(state: RoomState, msg: RoomMsg, roomId: string, deps: ChatDeps): Promise<RoomState> {
  if (state.room) return state;
  if (roomKindOf(roomId) === 'group') return { room: await loadGroup(roomId, deps) };
  const room =
    msg.type === 'send' && msg.to !== undefined
      ? await deps.relational.openDirectRoom(msg.conn.user.id, msg.to)
      : await deps.relational.getRoom(roomId);
  if (!room) return state;
  return { room: { ...room, lastSeq: await deps.history.lastSeq(roomId) } };
}

/**
 * A group: its members as the log has them (which decide), its name and watermarks from the
 * relational store, which is first brought up to the log if a write of events to it had failed.
 */
async function loadGroup(roomId: string, deps: ChatDeps): Promise<LoadedRoom | null> {
  const group = await deps.history.groupState(roomId);
  if (!group) return null;
  let record = await deps.relational.getRoom(roomId);
  if (!record || (record.membersSeq ?? 0) < group.version) {
    const entries = await deps.history.after(roomId, record?.membersSeq ?? 0, 10_000);
    await deps.relational.applyGroupEvents(entries.filter((m) => m.event));
    record = await deps.relational.getRoom(roomId);
  }
  return fromView({ id: roomId, group, lastSeq: await deps.history.lastSeq(roomId) }, record);
}

function fromView(view: GroupView, record: (RoomRecord & Watermarks) | null): LoadedRoom {
  return {
    id: view.id,
    kind: 'group',
    name: record?.name ?? '',
    members: view.group.members.map((m) => m.user),
    delivered: record?.delivered ?? {},
    read: record?.read ?? {},
    lastSeq: view.lastSeq,
    group: view.group,
  };
}

function groupDeps(deps: ChatDeps): GroupDeps {
  return {
    log: deps.log,
    relational: deps.relational,
    batcher: deps.batcher,
    bus: deps.bus,
    limits: deps.groupLimits,
    groupState: (room) => deps.history.groupState(room),
    marksFor: (viewer, marks, members) => marksFor(viewer, marks, members, deps),
  };
}


async function act(room: LoadedRoom, msg: RoomMsg, deps: ChatDeps): Promise<void> {
  if (msg.type === 'group') return groupRequest(room, msg, deps);
  if (msg.type === 'receipt') return onReceipt(room, msg, deps);
  const { conn } = msg;
  switch (msg.type) {
    case 'send': {
      const { ref } = msg;
      // A reply's original must be a message of this room the sender sees; awaited, so the room's
      // messages still reach the group commit in the order they came (only replies pay the read).
      if (msg.replyTo !== undefined && !(await canSee(room, conn.user.id, msg.replyTo, deps))) return conn.fail(new AppError('message_not_found'), ref);
      const entry: NewMessage = { room: room.id, sender: conn.user.id, body: msg.body, clientMsgId: msg.clientMsgId };
      const quote = msg.replyTo !== undefined ? await quotable(room, conn.user.id, msg.replyTo, deps) : 'none';
      if (quote === 'unseen') return conn.fail(new AppError('message_not_found'), ref);
      if (quote === 'yes') entry.replyTo = msg.replyTo;
      if (msg.forwarded) entry.forwarded = msg.forwarded;
      const ids = msg.attachments;
      // Awaited like a reply's check: only messages with attachments pay the claim.
      if (ids) {
        const refused = await claimAttachments(entry, ids, deps).then(() => undefined, (err: unknown) => err);
        if (refused !== undefined) return conn.fail(toAppError(refused), ref);
      }
      const blocker = blockerOf(room, conn.user.id, deps);
      // Not awaited: the actor goes on taking messages while the batch is written. The outcome is
      // handled in this continuation rather than sent back through the mailbox: it touches nothing
      // of the actor's state but `lastSeq`, which only rises, so a mailbox hop would buy nothing and
      // cost a dispatch per message (and a wait behind the room's queued sends). Outcomes of
      // one room arrive in submission order (the batcher keeps a room in one batch at a time), and
      // a reset of the actor does not stop them: nothing acknowledged depends on the actor living.
      const stored = ids ? deps.batcher.append(entry).then(async (outcome) => (await settleAttachments(entry, ids, outcome, deps), outcome)) : deps.batcher.append(entry);
      stored.then(
        (outcome) => onPersisted(room, conn, ref, outcome, deps, blocker),
        (err) => onNotPersisted(room, conn, ref, err, deps),
      );
      return;
    }
    case 'typing': {
      const hideFrom = deps.privacy.hideFrom(conn.user.id);
      deps.bus.publish({ kind: 'typing', room: room.id, members: room.group ? [] : room.members, origin: conn.id, user: conn.user.id, active: msg.active, ...(hideFrom ? { hideFrom } : {}) });
      return;
    }
    case 'history':
      // Not awaited: the page goes at the client's pace, and a slow reader must not hold up the
      // room's other members. Its connection's rate limit bounds how many it has under way.
      void sendHistory(room.id, msg, deps, false);
      return;
    case 'members':
      return listMembers({ id: room.id, group: room.group!, lastSeq: room.lastSeq }, room, conn, msg.ref, groupDeps(deps));
    case 'change': {
      const blocker = blockerOf(room, conn.user.id, deps);
      return changeMessage(room, conn, msg.ref, msg.req, (outcome) => {
        if (outcome.message.seq > room.lastSeq) room.lastSeq = outcome.message.seq;
        const event = outcome.message.event;
        if (event?.type === 'message.deleted') {
          deps.sweeper.dropMessage(room.id, event.seq).catch((err: unknown) => deps.log.warn({ err, room: room.id }, 'could not delete a deleted message\'s attachments'));
        }
        if (blocker === undefined) return publishEntry(room, outcome.message, undefined, outcome.version, deps);
        // Stored like any change, for the sender's devices only; the blocker gets a stub (docs/protocol.md, "Blocking").
        deps.withheld.withhold(blocker, room.id, outcome.message.seq).then(
          () => deps.bus.publish({ kind: 'message', room: room.id, members: [conn.user.id], message: outcome.message }),
          (err: unknown) => deps.log.error({ err, room: room.id }, 'could not withhold a change from its blocker'),
        );
      }, deps);
    }
    case 'hide':
      return hideMessage(room, conn, msg.ref, msg.seq, deps);
    case 'group.create':
      return;
  }
}

/** A group request, from a socket or from the account deletion; the actor's view follows what it stored. */
async function groupRequest(room: LoadedRoom, msg: Extract<RoomMsg, { type: 'group' }>, deps: ChatDeps): Promise<void> {
  const view: GroupView = { id: room.id, group: room.group!, lastSeq: room.lastSeq };
  await runGroupRequest(view, msg.conn, msg.ref, msg.req, groupDeps(deps));
  room.group = view.group;
  room.members = view.group.members.map((m) => m.user);
  room.lastSeq = Math.max(room.lastSeq, view.lastSeq);
}

/** A stored entry to every member's sockets but `origin` (which was answered): a group's by its membership version, a 1:1 room's by its two members. */
function publishEntry(room: LoadedRoom, m: Message, origin: string | undefined, version: number | undefined, deps: ChatDeps): void {
  const from = origin !== undefined ? { origin } : {};
  if (room.group) {
    // Each node knows a group's members (live/group.members.ts): the event carries the version it was stored under, not the list.
    deps.bus.publish({ kind: 'message', room: m.room, members: [], ...from, message: m, ...(version !== undefined ? { version } : {}) });
  } else {
    deps.bus.publish({ kind: 'message', room: m.room, members: room.members, ...from, message: m });
  }
}

function onPersisted(room: LoadedRoom, conn: Connection, ref: string, outcome: AppendOutcome, deps: ChatDeps, blocker?: number): void {
  if (outcome.kind === 'refused') {
    // The log says the sender is not a member at this seq (removed on another node meanwhile):
    // refused, never stored after the removal; this node's view of the group catches up.
    conn.fail(new AppError('room_not_found'), ref);
    void refreshGroup(room, deps);
    return;
  }
  if (outcome.kind === 'unchanged') throw new Error('a message came back unchanged');
  const m: Message = outcome.message;
  if (outcome.kind === 'conflict') {
    conn.fail(new AppError('conflict', 'this clientMsgId was used for a different message'), ref);
    return;
  }
  if (blocker === undefined && outcome.kind === 'duplicate' && !room.group) {
    // A retry, after an unblock, of a message withheld when it was stored stays withheld.
    const other = room.members.find((u) => u !== conn.user.id);
    if (other !== undefined) {
      deps.withheld.withheldIn(other, m.room, m.seq, m.seq).then(
        (seqs) => acknowledge(room, conn, ref, outcome, deps, seqs.length > 0 ? other : undefined),
        (err: unknown) => onNotPersisted(room, conn, ref, err, deps),
      );
      return;
    }
  }
  if (blocker !== undefined) {
    // Recorded before the sender hears "sent": a retry of a message whose record failed records it then.
    deps.withheld.withhold(blocker, m.room, m.seq).then(
      () => acknowledge(room, conn, ref, outcome, deps, blocker),
      (err: unknown) => {
        deps.log.error({ err, room: room.id }, 'could not withhold a message from its blocker');
        conn.fail(new AppError('unavailable', 'the message may or may not have been stored; retry with the same clientMsgId'), ref);
      },
    );
    return;
  }
  acknowledge(room, conn, ref, outcome, deps);
}

/** A stored message: the ack, then every member's sockets and push; a withheld one only to its sender's other devices. */
function acknowledge(room: LoadedRoom, conn: Connection, ref: string, outcome: Extract<AppendOutcome, { kind: 'stored' | 'duplicate' }>, deps: ChatDeps, blocker?: number): void {
  const m: Message = outcome.message;
  const duplicate = outcome.kind === 'duplicate';
  conn.reply({ type: 'message.sent', ref, room: m.room, id: m.id, seq: m.seq, ts: m.ts, duplicate });
  if (m.seq > room.lastSeq) room.lastSeq = m.seq;
  if (!duplicate) deps.metrics.messagesStored.inc();
  if (blocker !== undefined) {
    // As if delivered for the sender's devices; nothing reaches the blocker: no frame, no push.
    deps.bus.publish({ kind: 'message', room: m.room, members: [conn.user.id], origin: conn.id, message: m });
    return;
  }
  // A duplicate goes out again: its first attempt may have been stored without anyone hearing of
  // it (a lost reply, a timeout, a crash between commit and ack), and then nothing published it.
  // A second copy costs little: clients keep messages by (room, seq), a push task has the same key
  // as the first (the worker skips a key done) and the notification the same tag (it replaces).
  publishEntry(room, m, conn.id, outcome.version, deps);
  // The first message starts a 1:1 room: its two members are contacts from now on, and neither
  // has been told the other's presence (a retry of it introduces them again, which is harmless).
  if (m.seq === 1 && !room.group) void deps.presence.introduce(room.members);
  // After the ack and off the actor's path: presence lookups and the enqueue never delay anyone.
  // A member whose device reported having a repeated message needs no notification for it.
  const notify = duplicate ? room.members.filter((u) => (room.delivered[u] ?? 0) < m.seq) : room.members;
  deps.notifier.messageStored(m, notify, conn.user, room.group ? { kind: 'group', name: room.name ?? '' } : DIRECT);
}

/** Reads a group's members again from the log (after a refusal showed this node's view was behind). */
async function refreshGroup(room: LoadedRoom, deps: ChatDeps): Promise<void> {
  try {
    const group = await deps.history.groupState(room.id);
    if (!group || group.version <= (room.group?.version ?? 0)) return;
    room.group = group;
    room.members = group.members.map((m) => m.user);
  } catch (err) {
    deps.log.warn({ err, room: room.id }, 'could not refresh a group');
  }
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
  // A device's claim over HTTP names a seq it holds: past the last there is nothing to hold.
  if (msg.answer && msg.seq > room.lastSeq) return msg.answer(new AppError('message_not_found'));
  const seq = Math.min(msg.seq, room.lastSeq);
  const marks = msg.kind === 'read' ? room.read : room.delivered;
  if (seq <= (marks[user] ?? 0)) return msg.answer?.(marks[user] ?? 0);
  marks[user] = seq;
  if (msg.kind === 'read' && seq > (room.delivered[user] ?? 0)) room.delivered[user] = seq;
  deps.watermarks.raise(room.id, user, msg.kind, seq);
  // The reader's own devices always get it (their read position); others per docs/protocol.md, "Privacy settings".
  const hideFrom = deps.privacy.hideFrom(user);
  const hidden = msg.kind === 'read' && deps.privacy.get(user)?.settings.readReceipts === false;
  deps.bus.publish({ kind: 'receipt', room: room.id, members: room.group ? [] : room.members, origin: msg.conn.id, user, receipt: msg.kind, seq, ...(hideFrom ? { hideFrom } : {}), ...(hidden ? { private: true as const } : {}) });
  msg.answer?.(seq);
}

/** Answers `history.get` with one page, oldest first, through the history reader; in a group, within what the requester may see. */
async function sendHistory(room: string, msg: Extract<RoomMsg, { type: 'history' }>, deps: ChatDeps, group: boolean): Promise<void> {
  const limit = Math.min(msg.limit ?? 50, LIMITS.historyPageMax);
  try {
    let bounds: { from: number; to?: number } | undefined;
    if (group) {
      const own = await deps.relational.membershipOf(room, msg.conn.user.id);
      if (!own) return msg.conn.fail(new AppError('room_not_found'), msg.ref);
      bounds = { from: own.joinedSeq, ...(own.leftSeq !== null ? { to: own.leftSeq } : {}) };
    }
    let page = await deps.reader.page(room, msg.after !== undefined ? { after: msg.after } : { before: msg.before }, limit, bounds);
    // A 1:1 room may hold entries withheld from this reader (someone they blocked wrote them).
    if (!group && page.messages.length > 0) {
      const seqs = await deps.withheld.withheldIn(msg.conn.user.id, room, page.messages[0]!.seq, page.messages.at(-1)!.seq);
      page = withholdIn(page, new Set(seqs));
    }
    await deps.reader.write(msg.conn, room, page, msg.ref);
  } catch (err) {
    deps.log.error({ err, room }, 'history read failed');
    msg.conn.fail(new AppError('unavailable', 'history is unavailable; retry'), msg.ref);
  }
}
