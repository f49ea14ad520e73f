/**
 * What a server frame does to the chat state: `apply` changes a plain state object and returns
 * what must happen outside it (frames to send, writes to the cache, reads to mark) as effects the
 * store runs in order. No socket, storage, clock or runes here, so every rule is a unit test away.
 */
import { isRoomEvent, LIMITS, type ClientFrame, type Message, type RoomSummary, type ServerFrame } from '../../../../protocol/frames.ts';
import { hide, isChange, previewOf, settleChanges } from './changes.ts';
import { applyEvent, renamed, takeMembers, unknownPeople } from './members.ts';
import { isFinalRefusal } from './outbox.ts';
import { contiguous, emptyRoom, type ChatState, type Room } from './state.ts';

/** How long (ms) a `typing` frame shows a member as typing, unless they stop or send first. */
export const TYPING_SHOW_MS = 6000;

/** The `ref` prefix of a request for an earlier page (`older:<room>`), so its error stops the spinner. */
export const OLDER_REF = 'older:';

export type Effect =
  /** Send a frame if the socket is up; nothing is retried. */
  | { type: 'send'; frame: ClientFrame }
  /** Rooms changed: write the offline cache. */
  | { type: 'save' }
  /** The outbox changed: write it, and forget in-flight sends of items that left it. */
  | { type: 'saveOutbox' }
  /** The outbox may go out now (the server knows where this device stands). */
  | { type: 'flush' }
  /** Messages from others arrived in `room`: mark them read if the room is on screen. */
  | { type: 'read'; room: string }
  /** The room's log names users whose profiles it lacks: look them up (over HTTP) and `learn` them. */
  | { type: 'lookup'; room: string; users: number[] };

export interface ApplyContext {
  /** The signed-in user's id (null before sign-in). */
  me: number | null;
  /** The current time (ms). */
  now: number;
}

/** Applies one server frame to `state` (changed in place) and returns the effects to run, in order. */
export function apply(state: ChatState, frame: ServerFrame, ctx: ApplyContext): Effect[] {
  const effects: Effect[] = [];
  switch (frame.type) {
    case 'hello': {
      // After every (re)connect: resync each room from its last contiguous seq.
      const rooms = Object.values(state.rooms)
        .filter((r) => r.messages.length > 0)
        .map((r) => ({ room: r.room, lastSeq: contiguous(r.messages) }));
      effects.push({ type: 'send', frame: { type: 'sync', ref: 'sync', rooms: rooms.slice(0, LIMITS.syncRoomsMax) } });
      break;
    }
    case 'message.sent': {
      const item = state.outbox.find((o) => o.clientMsgId === frame.ref);
      if (!item || ctx.me === null) break;
      const message: Message = { id: frame.id, room: frame.room, seq: frame.seq, sender: ctx.me, body: item.body, clientMsgId: item.clientMsgId, ts: frame.ts };
      // The sending socket gets no message.new of its own message: build what the others get.
      if (item.forward) message.forwarded = item.forward.from;
      if (item.replyTo) message.replyTo = quote(state.rooms[frame.room]?.messages ?? [], item.replyTo);
      if (item.attachments?.length) message.attachments = item.attachments;
      merge(state, frame.room, [message], ctx, effects);
      break;
    }
    case 'message.new': {
      const room = state.rooms[frame.message.room];
      const held = room ? contiguous(room.messages) : 0;
      merge(state, frame.message.room, [frame.message], ctx, effects);
      // A live message after a gap: fetch what is missing from history.
      if (room && held > 0 && frame.message.seq > held + 1) {
        effects.push({ type: 'send', frame: { type: 'history.get', room: room.room, after: held, limit: LIMITS.historyPageMax } });
      }
      // A room this device has not seen: a sync brings its members and receipts.
      if (!room) effects.push({ type: 'send', frame: { type: 'sync', rooms: [] } });
      break;
    }
    case 'history.page': {
      const room = state.rooms[frame.room];
      if (room) room.loadingOlder = false;
      merge(state, frame.room, frame.messages, ctx, effects);
      break;
    }
    case 'sync.done':
      for (const s of frame.rooms) {
        const room = summary(state, s);
        if (s.hidden) hide(room, s.hidden);
        const users = unknownPeople(room);
        if (users.length > 0) effects.push({ type: 'lookup', room: s.room, users });
      }
      effects.push({ type: 'save' }, { type: 'flush' });
      break;
    case 'receipt': {
      const room = state.rooms[frame.room];
      if (!room) break;
      const user = String(frame.user);
      const book = frame.kind === 'read' ? room.read : room.delivered;
      book[user] = Math.max(book[user] ?? 0, frame.seq);
      // Read implies delivered (the delivered receipt may never come once the read one did).
      if (frame.kind === 'read') room.delivered[user] = Math.max(room.delivered[user] ?? 0, frame.seq);
      effects.push({ type: 'save' });
      break;
    }
    case 'typing': {
      const room = state.rooms[frame.room];
      if (!room || frame.user === ctx.me) break;
      if (frame.active) room.typing[String(frame.user)] = ctx.now + TYPING_SHOW_MS;
      else delete room.typing[String(frame.user)];
      break;
    }
    case 'error':
      if (frame.ref?.startsWith(OLDER_REF)) {
        const room = state.rooms[frame.ref.slice(OLDER_REF.length)];
        if (room) room.loadingOlder = false;
      }
      if (frame.ref && isFinalRefusal(frame.code)) {
        state.outbox = state.outbox.filter((o) => o.clientMsgId !== frame.ref);
        effects.push({ type: 'saveOutbox' });
      }
      break;
    case 'presence':
      state.presence[frame.user] = frame.online ? { online: true } : { online: false, lastSeen: frame.lastSeen };
      break;
    case 'user.updated': {
      // Every room that shows the user (as a member, or a sender of old) shows the new name now.
      let known = false;
      for (const room of Object.values(state.rooms)) known = renamed(room, frame.user) || known;
      if (known) effects.push({ type: 'save' });
      break;
    }
    case 'group.members': {
      const room = state.rooms[frame.room];
      if (!room) break;
      room.kind = 'group';
      if (frame.lastSeq >= (room.membersSeq ?? 0)) room.name = frame.name;
      takeMembers(room, frame.members, frame.lastSeq);
      for (const m of frame.members) {
        const user = String(m.id);
        room.delivered[user] = Math.max(room.delivered[user] ?? 0, m.delivered, m.read);
        room.read[user] = Math.max(room.read[user] ?? 0, m.read);
      }
      effects.push({ type: 'save' });
      break;
    }
    case 'message.hidden': {
      // Deleted "for me" on some device of this user: hidden on every one.
      const room = state.rooms[frame.room];
      if (room && hide(room, [frame.seq])) effects.push({ type: 'save' });
      break;
    }
    // The entries a request wrote come as message.new; the store settles the request itself.
    case 'message.changed':
    case 'group.done':
    case 'pong':
      break;
    default: {
      const never: never = frame;
      return never;
    }
  }
  return effects;
}

