/**
 * The chat store the pages read: the chat state (rooms, outbox, presence) made reactive, wired to
 * the one socket, the offline cache and the clock. Every rule about frames is in apply.ts; this
 * file only runs what it asks for. After every (re)connect it resyncs, flushes the outbox in order
 * with the same clientMsgIds, and acks and reads what arrives.
 */
import { directRoomId, LIMITS, type Attachment, type GroupRole, type Message, type PublicUser, type Reaction, type RoomEvent, type ServerFrame } from '$protocol/frames.ts';
import { api, type User } from '../api.ts';
import { requestOutboxSync, requestPeriodicCatchUp, withdrawNotification } from '../push.ts';
import { ChatSocket, type ConnectionState } from '../socket.ts';
import { storage } from '../storage.ts';
import { apply, OLDER_REF, type Effect } from './apply.ts';
import { ChatCache, toCached } from './cache.ts';
import { evictOverBudget, migrateLocalStorage, persistStorage, setSignedIn } from './offline.db.ts';
import { mergeOutbox } from './offline.schema.ts';
import { learn, profile } from './members.ts';
import { previewOf } from './changes.ts';
import { InFlight, isFinalRefusal, outboxItem, sendFrame, type OutboxItem } from './outbox.ts';
import { RequestError, Requests, type GroupRequest } from './requests.ts';
import { sentenceFor } from '../errors.ts';
import { contiguous, emptyRoom, emptyState, fromCache, type ChatState, type Member, type Presence, type Room, type Tick } from './state.ts';
import {
  canDeleteForAll,
  canEdit,
  chipsOf,
  eventText,
  hasOlder,
  isGroup,
  isTyping,
  lastEditable,
  nameIn,
  otherMember,
  outboxTick,
  personIn,
  photoOf,
  presenceIn,
  receiptsOf,
  recipientsOf,
  tickOf,
  titleOf,
  withDeletedAccount,
  shownIn,
  typingLine,
  unreadCount,
  type Chip,
  type Receipts,
} from './view.ts';

/** Typing frames go out at most this often (ms) while someone types. */
const TYPING_SEND_MS = 3000;
/** How often (ms) the clock on screen moves and stale sends are retried. */
const TICK_MS = 1000;
/** How long (ms) a notice ("Copied", a refusal) stays on screen. */
const NOTICE_MS = 4000;
/** The edit window until `hello` says this server's (EDIT_WINDOW_MS's default), ms. */
const EDIT_WINDOW_MS = 48 * 3600_000;

export class Chat {
  me = $state<User | null>(null);
  connection = $state<ConnectionState>('offline');
  /** When `connection` last changed (ms since the epoch): a short handshake is not shown as "Connecting…". */
  connectionSince = $state(Date.now());
  /** True once a `sync.done` listed this user's rooms: a room missing after it is not theirs. */
  synced = $state(false);
  /** The room on screen (reads are sent only for it, and only while the page is visible). */
  openRoom = $state<string | null>(null);
  now = $state(Date.now());
  /** True once this device's stored rooms and outbox are on screen (before the socket connects). */
  loaded = $state(false);
  /** Set when the server ended the session. */
  signedOut = $state(false);
  /** Told when this user's own profile changed on another device (`user.updated`). */
  onMyProfile: ((user: User) => void) | null = null;
  /** How long a message stays editable (ms), as `hello` says. */
  editWindowMs = $state(EDIT_WINDOW_MS);
  /** A short sentence for the person ("Copied.", why an action was refused), cleared after NOTICE_MS. */
  notice = $state<string | null>(null);
  private state = $state<ChatState>(emptyState());
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  /** Per outbox item (clientMsgId): how often it went out on this connection without an answer. */
  private sends = $state<Record<string, number>>({});
  /**
   * Per open conversation: the newest seq it has had on screen (Infinity: it is at its end). Reads
   * go no further, so what is below the view stays unread until it is scrolled to.
   */
  private readonly onScreen = new Map<string, number>();
  /** Per room: who waits for the page of older history asked for. */
  private readonly olderWaiters = new Map<string, Array<() => void>>();

