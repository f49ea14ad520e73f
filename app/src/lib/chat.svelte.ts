/**
 * The chat state of the signed-in user, kept in one reactive store: rooms, their messages (by
 * `(room, seq)`, so ordered and shown exactly once), receipts, typing, and the outbox. It drives
 * the one socket: resync after every (re)connect from each room's last contiguous seq, flush the
 * outbox in order with the same clientMsgIds, ack and read what arrives.
 */
import { directRoomId, LIMITS, type Message, type PublicUser, type RoomSummary, type ServerFrame } from '$protocol/frames.ts';
import { textProblem } from '$protocol/text.ts';
import type { User } from './api.ts';
import { ChatSocket, type ConnectionState } from './socket.ts';
import { CACHED_MESSAGES, storage, type CachedRoom, type OutboxItem } from './storage.ts';

export interface Room extends CachedRoom {
  /** Until when (ms) the other member counts as typing. */
  typingUntil: number;
  loadingOlder: boolean;
}

export type Tick = 'pending' | 'sent' | 'delivered' | 'read';

/** What the app knows about a contact's presence: online, or offline since `lastSeen` (ms) if known. */
export interface Presence {
  online: boolean;
  lastSeen?: number;
}

/** A sent message without `message.sent` after this long is sent again (same clientMsgId). */
const RESEND_MS = 8000;
const TYPING_SHOW_MS = 6000;

function newId(): string {
  return crypto.randomUUID();
}

export class Chat {
  me = $state<User | null>(null);
  connection = $state<ConnectionState>('offline');
  rooms = $state<Record<string, Room>>({});
  outbox = $state<OutboxItem[]>([]);
  /** The room on screen (reads are sent only for it, and only while the page is visible). */
  openRoom = $state<string | null>(null);
  now = $state(Date.now());
  /** Set when the server ended the session. */
  signedOut = $state(false);
  /** Contacts' presence by user id: from each sync.done, then live `presence` frames. Not cached. */
  presence = $state<Record<number, Presence>>({});

  private socket: ChatSocket | null = null;
  private inFlight = new Map<string, number>();
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private typingSentAt = 0;

  /** Starts for `user`: loads the offline cache and the outbox, then connects. */
  start(user: User): void {
    if (this.me?.id === user.id && this.socket) return;
    this.stop();
    this.me = user;
    this.signedOut = false;
    storage.setMe(user);
    const rooms: Record<string, Room> = {};
    for (const r of storage.rooms(user.id)) rooms[r.room] = { ...r, typingUntil: 0, loadingOlder: false };
    this.rooms = rooms;
    this.outbox = storage.outbox(user.id);
    this.socket = new ChatSocket({
      frame: (f) => this.onFrame(f),
      state: (s) => {
        this.connection = s;
        if (s !== 'online') {
          this.inFlight.clear();
          // Without a socket nobody tells us who leaves: "online" would go stale, last-seen times do not.
          for (const [id, p] of Object.entries(this.presence)) if (p.online) delete this.presence[Number(id)];
        }
      },
      signedOut: () => (this.signedOut = true),
    });
    this.socket.start();
    this.ticker = setInterval(() => {
      this.now = Date.now();
      this.resendStale();
    }, 1000);
    addEventListener('visibilitychange', this.onVisible);
  }

  stop(): void {
    this.socket?.stop();
    this.socket = null;
    if (this.ticker) clearInterval(this.ticker);
    removeEventListener('visibilitychange', this.onVisible);
    this.connection = 'offline';
  }

  /** Stops and forgets this user's local data (sign-out). */
  forget(): void {
    const id = this.me?.id;
    this.stop();
    if (id) storage.clear(id);
    this.me = null;
    this.rooms = {};
    this.outbox = [];
    this.presence = {};
  }

  /** The room with `other`, created locally until its first message creates it on the server. */
  roomWith(other: User | PublicUser): string {
    const me = this.me!;
    const id = directRoomId(me.id, other.id);
    if (!this.rooms[id]) {
      const mine: PublicUser = { id: me.id, handle: me.handle, displayName: me.displayName };
      const theirs: PublicUser = { id: other.id, handle: other.handle, displayName: other.displayName };
      this.rooms[id] = { room: id, members: [mine, theirs], lastSeq: 0, delivered: {}, read: {}, messages: [], typingUntil: 0, loadingOlder: false };
      this.save();
    }
    return id;
  }

  other(room: Room): PublicUser | undefined {
    return room.members.find((m) => m.id !== this.me?.id) ?? room.members[0];
  }