/**
 * Takes a room summary from `sync.done`: members (and their presence), the group's name and this
 * user's standing in it, and watermarks that only move up.
 */
function summary(state: ChatState, s: RoomSummary): Room {
  for (const { id, online, lastSeen } of s.members) state.presence[id] = online ? { online: true } : { online: false, lastSeen };
  if (!state.rooms[s.room]) state.rooms[s.room] = emptyRoom(s.room);
  const room = state.rooms[s.room]!;
  room.kind = s.kind ?? 'direct';
  if (s.lastSeq >= (room.membersSeq ?? 0)) {
    if (s.name !== undefined) room.name = s.name;
    room.joinedSeq = s.joinedSeq;
    room.left = s.left;
  }
  room.muted = s.muted ?? false;
  // A group's photo is known only from summaries: absent there means it has none (any more).
  if (s.avatarUrl) room.avatarUrl = s.avatarUrl;
  else delete room.avatarUrl;
  takeMembers(room, s.members, s.lastSeq);
  room.lastSeq = Math.max(room.lastSeq, s.lastSeq);
  for (const [k, v] of Object.entries(s.delivered)) room.delivered[k] = Math.max(room.delivered[k] ?? 0, v);
  for (const [k, v] of Object.entries(s.read)) room.read[k] = Math.max(room.read[k] ?? 0, v);
  return room;
}

/** A reply's quote of its original as held now (deleted or edited since the reply was written), else as written. */
function quote(messages: Message[], written: NonNullable<Message['replyTo']>): NonNullable<Message['replyTo']> {
  const original = messages.find((m) => m.seq === written.seq);
  if (!original) return written;
  return original.deleted ? { seq: original.seq, sender: original.sender, preview: '', deleted: true } : { seq: original.seq, sender: original.sender, preview: previewOf(original.body) };
}

/**
 * Adds messages to a room by seq, whatever order they come in (a seq held already keeps its
 * message), clears them from the outbox, and acks (and maybe reads) those from others.
 */
function merge(state: ChatState, roomId: string, incoming: Message[], ctx: ApplyContext, effects: Effect[]): void {
  if (incoming.length === 0) return;
  // Read back after adding: in the store, state is a rune proxy and the object assigned is not it.
  if (!state.rooms[roomId]) state.rooms[roomId] = emptyRoom(roomId);
  const room = state.rooms[roomId]!;
  const bySeq = new Map(room.messages.map((m) => [m.seq, m]));
  const arrived = new Set<number>();
  let fromOthers = false;
  let refetch = false;
  for (const m of incoming) {
    const held = bySeq.get(m.seq);
    // A message read in a later state (a history page after changes) replaces the one held.
    if (!held || (m.rev ?? 0) > (held.rev ?? 0)) {
      bySeq.set(m.seq, m);
      arrived.add(m.seq);
    }
    const change = isChange(m);
    if (!change && isRoomEvent(m)) refetch = applyEvent(room, m, m.event, ctx.me) || refetch;
    if (m.sender !== ctx.me) {
      fromOthers = true;
      // A reaction or an edit is not the end of someone's typing.
      if (!change) delete room.typing[String(m.sender)];
    }
  }
  room.messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  settleChanges(room, arrived);
  room.lastSeq = Math.max(room.lastSeq, room.messages.at(-1)!.seq);
  const ids = new Set(incoming.map((m) => m.clientMsgId));
  if (state.outbox.some((o) => ids.has(o.clientMsgId))) {
    state.outbox = state.outbox.filter((o) => !ids.has(o.clientMsgId));
    effects.push({ type: 'saveOutbox' });
  }
  if (fromOthers) {
    effects.push({ type: 'send', frame: { type: 'message.ack', room: roomId, seq: contiguous(room.messages) } });
    effects.push({ type: 'read', room: roomId });
  }
  if (refetch) effects.push({ type: 'send', frame: { type: 'group.members', room: roomId } });
  // Only in a room a sync.done described: before it, the names it brings are missing only for now.
  const users = room.people ? unknownPeople(room, incoming) : [];
  if (users.length > 0) effects.push({ type: 'lookup', room: roomId, users });
  effects.push({ type: 'save' });
}
