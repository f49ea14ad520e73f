/**
 * The device's offline store as plain data: the IndexedDB schema (names, version, record shapes)
 * and the pure rules around it: how a room splits into records, which messages changed since the
 * last write, which pages to evict under a storage budget, what the old localStorage cache becomes,
 * and how a pushed message joins a room. offline.db.ts does the I/O; the page and the service
 * worker share both, so they read and write one schema.
 */
import type { Attachment, Message, PublicUser } from '../../../../protocol/frames.ts';
import type { PushPayload } from '../../../../protocol/push.ts';
import type { OutboxItem } from './outbox.ts';
import type { CachedRoom } from './state.ts';

export const DB_NAME = 'messenger';
/** Raise with a new step in offline.db.ts's upgrade; every step runs from the version a device has. */
export const DB_VERSION = 2;

/** A room without its messages; `active` (ms, its newest message's time) orders eviction. */
export interface RoomRecord {
  user: number;
  room: string;
  data: Omit<CachedRoom, 'messages'>;
  active: number;
}

/** One log entry of a room, keyed [user, room, seq]. */
export interface MessageRecord {
  user: number;
  room: string;
  seq: number;
  message: Message;
}

/** A user's outbox, oldest first, in one record: it is short, and written as a whole. */
export interface OutboxRecord {
  user: number;
  items: OutboxItem[];
}

/** Per user and room: the highest seq a notification was shown for (a repeated push is not shown twice). */
export interface NotifiedRecord {
  user: number;
  room: string;
  seq: number;
}

/** A file of a room's composer not sent yet: the File itself, and its stored upload once uploaded. */
export interface PendingFileRecord {
  key: string;
  file: File;
  attachment: Attachment | null;
}

/**
 * A room's composer files not sent yet, and the send asked for (caption, reply) if any, keyed
 * [user, room]: offline they wait here, so a reload does not lose them and they go when back online.
 */
export interface PendingUploadsRecord {
  user: number;
  room: string;
  files: PendingFileRecord[];
  armed: { caption: string; replyTo?: Message } | null;
}

/** The signed-in user of this browser, for the service worker (key `me`). */
export interface MetaRecord {
  key: 'me';
  user: number;
}

/** Entries per page: eviction drops a room's oldest page at a time, and keeps each room's newest. */
export const EVICT_PAGE = 50;
/** The share of the quota the cache may use. */
export const BUDGET_SHARE = 0.5;
/** The most the cache uses whatever the quota, bytes. */
export const BUDGET_MAX = 500 * 1024 * 1024;

/** The bytes the cache may use given the browser's quota (bytes). */
export function budgetOf(quota: number): number {
  return Math.min(quota * BUDGET_SHARE, BUDGET_MAX);
}

/** A room as records: the room without messages and one record per message. */
export function splitRoom(user: number, room: CachedRoom): { record: RoomRecord; messages: MessageRecord[] } {
  const { messages, ...data } = room;
  return {
    record: { user, room: room.room, data, active: messages.at(-1)?.ts ?? 0 },
    messages: messages.map((message) => ({ user, room: room.room, seq: message.seq, message })),
  };
}

/** A room back from its records (messages in any order, deduped by seq). */
export function joinRoom(record: RoomRecord, messages: readonly Message[]): CachedRoom {
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  return { ...record.data, messages: [...bySeq.values()].sort((a, b) => a.seq - b.seq) };
}

/**
 * What was last written, as JSON per room and per message, so a write puts only what changed
 * (a room of thousands of messages is not rewritten for one new message).
 */
export class Written {
  private readonly rooms = new Map<string, string>();
  private readonly messages = new Map<string, Map<number, string>>();

  /** The parts of `room` that differ from the last write, and remembers them as written. */
  changes(user: number, room: CachedRoom): { record: RoomRecord | null; messages: MessageRecord[] } {
    const split = splitRoom(user, room);
    const json = JSON.stringify(split.record);
    const record = this.rooms.get(room.room) === json ? null : split.record;
    this.rooms.set(room.room, json);
    let seen = this.messages.get(room.room);
    if (!seen) this.messages.set(room.room, (seen = new Map()));
    const changed: MessageRecord[] = [];
    for (const m of split.messages) {
      const text = JSON.stringify(m.message);
      if (seen.get(m.seq) === text) continue;
      seen.set(m.seq, text);
      changed.push(m);
    }
    return { record, messages: changed };
  }