  private socket: ChatSocket | null = null;
  /** Raised by every stop: a load that finishes after it belongs to a session that ended. */
  private generation = 0;
  private running = false;
  private cache: ChatCache | null = null;
  private readonly inFlight = new InFlight();
  private ticker: ReturnType<typeof setInterval> | null = null;
  private typingSentAt = 0;
  private readonly requests = new Requests();
  /** Profiles looked up over HTTP this session, and the rooms waiting for lookups in flight. */
  private readonly profiles = new Map<number, PublicUser>();
  private readonly waiting = new Map<number, Set<string>>();
  /** Conditions awaited by `until`, checked after every frame and connection change. */
  private readonly watchers = new Set<() => void>();

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

  /** Starts for `user`: loads the offline cache and the outbox, paints them, then connects. */
  start(user: User): void {
    if (this.me?.id === user.id && this.running) return;
    this.stop();
    this.running = true;
    // Another account's chats never mix with these (a stop without sign-out keeps them in memory).
    if (this.me?.id !== user.id) this.state = emptyState();
    this.me = user;
    this.signedOut = false;
    storage.setMe(user);
    this.cache = new ChatCache(user.id, () => Object.values(this.state.rooms).map((r) => $state.snapshot(toCached(r))));
    void this.open(user, this.cache, this.generation);
  }