  /** Queues a message in the outbox (kept across reloads) and sends it when the socket is up. */
  send(roomId: string, body: string): void {
    const room = this.rooms[roomId];
    const to = room && this.other(room);
    if (!to || textProblem(body, 'body') !== null || body.length > LIMITS.maxBodyLength) return;
    this.outbox.push({ clientMsgId: newId(), room: roomId, to: to.id, body, createdAt: Date.now() });
    this.saveOutbox();
    this.typing(roomId, false);
    this.flush();
  }

  /** Sends typing on/off, throttled. */
  typing(roomId: string, active: boolean): void {
    if (active && Date.now() - this.typingSentAt < 3000) return;
    this.typingSentAt = active ? Date.now() : 0;
    if (this.rooms[roomId]?.lastSeq) this.socket?.send({ type: 'typing', room: roomId, active });
  }

  /** Asks for the page of history before the oldest message held. */
  loadOlder(roomId: string): void {
    const room = this.rooms[roomId];
    const oldest = room?.messages[0]?.seq;
    if (!room || room.loadingOlder || !oldest || oldest <= 1) return;
    if (this.socket?.send({ type: 'history.get', ref: `older:${roomId}`, room: roomId, before: oldest, limit: 50 })) room.loadingOlder = true;
  }

  hasOlder(room: Room): boolean {
    return (room.messages[0]?.seq ?? 1) > 1;
  }

  unread(room: Room): number {
    const me = this.me?.id;
    const seen = room.read[String(me)] ?? 0;
    return room.messages.filter((m) => m.seq > seen && m.sender !== me).length;
  }

  tick(room: Room, m: Message): Tick {
    const other = this.other(room);
    if (!other) return 'sent';
    if ((room.read[String(other.id)] ?? 0) >= m.seq) return 'read';
    if ((room.delivered[String(other.id)] ?? 0) >= m.seq) return 'delivered';
    return 'sent';
  }

  /** The presence of the other member of a room, when known. */
  presenceIn(room: Room): Presence | undefined {
    const other = this.other(room);
    return other && other.id !== this.me?.id ? this.presence[other.id] : undefined;
  }

  isTyping(room: Room): boolean {
    return room.typingUntil > this.now;
  }

  /** Marks everything shown in the open room as read (when the page is visible). */
  markRead(roomId: string): void {
    const room = this.rooms[roomId];
    if (!room || document.visibilityState !== 'visible' || !this.me) return;
    const seq = contiguous(room.messages);
    if (seq > (room.read[String(this.me.id)] ?? 0) && this.socket?.send({ type: 'message.read', room: roomId, seq })) {
      room.read[String(this.me.id)] = seq;
      this.save();
    }
  }

