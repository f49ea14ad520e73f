/**
 * The chat store the pages read: the chat state (rooms, outbox, presence) made reactive, wired to
 * the one socket, the offline cache and the clock. Every rule about frames is in apply.ts; this
 * file only runs what it asks for. After every (re)connect it resyncs, flushes the outbox in order
 * with the same clientMsgIds, and acks and reads what arrives.
 */
import { directRoomId, type Message, type PublicUser, type ServerFrame } from '$protocol/frames.ts';
import type { User } from '../api.ts';
import { ChatSocket, type ConnectionState } from '../socket.ts';
import { storage } from '../storage.ts';
import { apply, OLDER_REF, type Effect } from './apply.ts';
import { ChatCache } from './cache.ts';
import { InFlight, outboxItem } from './outbox.ts';
import { contiguous, emptyRoom, emptyState, fromCache, type ChatState, type Presence, type Room, type Tick } from './state.ts';
import { hasOlder, isTyping, otherMember, presenceIn, tickOf, unreadCount } from './view.ts';

/** Typing frames go out at most this often (ms) while someone types. */
const TYPING_SEND_MS = 3000;
/** How often (ms) the clock on screen moves and stale sends are retried. */
const TICK_MS = 1000;

export class Chat {
  me = $state<User | null>(null);
  connection = $state<ConnectionState>('offline');
  /** The room on screen (reads are sent only for it, and only while the page is visible). */
  openRoom = $state<string | null>(null);
  now = $state(Date.now());
  /** Set when the server ended the session. */
  signedOut = $state(false);
  private state = $state<ChatState>(emptyState());

  private socket: ChatSocket | null = null;
  private cache: ChatCache | null = null;
  private readonly inFlight = new InFlight();
  private ticker: ReturnType<typeof setInterval> | null = null;
  private typingSentAt = 0;

  get rooms(): Record<string, Room> {
    return this.state.rooms;
  }

  get outbox(): ChatState['outbox'] {
    return this.state.outbox;
  }

  /** Contacts' presence by user id. Not cached. */
  get presence(): Record<number, Presence> {
    return this.state.presence;
  }

  /** Starts for `user`: loads the offline cache and the outbox, then connects. */
  start(user: User): void {
    if (this.me?.id === user.id && this.socket) return;
    this.stop();
    this.me = user;
    this.signedOut = false;
    storage.setMe(user);
    this.cache = new ChatCache(user.id, () => Object.values($state.snapshot(this.state.rooms)));
    const rooms: Record<string, Room> = {};
    for (const r of this.cache.loadRooms()) rooms[r.room] = fromCache(r);
    this.state.rooms = rooms;
    this.state.outbox = this.cache.loadOutbox();
    this.socket = new ChatSocket({
      frame: (f) => this.onFrame(f),
      state: (s) => {
        this.connection = s;
        if (s !== 'online') {
          this.inFlight.clear();
          // Without a socket nobody tells us who leaves: "online" would go stale, last-seen times do not.
          for (const [id, p] of Object.entries(this.state.presence)) if (p.online) delete this.state.presence[Number(id)];
        }
      },
      signedOut: () => (this.signedOut = true),
    });
    this.socket.start();
    this.ticker = setInterval(() => {
      this.now = Date.now();
      this.inFlight.expire(this.now);
      this.flush();
    }, TICK_MS);
    addEventListener('visibilitychange', this.onVisible);
  }

  stop(): void {
    this.cache?.flush();
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
    if (id) {
      this.cache?.clear();
      storage.setMe(null);
    }
    this.cache = null;
    this.me = null;
    this.state = emptyState();
  }

  /** The room with `other`, created locally until its first message creates it on the server. */
  roomWith(other: User | PublicUser): string {
    const me = this.me!;
    const id = directRoomId(me.id, other.id);
    if (!this.state.rooms[id]) {
      const mine: PublicUser = { id: me.id, handle: me.handle, displayName: me.displayName };
      const theirs: PublicUser = { id: other.id, handle: other.handle, displayName: other.displayName };
      this.state.rooms[id] = emptyRoom(id, [mine, theirs]);
      this.cache?.saveRooms();
    }
    return id;
  }