  /** Marks what was loaded as written. */
  loaded(user: number, room: CachedRoom): void {
    this.changes(user, room);
  }

  clear(): void {
    this.rooms.clear();
    this.messages.clear();
  }
}

/** A room as eviction sees it: when it was last active and the seqs it holds, ascending. */
export interface RoomUsage {
  room: string;
  active: number;
  seqs: readonly number[];
}

/**
 * Which entries to drop so `usage` (bytes) falls to `budget`: the oldest page of the least recently
 * active room first, again and again, never a room's newest page. Per room, the seq below which
 * everything goes. `bytesPerEntry` is the average size of a stored entry.
 */
export function evictionPlan(rooms: readonly RoomUsage[], usage: number, budget: number, bytesPerEntry: number): Map<string, number> {
  const plan = new Map<string, number>();
  if (usage <= budget || bytesPerEntry <= 0) return plan;
  const order = [...rooms].sort((a, b) => a.active - b.active);
  let over = usage - budget;
  for (const r of order) {
    let from = 0;
    while (over > 0 && r.seqs.length - from > EVICT_PAGE) {
      const take = Math.min(EVICT_PAGE, r.seqs.length - from - EVICT_PAGE);
      from += take;
      over -= take * bytesPerEntry;
    }
    if (from > 0) plan.set(r.room, r.seqs[from]!);
    if (over <= 0) break;
  }
  return plan;
}

/** What the localStorage cache held for one user. */
export interface Legacy {
  rooms: CachedRoom[];
  outbox: OutboxItem[];
}

const LEGACY_KEY = /^(rooms|outbox):(\d+)$/;

/**
 * The old localStorage cache (`rooms:<user>`, `outbox:<user>`, JSON) by user, and the keys it was
 * under (to remove once it is in IndexedDB). A value that does not parse migrates as nothing.
 */
export function fromLocalStorage(entries: Iterable<readonly [string, string | null]>): { users: Map<number, Legacy>; keys: string[] } {
  const users = new Map<number, Legacy>();
  const keys: string[] = [];
  for (const [key, raw] of entries) {
    const match = LEGACY_KEY.exec(key);
    if (!match) continue;
    keys.push(key);
    const user = Number(match[2]);
    const legacy = users.get(user) ?? { rooms: [], outbox: [] };
    users.set(user, legacy);
    let value: unknown;
    try {
      value = raw ? JSON.parse(raw) : null;
    } catch {
      continue;
    }
    if (!Array.isArray(value)) continue;
    if (match[1] === 'rooms') legacy.rooms = value.filter((r): r is CachedRoom => typeof r?.room === 'string' && Array.isArray(r.messages));
    else legacy.outbox = value.filter((o): o is OutboxItem => typeof o?.clientMsgId === 'string' && typeof o.room === 'string');
  }
  return { users, keys };
}

/** `existing` then the items of `more` it lacks (by clientMsgId), in their order. */
export function mergeOutbox(existing: readonly OutboxItem[], more: readonly OutboxItem[]): OutboxItem[] {
  const have = new Set(existing.map((o) => o.clientMsgId));
  return [...existing, ...more.filter((o) => !have.has(o.clientMsgId))];
}

/** The message a push carries whole, or null when it carries only a preview. */
export function pushedMessage(p: PushPayload): Message | null {
  if (p.body === undefined || p.ts === undefined) return null;
  return { id: p.id, room: p.room, seq: p.seq, sender: p.sender.id, body: p.body, clientMsgId: '', ts: p.ts };
}

/**
 * The room record after a pushed message: the room as held (or a new one naming the sender), its
 * `lastSeq` raised, the sender known by name.
 */
export function roomAfterPush(user: number, held: RoomRecord | undefined, p: PushPayload, m: Message): RoomRecord {
  const sender: PublicUser = { id: p.sender.id, handle: p.sender.handle, displayName: p.sender.displayName };
  const base: RoomRecord['data'] = held?.data ?? {
    room: p.room,
    kind: p.kind ?? 'direct',
    ...(p.roomName !== undefined ? { name: p.roomName } : {}),
    members: p.kind === 'group' ? [] : [sender],
    lastSeq: 0,
    delivered: {},
    read: {},
  };
  const data = { ...base, lastSeq: Math.max(base.lastSeq, m.seq), people: { ...base.people, [String(sender.id)]: sender } };
  return { user, room: p.room, data, active: Math.max(held?.active ?? 0, m.ts) };
}
