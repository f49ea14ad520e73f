/**
 * The device's offline store in IndexedDB (through `idb`): rooms, every message seen, the outbox,
 * what was notified, and who is signed in. The page and the service worker both open it; the
 * schema and its rules are in offline.schema.ts. A failing IndexedDB (private mode, quota) never
 * breaks the app: reads come back empty and writes are dropped, as with the cache it replaced.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Message } from '../../../../protocol/frames.ts';
import type { PushPayload } from '../../../../protocol/push.ts';
import {
  budgetOf,
  DB_NAME,
  DB_VERSION,
  evictionPlan,
  fromLocalStorage,
  joinRoom,
  mergeOutbox,
  pushedMessage,
  roomAfterPush,
  splitRoom,
  type MessageRecord,
  type MetaRecord,
  type NotifiedRecord,
  type OutboxRecord,
  type PendingUploadsRecord,
  type RoomRecord,
  type Written,
} from './offline.schema.ts';
import type { OutboxItem } from './outbox.ts';
import type { CachedRoom } from './state.ts';

interface OfflineSchema extends DBSchema {
  rooms: { key: [number, string]; value: RoomRecord };
  messages: { key: [number, string, number]; value: MessageRecord };
  outbox: { key: number; value: OutboxRecord };
  notified: { key: [number, string]; value: NotifiedRecord };
  meta: { key: string; value: MetaRecord };
  pendingUploads: { key: [number, string]; value: PendingUploadsRecord };
}

type Db = IDBPDatabase<OfflineSchema>;

let opened: Promise<Db> | null = null;

/** The database, opened (and upgraded) once per page or worker. */
export function offlineDb(): Promise<Db> {
  opened ??= openDB<OfflineSchema>(DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion) {
      // One step per version, each from the one before: a device may skip versions.
      if (oldVersion < 1) {
        db.createObjectStore('rooms', { keyPath: ['user', 'room'] });
        db.createObjectStore('messages', { keyPath: ['user', 'room', 'seq'] });
        db.createObjectStore('outbox', { keyPath: 'user' });
        db.createObjectStore('notified', { keyPath: ['user', 'room'] });
        db.createObjectStore('meta', { keyPath: 'key' });
      }
      if (oldVersion < 2) db.createObjectStore('pendingUploads', { keyPath: ['user', 'room'] });
    },
    // Another tab runs a newer version: step aside so it can upgrade (this tab reloads into it).
    blocking() {
      void opened?.then((db) => db.close());
      opened = null;
    },
  });
  return opened;
}

/** Every key of `user` in a store keyed [user, …]: arrays sort after numbers and strings. */
const ofUser = (user: number) => IDBKeyRange.bound([user], [user, []]);
const ofRoom = (user: number, room: string) => IDBKeyRange.bound([user, room], [user, room, []]);

/** The rooms (with every stored message) and the outbox of `user`. */
export async function loadUser(user: number): Promise<{ rooms: CachedRoom[]; outbox: OutboxItem[] }> {
  const db = await offlineDb();
  const tx = db.transaction(['rooms', 'messages', 'outbox'], 'readonly');
  const [records, messages, outbox] = await Promise.all([
    tx.objectStore('rooms').getAll(ofUser(user)),
    tx.objectStore('messages').getAll(ofUser(user)),
    tx.objectStore('outbox').get(user),
  ]);
  const byRoom = new Map<string, Message[]>();
  for (const m of messages) {
    const list = byRoom.get(m.room);
    if (list) list.push(m.message);
    else byRoom.set(m.room, [m.message]);
  }
  return { rooms: records.map((r) => joinRoom(r, byRoom.get(r.room) ?? [])), outbox: outbox?.items ?? [] };
}

/** Writes what changed in `rooms` since the last write (`written` remembers). */
export async function saveRooms(user: number, rooms: readonly CachedRoom[], written: Written): Promise<void> {
  const changes = rooms.map((r) => written.changes(user, r));
  if (changes.every((c) => !c.record && c.messages.length === 0)) return;
  const db = await offlineDb();
  const tx = db.transaction(['rooms', 'messages'], 'readwrite');
  const roomStore = tx.objectStore('rooms');
  const messageStore = tx.objectStore('messages');
  for (const c of changes) {
    if (c.record) void roomStore.put(c.record);
    for (const m of c.messages) void messageStore.put(m);
  }
  await tx.done;
}

