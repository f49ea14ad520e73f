/**
 * The history store on MongoDB. A batch is one multi-document transaction (counters bumped and
 * messages inserted together, so a failure half way leaves no seq gap), which MongoDB only offers
 * on a replica set or a sharded cluster: `open` refuses a standalone server, and says to run
 * rs.initiate() on a member whose set was never initiated. A single-node replica set
 * (`mongod --replSet rs0`, then `rs.initiate()`) is enough for development.
 *
 * Consistency: writes wait for a journaled majority, and reads (outside the append's snapshot
 * transaction) read majority-committed data, so no read serves a seq that a failover then rolls
 * back and hands out again.
 *
 * Filters are built field by field with explicit operators (`{ room: { $eq: room } }`, `$in` of
 * strings), so no value that came from a client can ever be read as a query operator.
 */
import {
  BSON,
  type ClientSession,
  type Collection,
  type Db,
  type Filter,
  MongoClient,
  MongoInvalidArgumentError,
  MongoServerError,
  MongoServerSelectionError,
} from 'mongodb';
import { isMessageChange } from '../protocol/frames.ts';
import { appendBatch } from './history.batch.ts';
import { replyPreviewOf, type TargetKey, type TargetWrite } from './history.changes.ts';
import { type CounterDoc, type CounterRepair, raiseCounters } from './history.mongo.counters.ts';
import {
  appendConflictOf,
  deploymentProblem,
  FIRST_ATTEMPT,
  INDEX_MESSAGE_KEY,
  INDEX_ROOM_SEQ,
  nextAttempt,
  uninitiated,
  uninitiatedError,
} from './history.mongo.errors.ts';
import { HistoryContentError, type AppendOutcome, type GroupState, type HistoryStore, type Message, type NewMessage } from './history.port.ts';
import { runTransaction } from './mongo.transaction.ts';
import { messageWords } from './search.mongo.ts';
import { appendTransactionOptions, DEFAULT_MONGO_TIMEOUTS, mongoClientOptions, type MongoTimeouts } from './history.mongo.options.ts';

export type { CounterRepair, MongoTimeouts };

/**
 * A stored message with its id as the document's `_id`; a reply keeps only its original's seq (the
 * preview is read from the original as it is now), a change entry the seq of its target (`targetSeq`),
 * a text message its words, for search (search.mongo.ts).
 */
type MessageDoc = Omit<Message, 'id' | 'replyTo'> & { _id: string; replyTo?: number; targetSeq?: number; words?: string[] };

/** Index of the change entries naming a message: a deletion erases its edits' bodies through it. */
const INDEX_TARGET = 'room_targetSeq';

export interface MongoHistoryOptions extends Partial<MongoTimeouts> {
  /** The database; default the one named in the URL (MongoDB's `test` without one). */
  dbName?: string;
  /** Told when an append found a room's counter behind its messages and raised it. Default: nothing. */
  onCounterRepair?: (repair: CounterRepair) => void;
}

const NAMESPACE_EXISTS = 48;

/** Reads of history leave out the words search keeps (a copy of the body's). */
const NO_WORDS = { words: 0 } as const;

/**
 * Server codes of a write refused for what it holds: InvalidBSON 22, DocumentValidationFailure 121,
 * TransactionTooLarge 257, NonConformantBSON 378, BSONObjectTooLarge 10334, KeyTooLong 17280
 * (servers before 4.2). A part of the batch may pass where the whole did not.
 */
const CONTENT_CODES = new Set([22, 121, 257, 378, 10334, 17280]);

export class MongoHistoryStore implements HistoryStore {
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #messages: Collection<MessageDoc>;
  readonly #counters: Collection<CounterDoc>;
  readonly #timeouts: MongoTimeouts;
  readonly #onCounterRepair: (repair: CounterRepair) => void;

  private constructor(client: MongoClient, options: MongoHistoryOptions, timeouts: MongoTimeouts) {
    this.#client = client;
    this.#db = client.db(options.dbName);
    this.#messages = this.#db.collection<MessageDoc>('messages');
    this.#counters = this.#db.collection<CounterDoc>('counters');
    this.#timeouts = timeouts;
    this.#onCounterRepair = options.onCounterRepair ?? (() => {});
  }

