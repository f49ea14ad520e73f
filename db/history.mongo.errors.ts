/**
 * What the MongoDB history store makes of the server's answers: which unique index a duplicate key
 * hit (an idempotent repeat, a counter left behind its messages, or a race on a new room's
 * counter), what to try next after each, and why a deployment cannot take appends. Pure, so the
 * decisions are tested without a server; the store (history.mongo.ts) does the I/O.
 */
import { MongoError, MongoServerError } from 'mongodb';

/** The unique indexes of the `messages` collection (history.mongo.ts creates them). */
export const INDEX_ROOM_SEQ = 'room_seq';
export const INDEX_MESSAGE_KEY = 'room_sender_client_msg_id';

const DUPLICATE_KEY = 11000;
/** replSetGetStatus on a member started with --replSet whose set was never initiated. */
const NOT_YET_INITIALIZED = 94;

/**
 * Why an append's transaction hit a unique index:
 * - `message-exists`: a message of the batch was stored before (room, sender, clientMsgId): a
 *   repeat, answered as a duplicate or a conflict once the append looks the keys up.
 * - `counter-behind`: a new message's (room, seq) is taken: the room's counter is behind its
 *   messages (a restore put back `counters` older than `messages`); retrying cannot help until the
 *   counter is raised.
 * - `counter-race`: two appends created a new room's counter at once; the retry finds it.
 */
export type AppendConflict = 'message-exists' | 'counter-behind' | 'counter-race';

/** Where a duplicate key error came from, read from the server's message (`collection: db.c index: name dup key: …`). */
export function duplicateKeyOf(err: unknown): { collection: string; index: string } | undefined {
  if (!(err instanceof MongoServerError)) return undefined;
  // An ordered insertMany reports its first failed document as a write error; the top-level code is that one's.
  const writeErrors: unknown = err.writeErrors;
  const first = Array.isArray(writeErrors) ? (writeErrors[0] as { code?: unknown; errmsg?: unknown } | undefined) : undefined;
  const code = first?.code ?? err.code;
  if (code !== DUPLICATE_KEY) return undefined;
  const text = String(first?.errmsg ?? err.errmsg ?? err.message);
  const where = /collection: \S+?\.(\S+) index: (\S+)/.exec(text);
  if (where) return { collection: where[1]!, index: where[2]! };
  // Without the server's message, the key pattern (single-document commands carry it) says which index.
  const pattern = err.keyPattern as Record<string, unknown> | undefined;
  const fields = pattern ? Object.keys(pattern).join(',') : '';
  if (fields === 'room,seq') return { collection: 'messages', index: INDEX_ROOM_SEQ };
  if (fields === 'room,sender,clientMsgId') return { collection: 'messages', index: INDEX_MESSAGE_KEY };
  return undefined;
}

/** The kind of an append's unique-index failure, or undefined for any other error. */
export function appendConflictOf(err: unknown): AppendConflict | undefined {
  const dup = duplicateKeyOf(err);
  if (!dup) return undefined;
  if (dup.collection === 'messages' && dup.index === INDEX_MESSAGE_KEY) return 'message-exists';
  if (dup.collection === 'messages' && dup.index === INDEX_ROOM_SEQ) return 'counter-behind';
  if (dup.collection === 'counters' && dup.index === '_id_') return 'counter-race';
  // A message id taken (a uuid collision) or an index this store does not know: not ours to mend.
  return undefined;
}

/** How the next attempt of an append runs. */
export interface AppendAttempt {
  /** Look the batch's keys up before inserting (the first attempt assumes every message is new). */
  lookup: boolean;
  /** The room counters were raised to their messages once already. */
  repaired: boolean;
  /** The one retry for a lost race was spent. */
  raced: boolean;
}

export const FIRST_ATTEMPT: Readonly<AppendAttempt> = Object.freeze({ lookup: false, repaired: false, raced: false });

/**
 * After a failed attempt: the next attempt and whether the counters need raising first, or
 * undefined when the error is the answer (it then propagates unchanged, code and labels intact).
 * Each remedy is tried once, so an append makes at most four attempts. A repeated
 * (room, sender, clientMsgId) only ever leads to a lookup (idempotency), never to a counter repair.
 */
export function nextAttempt(conflict: AppendConflict | undefined, last: AppendAttempt): { attempt: AppendAttempt; repair: boolean } | undefined {
  switch (conflict) {
    case 'message-exists':
      if (!last.lookup) return { attempt: { ...last, lookup: true }, repair: false };
      // Stored by another writer after this attempt's snapshot: the next snapshot sees it.
      if (!last.raced) return { attempt: { ...last, raced: true }, repair: false };
      return undefined;
    case 'counter-behind':
      if (!last.repaired) return { attempt: { ...last, repaired: true }, repair: true };
      return undefined;
    case 'counter-race':
      if (!last.raced) return { attempt: { ...last, raced: true }, repair: false };
      return undefined;
    case undefined:
      return undefined;
  }
}

/** The message for a deployment that cannot run the store's transactions, or undefined when it can. */
export function deploymentProblem(hello: Record<string, unknown>, replSetStatusCode?: number): string | undefined {
  if (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') return undefined;
  if (hello.isreplicaset === true || replSetStatusCode === NOT_YET_INITIALIZED) return UNINITIATED;
  return (
    'MongoDB history store: the server is a standalone mongod, but appends need multi-document ' +
    'transactions, which only a replica set or a sharded cluster offers (a single-node replica ' +
    'set is enough: start mongod with --replSet and run rs.initiate())'
  );
}

const UNINITIATED =
  'MongoDB history store: mongod was started as a replica set member (--replSet) but its replica ' +
  'set was never initiated, so it has no primary to write to: run rs.initiate() in mongosh on it ' +
  '(once, for a new set)';

/**
 * The error to report when connecting failed because the replica set was never initiated (the
 * member answers, but as a "ghost" without a set, or with NotYetInitialized), or undefined.
 */
export function uninitiatedError(err: unknown): Error | undefined {
  if (!(err instanceof MongoError)) return undefined;
  if (err.code === NOT_YET_INITIALIZED) return uninitiated(err);
  const servers = (err as { reason?: { servers?: Map<string, { type?: string; error?: { code?: unknown } | null }> } }).reason?.servers;
  for (const server of servers?.values() ?? []) {
    if (server.type === 'RSGhost' || server.error?.code === NOT_YET_INITIALIZED) return uninitiated(err);
  }
  return undefined;
}

/** The error saying to run rs.initiate(), with what the driver reported as its cause. */
export function uninitiated(cause: unknown): Error {
  return new Error(UNINITIATED, { cause });
}