/**
 * Writes the page's outbox: `items`, and after them whatever the service worker added that the
 * page never held (`known`: every clientMsgId it held), such as a reply written in a notification
 * while the app was open. Read and written in one transaction, so such an item is never lost.
 */
export async function saveOutbox(user: number, items: OutboxItem[], known: ReadonlySet<string>): Promise<void> {
  const db = await offlineDb();
  const tx = db.transaction('outbox', 'readwrite');
  const held = (await tx.store.get(user))?.items ?? [];
  await tx.store.put({ user, items: mergeOutbox(items, held.filter((o) => !known.has(o.clientMsgId))) });
  await tx.done;
}

/** Removes the items `done` (by clientMsgId) from `user`'s outbox in one transaction; how many are left. */
export async function removeFromOutbox(user: number, done: ReadonlySet<string>): Promise<number> {
  const db = await offlineDb();
  const tx = db.transaction('outbox', 'readwrite');
  const held = (await tx.store.get(user))?.items ?? [];
  const left = held.filter((o) => !done.has(o.clientMsgId));
  if (left.length !== held.length) await tx.store.put({ user, items: left });
  await tx.done;
  return left.length;
}

/** Adds one item to the end of `user`'s outbox (a reply written in a notification). */
export async function appendOutbox(user: number, item: OutboxItem): Promise<void> {
  const db = await offlineDb();
  const tx = db.transaction('outbox', 'readwrite');
  const held = await tx.store.get(user);
  await tx.store.put({ user, items: mergeOutbox(held?.items ?? [], [item]) });
  await tx.done;
}

/** Forgets everything of `user` (sign-out). */
export async function clearUser(user: number): Promise<void> {
  const db = await offlineDb();
  const tx = db.transaction(['rooms', 'messages', 'outbox', 'notified', 'meta', 'pendingUploads'], 'readwrite');
  await Promise.all([
    tx.objectStore('pendingUploads').delete(ofUser(user)),
    tx.objectStore('rooms').delete(ofUser(user)),
    tx.objectStore('messages').delete(ofUser(user)),
    tx.objectStore('outbox').delete(user),
    tx.objectStore('notified').delete(ofUser(user)),
  ]);
  const me = await tx.objectStore('meta').get('me');
  if (me?.user === user) await tx.objectStore('meta').delete('me');
  await tx.done;
}

/** Every room's composer files `user` had not sent yet. */
export async function loadPendingUploads(user: number): Promise<PendingUploadsRecord[]> {
  return (await offlineDb()).getAll('pendingUploads', ofUser(user));
}

/** Keeps a room's composer files (none: forgets the room's record). */
export async function savePendingUploads(record: PendingUploadsRecord): Promise<void> {
  const db = await offlineDb();
  if (record.files.length === 0) await db.delete('pendingUploads', [record.user, record.room]);
  else await db.put('pendingUploads', record);
}

/** Records who is signed in here, for the service worker. */
export async function setSignedIn(user: number): Promise<void> {
  await (await offlineDb()).put('meta', { key: 'me', user });
}

export async function signedIn(): Promise<number | null> {
  return (await (await offlineDb()).get('meta', 'me'))?.user ?? null;
}

/**
 * Moves the old localStorage cache into IndexedDB, every user's, then removes it: rooms and
 * messages not already stored, outbox items by clientMsgId. Runs on every start; after the first it
 * finds nothing.
 */