  /**
   * Moves an old localStorage cache over, loads this device's rooms and outbox and shows them, and
   * only then connects: the first sync asks from what the device holds. Housekeeping (persistence,
   * eviction) runs after, so it never delays the first paint.
   */
  private async open(user: User, cache: ChatCache, generation: number): Promise<void> {
    await migrateLocalStorage().catch(() => 0);
    const held = await cache.load();
    if (generation !== this.generation) return;
    const rooms: Record<string, Room> = {};
    for (const r of held.rooms) rooms[r.room] = fromCache(r);
    // A room opened while loading (a new chat) stays.
    for (const [id, r] of Object.entries(this.state.rooms)) rooms[id] ??= r;
    this.state.rooms = rooms;
    this.state.outbox = mergeOutbox(held.outbox, this.state.outbox);
    this.loaded = true;
    performance.mark('chat:cache-loaded');
    void setSignedIn(user.id).catch(() => undefined);
    void persistStorage();
    void requestPeriodicCatchUp().catch(() => undefined);
    void evictOverBudget(user.id).catch(() => 0);
    this.socket = new ChatSocket({
      frame: (f) => this.onFrame(f),
      state: (s) => {
        this.connection = s;
        this.connectionSince = Date.now();
        if (s === 'online') performance.mark('chat:online');
        if (s !== 'online') {
          this.inFlight.clear();
          this.sends = {};
          this.requests.failAll();
          // An earlier page asked for on the old socket never comes: let the next ask go out.
          for (const room of Object.values(this.state.rooms)) room.loadingOlder = false;
          this.settleOlder();
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
    this.generation++;
    this.running = false;
    this.loaded = false;
    void this.cache?.flush();
    this.requests.failAll();
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
      void this.cache?.clear();
      storage.setMe(null);
    }
    this.cache = null;
    this.me = null;
    this.state = emptyState();
    this.synced = false;
    // Whoever waits for an older page of the account that signed out stops waiting.
    this.settleOlder();
  }

  /** The room with `other`, created locally until its first message creates it on the server. */
  roomWith(other: User | PublicUser): string {
    const me = this.me!;
    const id = directRoomId(me.id, other.id);
    if (!this.state.rooms[id]) {
      this.state.rooms[id] = emptyRoom(id, [profile(me), profile(other)]);
      this.cache?.saveRooms();
    }
    return id;
  }

  other(room: Room): PublicUser | undefined {
    return otherMember(room, this.me?.id);
  }

  /** The room's title: the group's name or the other member's name. */
  title(room: Room): string {
    return titleOf(room, this.me?.id);
  }

  /** The room's photo: the group's, or the other member's; null when there is none. */
  photo(room: Room): string | null {
    return photoOf(room, this.me?.id);
  }

  isGroup(room: Room): boolean {
    return isGroup(room);
  }

  /** True for a 1:1 chat whose other person deleted their account. */
  withDeleted(room: Room): boolean {
    return withDeletedAccount(room, this.me?.id);
  }

  /** True when the user `id` of the room deleted their account. */
  deletedIn(room: Room, id: number): boolean {
    return personIn(room, id)?.deleted === true;
  }

  /** A user's name as the room knows it. */
  nameIn(room: Room, id: number): string {
    return nameIn(room, id);
  }

  /** The sentence a group event shows inline. */
  eventText(room: Room, m: Message & { event: RoomEvent }): string {
    return eventText(room, m, this.me?.id);
  }

  /** Delivered to / read by N of M for an own message. */
  receipts(room: Room, m: Message): Receipts {
    return receiptsOf(room, m);
  }

  /** Who an own message is for (M): members but me who joined at or before it. */
  recipients(room: Room, m: Message): Member[] {
    return recipientsOf(room, m);
  }

  /** Who is typing, as a line for the header and the chat list; null when nobody is. */
  typingLine(room: Room): string | null {
    return typingLine(room, this.now);
  }

  /** This user's role in a group (undefined in a 1:1 room or a group they left). */
  roleIn(room: Room): GroupRole | undefined {
    return room.members.find((m) => m.id === this.me?.id)?.role;
  }

  /** Creates a group of `members` (not including me) named `name`; resolves with its room id once it is stored. */
  async createGroup(name: string, members: PublicUser[]): Promise<string> {
    const done = await this.requests.send(this.socket, { type: 'group.create', name, members: members.map((m) => m.id) });
    const me = this.me!;
    if (!this.state.rooms[done.room]) this.state.rooms[done.room] = { ...emptyRoom(done.room), kind: 'group', name };
    const room = this.state.rooms[done.room]!;
    const mine = profile(me);
    if (room.members.length === 0) room.members = [{ ...mine, role: 'owner' }, ...members.map((m) => ({ ...m, role: 'member' as const }))];
    learn(room, [mine, ...members]);
    this.cache?.saveRooms();
    return done.room;
  }

  /** Sends a group request (rename, add, remove, role, leave); resolves once it is applied, rejects with its error. */
  async group(frame: Exclude<GroupRequest, { type: 'group.create' | 'group.members' }>): Promise<void> {
    await this.requests.send(this.socket, frame);
  }

  /** Asks for a group's current members with their receipts (the answer updates the room). */
  async loadMembers(roomId: string): Promise<void> {
    await this.requests.send(this.socket, { type: 'group.members', room: roomId });
  }

  /** Mutes (or unmutes) a room's push notifications for this user. */
  async mute(roomId: string, muted: boolean): Promise<void> {
    const res = await api.muteRoom(roomId, muted);
    const room = this.state.rooms[roomId];
    if (room) room.muted = res.muted;
    this.cache?.saveRooms();
  }

  /**
   * Queues a message in the outbox (kept across reloads) and sends it when the socket is up; with
   * `replyTo`, as a reply to that message of the same room; with `attachments` (uploaded already), a
   * message carrying them, `body` its optional caption. False when it cannot be queued.
   */
  send(roomId: string, body: string, replyTo?: Message, attachments?: Attachment[]): boolean {
    const quote = replyTo ? { seq: replyTo.seq, sender: replyTo.sender, preview: previewOf(replyTo.body) } : undefined;
    const queued = this.queue(roomId, (to, id) => outboxItem(roomId, to, body, id, Date.now(), { ...(quote ? { replyTo: quote } : {}), ...(attachments ? { attachments } : {}) }));
    if (queued) this.typing(roomId, false);
    return queued;
  }

  /**
   * Forwards message `seq` of room `from` to room `toRoom` through the outbox (a new message with a
   * new clientMsgId, marked "forwarded from" the original's sender). False when it cannot go there.
   */
  forward(from: string, seq: number, toRoom: string): boolean {
    const source = this.state.rooms[from];
    const m = source?.messages.find((x) => x.seq === seq);
    if (!source || !m || m.kind !== undefined || m.deleted) return false;
    // As the server marks it: the first author, by display name.
    const origin = m.forwarded ?? { sender: m.sender, name: personIn(source, m.sender)?.displayName ?? '' };
    return this.queue(toRoom, (to, id) => outboxItem(toRoom, to, m.body, id, Date.now(), { forward: { room: from, seq, from: origin } }));
  }

  private queue(roomId: string, make: (to: number | undefined, clientMsgId: string) => OutboxItem | null): boolean {
    const room = this.state.rooms[roomId];
    if (!room || room.left !== undefined) return false;
    const to = isGroup(room) ? undefined : this.other(room)?.id;
    if (!isGroup(room) && to === undefined) return false;
    const item = make(to, crypto.randomUUID());
    if (!item) return false;
    this.state.outbox.push(item);
    this.saveOutbox();
    this.flush();
    return true;
  }

  /**
   * Edits, deletes or reacts to a message. These go out only while online (they are not queued: an
   * edit made offline could land after the window closed, or after the message was deleted); offline
   * or refused, the reason becomes the notice. The change itself arrives as a log entry.
   */
  async edit(roomId: string, seq: number, body: string): Promise<boolean> {
    return this.act({ type: 'message.edit', room: roomId, seq, body });
  }

  async remove(roomId: string, seq: number, forWhom: 'everyone' | 'me'): Promise<boolean> {
    return this.act({ type: 'message.delete', room: roomId, seq, for: forWhom });
  }

  async react(roomId: string, seq: number, emoji: Reaction, on: boolean): Promise<boolean> {
    return this.act({ type: 'message.react', room: roomId, seq, emoji, on });
  }

  private async act(frame: Parameters<Requests['send']>[1]): Promise<boolean> {
    try {
      await this.requests.send(this.connection === 'online' ? this.socket : null, frame);
      return true;
    } catch (e) {
      this.say(e instanceof RequestError ? e.message : 'Something went wrong.');
      return false;
    }
  }

  /** Shows a short sentence for NOTICE_MS. */
  say(text: string): void {
    this.notice = text;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice = null), NOTICE_MS);
  }

  /** What the conversation shows: messages and group events, not change entries nor messages deleted for me. */
  shown(room: Room): Message[] {
    return shownIn(room);
  }

  canEdit(m: Message): boolean {
    return canEdit(m, this.me?.id, this.now, this.editWindowMs);
  }

  canDeleteForAll(room: Room, m: Message): boolean {
    return canDeleteForAll(room, m, this.me?.id);
  }

  chips(room: Room, m: Message): Chip[] {
    return chipsOf(room, m, this.me?.id);
  }

  /** The newest own message still editable (Up arrow in an empty composer). */
  lastEditable(room: Room): Message | undefined {
    return lastEditable(room, this.me?.id, this.now, this.editWindowMs);
  }

  /**
   * Loads older history until message `seq` is held (a reply's original). Resolves true once it
   * is, false when it cannot be (offline, before this user's view of the room, deleted for me).
   */
  async reveal(roomId: string, seq: number): Promise<boolean> {
    for (;;) {
      const room = this.state.rooms[roomId];
      if (!room || room.hidden?.includes(seq)) return false;
      if (room.messages.some((m) => m.seq === seq)) return true;
      const oldest = room.messages[0]?.seq ?? 0;
      if (!this.hasOlder(room) || oldest <= seq) return false;
      if (!(await this.loadOlder(roomId, oldest - seq))) return false;
      // No progress (the page was refused): stop rather than ask for ever.
      if ((this.state.rooms[roomId]?.messages[0]?.seq ?? oldest) >= oldest) return false;
    }
  }

  /** Sends typing on/off, throttled. */
  typing(roomId: string, active: boolean): void {
    if (active && Date.now() - this.typingSentAt < TYPING_SEND_MS) return;
    this.typingSentAt = active ? Date.now() : 0;
    const room = this.state.rooms[roomId];
    if (room?.lastSeq && room.left === undefined) this.socket?.send({ type: 'typing', room: roomId, active });
  }

  /**
   * Asks for the page of history before the oldest message held (`want` entries, up to a page);
   * resolves once it (or its error) came, false when it could not be asked or the socket went.
   */
  loadOlder(roomId: string, want = 50): Promise<boolean> {
    const room = this.state.rooms[roomId];
    const oldest = room?.messages[0]?.seq;
    if (!room || !oldest || oldest <= 1) return Promise.resolve(false);
    const limit = Math.min(Math.max(want, 50), LIMITS.historyPageMax);
    if (!room.loadingOlder && this.socket?.send({ type: 'history.get', ref: `${OLDER_REF}${roomId}`, room: roomId, before: oldest, limit })) room.loadingOlder = true;
    if (!room.loadingOlder) return Promise.resolve(false);
    return new Promise((resolve) => this.olderWaiters.set(roomId, [...(this.olderWaiters.get(roomId) ?? []), () => resolve(true)]));
  }

  /** Wakes whoever waits for an older page of `roomId` (all rooms: the socket went). */
  private settleOlder(roomId?: string): void {
    for (const [room, waiters] of this.olderWaiters) {
      if (roomId !== undefined && room !== roomId) continue;
      this.olderWaiters.delete(room);
      for (const w of waiters) w();
    }
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

  /** The status of an outbox item: pending, or failed once sent FAILED_AFTER_SENDS times without an answer. */
  outboxTick(item: OutboxItem): Tick {
    return outboxTick(this.sends[item.clientMsgId] ?? 0);
  }

  /** Sends an outbox item again now (a failed one), rather than at its next resend; says so when offline. */
  retry(clientMsgId: string): void {
    delete this.sends[clientMsgId];
    this.inFlight.forget(clientMsgId);
    if (this.connection !== 'online') this.say('Offline: it goes out once the connection is back.');
    this.flush();
  }

  /**
   * The conversation of `roomId` has had messages up to `seq` on screen (Infinity: its end), and
   * reads them; `null`: it closed (reads are no longer capped by it).
   */
  viewed(roomId: string, seq: number | null): void {
    if (seq === null) return void this.onScreen.delete(roomId);
    this.onScreen.set(roomId, seq);
    this.markRead(roomId);
  }

  /** The presence of the other member of a room, when known. */
  presenceIn(room: Room): Presence | undefined {
    return presenceIn(room, this.me?.id, this.state.presence);
  }

  isTyping(room: Room): boolean {
    return isTyping(room, this.now);
  }

  /** Marks what the open room's conversation has had on screen as read (when the page is visible). */
  markRead(roomId: string): void {
    const room = this.state.rooms[roomId];
    if (!room || document.visibilityState !== 'visible' || !this.me) return;
    const seq = Math.min(contiguous(room.messages), this.onScreen.get(roomId) ?? Infinity);
    if (seq > (room.read[String(this.me.id)] ?? 0) && this.socket?.send({ type: 'message.read', room: roomId, seq })) {
      room.read[String(this.me.id)] = seq;
      this.cache?.saveRooms();
    }
  }

  private onVisible = () => {
    // Hidden is the last moment a page is sure to get (a phone may kill it after): what is read goes to disk now.
    if (document.visibilityState === 'hidden') void this.cache?.flush();
    else if (this.openRoom) this.markRead(this.openRoom);
  };

  private onFrame(frame: ServerFrame): void {
    this.requests.settle(frame);
    if (frame.type === 'hello' && frame.editWindowMs !== undefined) this.editWindowMs = frame.editWindowMs;
    if (frame.type === 'sync.done') this.synced = true;
    if (frame.type === 'user.updated') this.profileChanged(frame.user);
    // A send the server refused for good leaves the outbox (apply.ts): say why.
    if (frame.type === 'error' && frame.ref && isFinalRefusal(frame.code) && this.state.outbox.some((o) => o.clientMsgId === frame.ref)) {
      this.say(`Not sent: ${sentenceFor(frame.code)}`);
    }
    for (const effect of apply(this.state, frame, { me: this.me?.id ?? null, now: Date.now() })) this.run(effect);
    // What the open chat showed before the socket was up (a cached start, offline) is read now.
    if (frame.type === 'sync.done' && this.openRoom) this.markRead(this.openRoom);
    // A deletion for everyone, live or caught up by sync, takes its message's notification back.
    const entries = frame.type === 'message.new' ? [frame.message] : frame.type === 'history.page' ? frame.messages : [];
    for (const m of entries) if (m.event?.type === 'message.deleted') void withdrawNotification(m.room, m.event.seq).catch(() => undefined);
    const older = frame.type === 'history.page' ? frame.ref : frame.type === 'error' ? frame.ref : undefined;
    if (older?.startsWith(OLDER_REF)) this.settleOlder(older.slice(OLDER_REF.length));
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
      case 'lookup':
        for (const id of effect.users) this.lookup(effect.room, id);
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
      if (!this.socket?.send(sendFrame(item))) return;
      this.inFlight.mark(item.clientMsgId, Date.now());
      this.sends[item.clientMsgId] = (this.sends[item.clientMsgId] ?? 0) + 1;
    }
  }

  /** Fills in a user's profile in a room: from this session's lookups, else over HTTP (once per user). */
  private lookup(roomId: string, id: number): void {
    const known = this.profiles.get(id);
    const room = this.state.rooms[roomId];
    if (known && room) return void learn(room, [known]);
    const rooms = this.waiting.get(id);
    if (rooms) return void rooms.add(roomId);
    this.waiting.set(id, new Set([roomId]));
    api.user(id).then(
      ({ user }) => {
        const known = profile(user);
        this.profiles.set(id, known);
        for (const r of this.waiting.get(id) ?? []) {
          const room = this.state.rooms[r];
          if (room) learn(room, [known]);
        }
        this.waiting.delete(id);
        this.cache?.saveRooms();
      },
      // Unknown (a deleted account) or offline: the name stays "Someone" until the next sync asks again.
      () => this.waiting.delete(id),
    );
  }

  /** A profile changed: this session's lookups forget the old one, and this user's own is replaced everywhere it is shown. */
  private profileChanged(user: PublicUser): void {
    if (this.profiles.has(user.id)) this.profiles.set(user.id, profile(user));
    if (!this.me || user.id !== this.me.id) return;
    this.me = { ...this.me, ...profile(user) };
    storage.setMe(this.me);
    this.onMyProfile?.(this.me);
  }

  private saveOutbox(): void {
    this.inFlight.keepOnly(this.state.outbox);
    const kept = new Set(this.state.outbox.map((o) => o.clientMsgId));
    for (const id of Object.keys(this.sends)) if (!kept.has(id)) delete this.sends[id];
    this.cache?.saveOutbox($state.snapshot(this.state.outbox));
    // Written offline: the service worker sends it when the connection is back, even if the app is closed by then.
    if (this.connection !== 'online' && this.state.outbox.length > 0) void requestOutboxSync().catch(() => undefined);
  }
}

export const chat = new Chat();