  /** Connects, checks that the deployment supports transactions and creates the collections and indexes. */
  static async open(url: string, options: MongoHistoryOptions = {}): Promise<MongoHistoryStore> {
    const timeouts: MongoTimeouts = { ...DEFAULT_MONGO_TIMEOUTS, ...definedOnly(options) };
    const client = new MongoClient(url, mongoClientOptions(timeouts));
    try {
      await client.connect();
      const store = new MongoHistoryStore(client, options, timeouts);
      await store.#prepare();
      return store;
    } catch (err) {
      await client.close();
      throw uninitiatedError(err) ?? (await askIfUninitiated(url, err, timeouts.serverSelectionTimeoutMs)) ?? err;
    }
  }

  async #prepare(): Promise<void> {
    const admin = this.#db.admin();
    const hello = await admin.command({ hello: 1 });
    if (typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid') {
      // Started with --replSet but never initiated answers NotYetInitialized; a standalone, NoReplicationEnabled.
      const status = await admin.command({ replSetGetStatus: 1 }).then(
        () => undefined,
        (err: unknown) => (err instanceof MongoServerError && typeof err.code === 'number' ? err.code : undefined),
      );
      const problem = deploymentProblem(hello, status);
      if (problem) throw new Error(problem);
    }
    // Created up front: creating a collection implicitly inside a transaction is refused by older servers.
    for (const name of ['messages', 'counters']) await createCollectionIfMissing(this.#db, name);
    await this.#messages.createIndexes([
      { key: { room: 1, seq: 1 }, name: INDEX_ROOM_SEQ, unique: true },
      { key: { room: 1, sender: 1, clientMsgId: 1 }, name: INDEX_MESSAGE_KEY, unique: true },
      { key: { room: 1, targetSeq: 1 }, name: INDEX_TARGET, partialFilterExpression: { targetSeq: { $exists: true } } },
    ]);
  }

  /**
   * Round trips per batch, each a request and its answer (PostgreSQL's append is one):
   * - before: 5 whatever the batch (look up every key, bump the counters, read them back,
   *   insert, commit);
   * - now, when every message is new (the usual case): 3 for a batch of one room (bump and read its
   *   counter in one findOneAndUpdate, insert, commit), 4 for several rooms (bump the counters,
   *   read them back, insert, commit). The keys are not looked up first: the unique index on
   *   (room, sender, clientMsgId) refuses a repeat, and only then does a second attempt look the
   *   keys up (one query, one `$in` per sender and room) and answer it as a duplicate or a conflict;
   *   that costs the first attempt's round trips again, once, for a batch holding a retry.
   */
  async append(batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
    if (batch.length === 0) return [];
    let attempt = FIRST_ATTEMPT;
    for (;;) {
      try {
        const lookup = attempt.lookup;
        return await this.#transaction((session) => this.#appendIn(session, batch, lookup));
      } catch (err) {
        const next = nextAttempt(appendConflictOf(err), attempt);
        if (!next) throw classify(err);
        if (next.repair) await this.#repairCounters(batch);
        attempt = next.attempt;
      }
    }
  }

  async #transaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
    const session = this.#client.startSession();
    try {
      return await runTransaction(session, () => fn(session), {
        transaction: appendTransactionOptions(this.#timeouts),
        budgetMs: this.#timeouts.appendTimeoutMs,
      });
    } finally {
      await session.endSession();
    }
  }

  /** One attempt: derives everything afresh, so a retry of the transaction starts clean. */
  #appendIn(session: ClientSession, batch: readonly NewMessage[], lookup: boolean): Promise<AppendOutcome[]> {
    return appendBatch(batch, {
      findExisting: async (b) => (lookup ? await this.#withReplies(await this.#findExisting(session, b), session) : []),
      // A group's members live in its counter document: this commit bumps that document, so a
      // commit that changed them since this read makes this one fail with a write conflict and
      // run again, on the new members.
      loadGroups: async (rooms) => {
        const docs = await this.#counters.find({ _id: { $in: [...rooms] } }, { session }).toArray();
        const states = new Map<string, GroupState | null>(rooms.map((r) => [r, null]));
        for (const d of docs) if (d.version) states.set(d._id, { version: d.version, members: d.members ?? [] });
        return states;
      },
      reserveSeqs: (perRoom) => this.#bumpCounters(session, perRoom),
      insert: async (stored) => void (await this.#messages.insertMany(stored.map(toDoc), { session, ordered: true })),
      saveGroups: async (writes) => {
        for (const { room, state } of writes) {
          await this.#counters.updateOne({ _id: { $eq: room } }, { $set: { version: state.version, members: state.members } }, { session });
        }
      },
      // A change writes its target in this transaction, so a commit that changed the same message
      // since this read makes one of them fail with a write conflict and run again, on the new state.
      loadTargets: async (keys) => (await this.#messages.find(targetsFilter(keys), { session }).toArray()).map((d) => toMessage(d)),
      saveTargets: (writes) => this.#saveTargets(session, writes),
    });
  }

  /** The database this store keeps its collections in, for the search store over the same messages (search.mongo.ts). */
  get database(): Db {
    return this.#db;
  }

  /** The changed messages' new state; a deletion also erases the bodies of the edits naming it. */
  async #saveTargets(session: ClientSession, writes: readonly TargetWrite[]): Promise<void> {
    for (const { target: m, erase } of writes) {
      // The words search finds it by follow the body: an edit's, none once deleted.
      const set: Partial<MessageDoc> = { body: m.body, rev: m.rev!, words: messageWords(m.body) };
      const unset: Record<string, ''> = {};
      for (const field of ['editedAt', 'deleted', 'reactions', 'forwarded', 'attachments'] as const) {
        if (m[field] === undefined) unset[field] = '';
        else Object.assign(set, { [field]: m[field] });
      }
      await this.#messages.updateOne({ room: { $eq: m.room }, seq: { $eq: m.seq } }, { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) }, { session });
      if (erase) {
        await this.#messages.updateMany(
          { room: { $eq: m.room }, targetSeq: { $eq: m.seq }, 'event.type': { $eq: 'message.edited' } },
          { $set: { 'event.body': '' } },
          { session },
        );
      }
    }
  }

  /** Documents as messages, each reply with the preview of its original as it is now (one query per room). */
  async #withReplies(docs: readonly MessageDoc[], session?: ClientSession): Promise<Message[]> {
    const keys = docs.flatMap((d) => (d.replyTo !== undefined ? [{ room: d.room, seq: d.replyTo }] : []));
    const originals = new Map<string, MessageDoc>();
    if (keys.length > 0) {
      const found = await this.#messages.find(targetsFilter(keys), { ...(session ? { session } : {}), projection: { room: 1, seq: 1, sender: 1, body: 1, deleted: 1 } }).toArray();
      for (const o of found) originals.set(`${o.room}\u0000${o.seq}`, o);
    }
    return docs.map((d) => toMessage(d, d.replyTo !== undefined ? (originals.get(`${d.room}\u0000${d.replyTo}`) ?? null) : undefined));
  }

  async groupState(room: string): Promise<GroupState | null> {
    const counter = await this.#counters.findOne({ _id: { $eq: room } });
    if (!counter?.version) return null;
    return { version: counter.version, members: [...(counter.members ?? [])].sort((a, b) => a.user - b.user) };
  }

  /** The already-stored messages among the batch's keys: one `$in` of clientMsgIds per (room, sender). */
  async #findExisting(session: ClientSession, batch: readonly NewMessage[]): Promise<MessageDoc[]> {
    const groups = new Map<string, { room: string; sender: number; ids: Set<string> }>();
    for (const m of batch) {
      const key = `${m.room}\u0000${m.sender}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { room: m.room, sender: m.sender, ids: new Set() }));
      group.ids.add(m.clientMsgId);
    }
    const branches: Filter<MessageDoc>[] = [...groups.values()].map((g) => ({
      room: { $eq: g.room },
      sender: { $eq: g.sender },
      clientMsgId: { $in: [...g.ids] },
    }));
    const filter = branches.length === 1 ? branches[0]! : { $or: branches };
    return this.#messages.find(filter, { session }).toArray();
  }

  /** Reserves `count` seqs per room; returns each room's first reserved seq. */
  async #bumpCounters(session: ClientSession, perRoom: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    const rooms = [...perRoom.keys()];
    if (rooms.length === 1) {
      const room = rooms[0]!;
      const count = perRoom.get(room)!;
      const counter = await this.#counters.findOneAndUpdate(
        { _id: { $eq: room } },
        { $inc: { lastSeq: count } },
        { session, upsert: true, returnDocument: 'after' },
      );
      if (!counter) throw new Error(`MongoDB history store: the counter of room ${room} was not returned by its upsert`);
      return new Map([[room, counter.lastSeq - count + 1]]);
    }
    await this.#counters.bulkWrite(
      rooms.map((room) => ({
        updateOne: { filter: { _id: { $eq: room } }, update: { $inc: { lastSeq: perRoom.get(room)! } }, upsert: true },
      })),
      { session, ordered: true },
    );
    // bulkWrite does not report the new values; the transaction reads its own writes.
    const counters = await this.#counters.find({ _id: { $in: rooms } }, { session }).toArray();
    return new Map(counters.map((c) => [c._id, c.lastSeq - perRoom.get(c._id)! + 1]));
  }

  /** Raises the batch's room counters to their messages (a restore left them behind), then says so. */
  async #repairCounters(batch: readonly NewMessage[]): Promise<void> {
    const rooms = [...new Set(batch.map((m) => m.room))];
    for (const repair of await raiseCounters(this.#messages, this.#counters, rooms)) this.#onCounterRepair(repair);
  }

  async after(room: string, after: number, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const docs = await this.#messages
      .find({ room: { $eq: room }, seq: { $gt: after } }, { projection: NO_WORDS })
      .sort({ seq: 1 })
      .limit(limit)
      .toArray();
    return this.#withReplies(docs);
  }

  async sentBy(room: string, sender: number, after: number, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    // The room's (room, seq) index in order, the sender's text messages kept: events carry `kind`.
    const docs = await this.#messages
      .find({ room: { $eq: room }, seq: { $gt: after }, sender: { $eq: sender }, kind: { $exists: false } }, { projection: NO_WORDS })
      .sort({ seq: 1 })
      .hint(INDEX_ROOM_SEQ)
      .limit(limit)
      .toArray();
    return this.#withReplies(docs);
  }

  async at(room: string, seqs: readonly number[]): Promise<Message[]> {
    if (seqs.length === 0) return [];
    const docs = await this.#messages.find({ room: { $eq: room }, seq: { $in: [...seqs] } }, { projection: NO_WORDS }).sort({ seq: 1 }).toArray();
    return this.#withReplies(docs);
  }

  async before(room: string, before: number | undefined, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const filter: Filter<MessageDoc> =
      before === undefined ? { room: { $eq: room } } : { room: { $eq: room }, seq: { $lt: before } };
    const docs = await this.#messages.find(filter, { projection: NO_WORDS }).sort({ seq: -1 }).limit(limit).toArray();
    return this.#withReplies(docs);
  }

  async lastSeq(room: string): Promise<number> {
    const counter = await this.#counters.findOne({ _id: { $eq: room } });
    return counter?.lastSeq ?? 0;
  }

  /** Answers within pingTimeoutMs: during an election no primary is selectable, and readiness must say so at once. */
  async ping(): Promise<void> {
    await this.#db.command({ ping: 1 }, { signal: AbortSignal.timeout(this.#timeouts.pingTimeoutMs) });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/**
 * With both directConnection and replicaSet in the URL (as in the CI workflow), the driver sets a
 * member without a replica set config aside as a set-name mismatch and only reports that no server
 * was selectable; asked directly, without the set's name, the member says whether it is one.
 */
async function askIfUninitiated(url: string, err: unknown, timeoutMs: number): Promise<Error | undefined> {
  if (!(err instanceof MongoServerSelectionError) || err.reason?.type !== 'Single') return undefined;
  const withoutSet = url.replace(/([?&])replicaSet=[^&]*&?/, '$1').replace(/[?&]$/, '');
  const direct = new MongoClient(withoutSet, { directConnection: true, serverSelectionTimeoutMS: timeoutMs });
  try {
    const hello = await direct.db('admin').command({ hello: 1 });
    return hello.isreplicaset === true ? uninitiated(err) : undefined;
  } catch {
    return undefined; // the original error says more
  } finally {
    await direct.close();
  }
}

async function createCollectionIfMissing(db: Db, name: string): Promise<void> {
  try {
    await db.createCollection(name);
  } catch (err) {
    // Another router node created it first.
    if (!(err instanceof MongoServerError && err.code === NAMESPACE_EXISTS)) throw err;
  }
}

/** The options that were given, so an explicit `undefined` does not replace a default. */
function definedOnly(options: Partial<MongoTimeouts>): Partial<MongoTimeouts> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => typeof v === 'number'));
}

/**
 * A refusal of the batch's content as a HistoryContentError; any other error as it is. Besides the
 * server's codes, the driver refuses a document over the size limit itself, before sending it
 * (an argument error, until NODE-3483 makes it a BSON error), and BSON refuses what it cannot encode.
 */
function classify(err: unknown): unknown {
  const content =
    (err instanceof MongoServerError && typeof err.code === 'number' && CONTENT_CODES.has(err.code)) ||
    (err instanceof MongoInvalidArgumentError && /larger than the maximum size|exceeds the max bson object size/i.test(err.message)) ||
    BSON.BSONError.isBSONError(err);
  return content ? new HistoryContentError('MongoDB refused the batch\'s content', { cause: err }) : err;
}

/** The messages at these keys: one `$in` of seqs per room. */
function targetsFilter(keys: readonly TargetKey[]): Filter<MessageDoc> {
  const perRoom = new Map<string, number[]>();
  for (const k of keys) perRoom.set(k.room, [...(perRoom.get(k.room) ?? []), k.seq]);
  const branches: Filter<MessageDoc>[] = [...perRoom].map(([room, seqs]) => ({ room: { $eq: room }, seq: { $in: seqs } }));
  return branches.length === 1 ? branches[0]! : { $or: branches };
}

function toDoc(m: Message): MessageDoc {
  const doc: MessageDoc = { _id: m.id, room: m.room, seq: m.seq, sender: m.sender, body: m.body, clientMsgId: m.clientMsgId, ts: m.ts };
  if (m.event) {
    doc.kind = 'event';
    doc.event = m.event;
    if (isMessageChange(m.event)) doc.targetSeq = m.event.seq;
  } else {
    doc.words = messageWords(m.body);
  }
  if (m.replyTo) doc.replyTo = m.replyTo.seq;
  if (m.forwarded) doc.forwarded = m.forwarded;
  if (m.attachments) doc.attachments = m.attachments;
  return doc;
}

/**
 * A document as a message in its current state; `original` is a reply's original (null: not found,
 * shown as deleted), undefined for anything else.
 */
function toMessage(d: MessageDoc, original?: Pick<MessageDoc, 'seq' | 'sender' | 'body' | 'deleted'> | null): Message {
  const m: Message = { id: d._id, room: d.room, seq: d.seq, sender: d.sender, body: d.body, clientMsgId: d.clientMsgId, ts: d.ts };
  if (d.event) {
    m.kind = 'event';
    m.event = d.event;
  }
  if (d.replyTo !== undefined) {
    m.replyTo = original ? replyPreviewOf(original) : { seq: d.replyTo, sender: 0, preview: '', deleted: true };
  }
  for (const field of ['forwarded', 'attachments', 'rev', 'editedAt', 'deleted', 'reactions'] as const) {
    if (d[field] !== undefined && d[field] !== null) Object.assign(m, { [field]: d[field] });
  }
  return m;
}