export async function migrateLocalStorage(storage: Storage = localStorage): Promise<number> {
  const entries: Array<[string, string | null]> = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key) entries.push([key, storage.getItem(key)]);
  }
  const { users, keys } = fromLocalStorage(entries);
  if (keys.length === 0) return 0;
  const db = await offlineDb();
  let moved = 0;
  for (const [user, legacy] of users) {
    const tx = db.transaction(['rooms', 'messages', 'outbox'], 'readwrite');
    for (const room of legacy.rooms) {
      const { record, messages } = splitRoom(user, room);
      if (!(await tx.objectStore('rooms').get([user, room.room]))) await tx.objectStore('rooms').put(record);
      for (const m of messages) {
        if (!(await tx.objectStore('messages').getKey([user, m.room, m.seq]))) await tx.objectStore('messages').put(m);
        moved++;
      }
    }
    const held = await tx.objectStore('outbox').get(user);
    await tx.objectStore('outbox').put({ user, items: mergeOutbox(held?.items ?? [], legacy.outbox) });
    await tx.done;
  }
  // Only once IndexedDB has it all: a failure above leaves localStorage for the next start.
  for (const key of keys) storage.removeItem(key);
  return moved;
}

/**
 * Drops the oldest pages of the least recently active rooms while the origin uses more than its
 * budget (`navigator.storage.estimate()`); each room keeps its newest page. Where the estimate is
 * missing nothing is dropped.
 */
export async function evictOverBudget(user: number): Promise<number> {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  if (!estimate?.usage || !estimate.quota) return 0;
  const db = await offlineDb();
  const records = await db.getAll('rooms', ofUser(user));
  const keys = await db.getAllKeys('messages', ofUser(user));
  if (keys.length === 0) return 0;
  const seqs = new Map<string, number[]>();
  for (const [, room, seq] of keys) (seqs.get(room) ?? seqs.set(room, []).get(room)!).push(seq);
  const usage = records.map((r) => ({ room: r.room, active: r.active, seqs: seqs.get(r.room) ?? [] }));
  const plan = evictionPlan(usage, estimate.usage, budgetOf(estimate.quota), estimate.usage / keys.length);
  let dropped = 0;
  const tx = db.transaction('messages', 'readwrite');
  for (const [room, below] of plan) {
    dropped += (seqs.get(room) ?? []).filter((s) => s < below).length;
    await tx.store.delete(IDBKeyRange.bound([user, room, -Infinity], [user, room, below], false, true));
  }
  await tx.done;
  return dropped;
}

/** What became of a push on this device. */
export type PushOutcome = { shown: boolean; stored: boolean; user: number | null };

/**
 * Takes a push in: stores its message when it carries one (for the user signed in here), and says
 * whether to show it: not when this device already has that seq or showed a notification for it
 * (markNotified, once shown).
 */
export async function takePush(p: PushPayload): Promise<PushOutcome> {
  const db = await offlineDb();
  const me = (await db.get('meta', 'me'))?.user ?? null;
  if (me === null || (p.recipient !== undefined && p.recipient !== me)) return { shown: true, stored: false, user: null };
  const tx = db.transaction(['rooms', 'messages', 'notified'], 'readwrite');
  const [held, notified] = await Promise.all([tx.objectStore('messages').getKey([me, p.room, p.seq]), tx.objectStore('notified').get([me, p.room])]);
  if (held !== undefined || (notified && notified.seq >= p.seq)) {
    await tx.done;
    return { shown: false, stored: false, user: me };
  }
  const m = pushedMessage(p);
  if (m) {
    const room = await tx.objectStore('rooms').get([me, p.room]);
    await tx.objectStore('rooms').put(roomAfterPush(me, room, p, m));
    await tx.objectStore('messages').put({ user: me, room: p.room, seq: p.seq, message: m });
  }
  await tx.done;
  return { shown: true, stored: m !== null, user: me };
}

/** Records that a notification was shown for `seq` of `room`: the same push again is not shown. */
export async function markNotified(user: number, room: string, seq: number): Promise<void> {
  const db = await offlineDb();
  const tx = db.transaction('notified', 'readwrite');
  const held = await tx.store.get([user, room]);
  if (!held || held.seq < seq) await tx.store.put({ user, room, seq });
  await tx.done;
}

/** Asks the browser to keep this origin's storage under pressure (after sign-in); false when refused or unknown. */
export async function persistStorage(): Promise<boolean> {
  // `persist` is a window's only (the service worker's typings lack it).
  const storage = navigator.storage as (StorageManager & { persist?: () => Promise<boolean> }) | undefined;
  try {
    return (await storage?.persisted?.()) || ((await storage?.persist?.()) ?? false);
  } catch {
    return false;
  }
}