  private onVisible = () => {
    if (this.openRoom) this.markRead(this.openRoom);
  };

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'hello': {
        const rooms = Object.values(this.rooms)
          .filter((r) => r.messages.length > 0)
          .map((r) => ({ room: r.room, lastSeq: contiguous(r.messages) }));
        this.socket?.send({ type: 'sync', ref: 'sync', rooms: rooms.slice(0, LIMITS.syncRoomsMax) });
        return;
      }
      case 'message.sent': {
        const item = this.outbox.find((o) => o.clientMsgId === f.ref);
        if (!item || !this.me) return;
        this.merge(f.room, [{ id: f.id, room: f.room, seq: f.seq, sender: this.me.id, body: item.body, clientMsgId: item.clientMsgId, ts: f.ts }]);
        return;
      }
      case 'message.new': {
        const room = this.rooms[f.message.room];
        const held = room ? contiguous(room.messages) : 0;
        this.merge(f.message.room, [f.message]);
        // A live message after a gap: fetch what is missing from history.
        if (room && held > 0 && f.message.seq > held + 1) this.socket?.send({ type: 'history.get', room: room.room, after: held, limit: LIMITS.historyPageMax });
        if (!room) this.socket?.send({ type: 'sync', rooms: [] });
        return;
      }
      case 'history.page':
        if (this.rooms[f.room]) this.rooms[f.room]!.loadingOlder = false;
        this.merge(f.room, f.messages);
        return;
      case 'sync.done':
        for (const s of f.rooms) this.summary(s);
        this.save();
        this.flush();
        return;
      case 'receipt': {
        const room = this.rooms[f.room];
        if (!room) return;
        const book = f.kind === 'read' ? room.read : room.delivered;
        book[String(f.user)] = Math.max(book[String(f.user)] ?? 0, f.seq);
        if (f.kind === 'read') room.delivered[String(f.user)] = Math.max(room.delivered[String(f.user)] ?? 0, f.seq);
        this.save();
        return;
      }
      case 'typing': {
        const room = this.rooms[f.room];
        if (room && f.user !== this.me?.id) room.typingUntil = f.active ? Date.now() + TYPING_SHOW_MS : 0;
        return;
      }
      case 'error':
        if (f.ref?.startsWith('older:')) {
          const room = this.rooms[f.ref.slice(6)];
          if (room) room.loadingOlder = false;
        }
        // A send the server refuses for good (too long, conflict, not allowed, not storable) leaves the outbox.
        if (f.ref && ['body_too_long', 'invalid_recipient', 'user_not_found', 'room_not_found', 'conflict', 'invalid_frame', 'message_rejected'].includes(f.code)) {
          this.outbox = this.outbox.filter((o) => o.clientMsgId !== f.ref);
          this.saveOutbox();
        }
        return;
      case 'presence':
        this.presence[f.user] = f.online ? { online: true } : { online: false, lastSeen: f.lastSeen };
        return;
      case 'pong':
        return;
      default: {
        const never: never = f;
        return never;
      }
    }
  }

  private summary(s: RoomSummary): void {
    const members: PublicUser[] = [];
    for (const { online, lastSeen, ...user } of s.members) {
      members.push(user);
      this.presence[user.id] = online ? { online: true } : { online: false, lastSeen };
    }
    const room = this.rooms[s.room];
    if (!room) {
      this.rooms[s.room] = { ...s, members, messages: [], typingUntil: 0, loadingOlder: false };
      return;
    }
    room.members = members;
    room.lastSeq = Math.max(room.lastSeq, s.lastSeq);
    for (const [k, v] of Object.entries(s.delivered)) room.delivered[k] = Math.max(room.delivered[k] ?? 0, v);
    for (const [k, v] of Object.entries(s.read)) room.read[k] = Math.max(room.read[k] ?? 0, v);
  }

  /** Adds messages to a room by seq (dropping ones held already), acks them and clears them from the outbox. */
  private merge(roomId: string, incoming: Message[]): void {
    if (incoming.length === 0) return;
    let room = this.rooms[roomId];
    if (!room) {
      room = this.rooms[roomId] = { room: roomId, members: [], lastSeq: 0, delivered: {}, read: {}, messages: [], typingUntil: 0, loadingOlder: false };
    }
    const bySeq = new Map(room.messages.map((m) => [m.seq, m]));
    let fromOthers = false;
    for (const m of incoming) {
      if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
      if (m.sender !== this.me?.id) {
        fromOthers = true;
        room.typingUntil = 0;
      }
    }
    room.messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    room.lastSeq = Math.max(room.lastSeq, room.messages.at(-1)!.seq);
    const ids = new Set(incoming.map((m) => m.clientMsgId));
    if (this.outbox.some((o) => ids.has(o.clientMsgId))) {
      this.outbox = this.outbox.filter((o) => !ids.has(o.clientMsgId));
      for (const id of ids) this.inFlight.delete(id);
      this.saveOutbox();
    }
    if (fromOthers) {
      const seq = contiguous(room.messages);
      this.socket?.send({ type: 'message.ack', room: roomId, seq });
      if (this.openRoom === roomId) this.markRead(roomId);
    }
    this.save();
  }

  /** Sends every outbox item not in flight, oldest first. */
  private flush(): void {
    if (this.connection !== 'online') return;
    for (const item of this.outbox) {
      if (this.inFlight.has(item.clientMsgId)) continue;
      if (!this.socket?.send({ type: 'message.send', to: item.to, clientMsgId: item.clientMsgId, body: item.body })) return;
      this.inFlight.set(item.clientMsgId, Date.now());
    }
  }

  private resendStale(): void {
    const now = Date.now();
    for (const [id, at] of this.inFlight) if (now - at > RESEND_MS) this.inFlight.delete(id);
    this.flush();
  }

  private saveOutbox(): void {
    if (this.me) storage.setOutbox(this.me.id, $state.snapshot(this.outbox));
  }

  /** Writes the offline cache, at most every 300 ms. */
  private save(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      if (!this.me) return;
      const rooms = Object.values($state.snapshot(this.rooms)).map(({ typingUntil: _t, loadingOlder: _l, ...r }) => ({
        ...r,
        messages: r.messages.slice(-CACHED_MESSAGES),
      }));
      storage.setRooms(this.me.id, rooms);
    }, 300);
  }
}

/** The highest seq up to which the held messages have no gap (from the oldest held). */
export function contiguous(messages: Message[]): number {
  let seq = messages[0]?.seq ?? 0;
  for (const m of messages) {
    if (m.seq > seq + 1) break;
    seq = m.seq;
  }
  return seq;
}

export const chat = new Chat();