  other(room: Room): PublicUser | undefined {
    return otherMember(room, this.me?.id);
  }

  /** Queues a message in the outbox (kept across reloads) and sends it when the socket is up. */
  send(roomId: string, body: string): void {
    const room = this.state.rooms[roomId];
    const to = room && this.other(room);
    const item = to && outboxItem(roomId, to.id, body, crypto.randomUUID(), Date.now());
    if (!item) return;
    this.state.outbox.push(item);
    this.saveOutbox();
    this.typing(roomId, false);
    this.flush();
  }

  /** Sends typing on/off, throttled. */
  typing(roomId: string, active: boolean): void {
    if (active && Date.now() - this.typingSentAt < TYPING_SEND_MS) return;
    this.typingSentAt = active ? Date.now() : 0;
    if (this.state.rooms[roomId]?.lastSeq) this.socket?.send({ type: 'typing', room: roomId, active });
  }

  /** Asks for the page of history before the oldest message held. */
  loadOlder(roomId: string): void {
    const room = this.state.rooms[roomId];
    const oldest = room?.messages[0]?.seq;
    if (!room || room.loadingOlder || !oldest || oldest <= 1) return;
    if (this.socket?.send({ type: 'history.get', ref: `${OLDER_REF}${roomId}`, room: roomId, before: oldest, limit: 50 })) room.loadingOlder = true;
  }

  hasOlder(room: Room): boolean {
    return hasOlder(room);
  }

  unread(room: Room): number {
    return unreadCount(room, this.me?.id);
  }

  tick(room: Room, m: Message): Tick {
    return tickOf(room, m, this.me?.id);
  }

  /** The presence of the other member of a room, when known. */
  presenceIn(room: Room): Presence | undefined {
    return presenceIn(room, this.me?.id, this.state.presence);
  }

  isTyping(room: Room): boolean {
    return isTyping(room, this.now);
  }

  /** Marks everything shown in the open room as read (when the page is visible). */
  markRead(roomId: string): void {
    const room = this.state.rooms[roomId];
    if (!room || document.visibilityState !== 'visible' || !this.me) return;
    const seq = contiguous(room.messages);
    if (seq > (room.read[String(this.me.id)] ?? 0) && this.socket?.send({ type: 'message.read', room: roomId, seq })) {
      room.read[String(this.me.id)] = seq;
      this.cache?.saveRooms();
    }
  }

  private onVisible = () => {
    if (this.openRoom) this.markRead(this.openRoom);
  };

  private onFrame(frame: ServerFrame): void {
    for (const effect of apply(this.state, frame, { me: this.me?.id ?? null, now: Date.now() })) this.run(effect);
  }

  private run(effect: Effect): void {
    switch (effect.type) {
      case 'send':
        this.socket?.send(effect.frame);
        return;
      case 'save':
        this.cache?.saveRooms();
        return;
      case 'saveOutbox':
        this.saveOutbox();
        return;
      case 'flush':
        this.flush();
        return;
      case 'read':
        if (this.openRoom === effect.room) this.markRead(effect.room);
        return;
      default: {
        const never: never = effect;
        return never;
      }
    }
  }

  /** Sends every outbox item not in flight, oldest first; stops at the first that cannot go out. */
  private flush(): void {
    if (this.connection !== 'online') return;
    for (const item of this.inFlight.due(this.state.outbox)) {
      if (!this.socket?.send({ type: 'message.send', to: item.to, clientMsgId: item.clientMsgId, body: item.body })) return;
      this.inFlight.mark(item.clientMsgId, Date.now());
    }
  }

  private saveOutbox(): void {
    this.inFlight.keepOnly(this.state.outbox);
    this.cache?.saveOutbox($state.snapshot(this.state.outbox));
  }
}

export const chat = new Chat();
