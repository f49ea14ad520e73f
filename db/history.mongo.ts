/**
 * The history store on MongoDB. A batch is one multi-document transaction (counters bumped and
 * messages inserted together, so a failure half way leaves no seq gap), which MongoDB only offers
 * on a replica set or a sharded cluster: `open` refuses a standalone server. A single-node replica
 * set (`mongod --replSet rs0`, then `rs.initiate()`) is enough for development.
 *
 * Filters are built field by field with explicit operators (`{ room: { $eq: room } }`), so no
 * value that came from a client can ever be read as a query operator.
 */
import {
  type AnyBulkWriteOperation,
  BSON,
  type ClientSession,
  type Collection,
  type Db,
  type Filter,
  MongoClient,
  MongoInvalidArgumentError,
  MongoServerError,
  ReadConcern,
  WriteConcern,
} from 'mongodb';
import { appendBatch, keyOf } from './history.batch.ts';
import { HistoryContentError, type AppendOutcome, type HistoryStore, type Message, type NewMessage } from './history.port.ts';

/** A stored message with its id as the document's `_id`. */
type MessageDoc = Omit<Message, 'id'> & { _id: string };

interface CounterDoc {
  _id: string;
  lastSeq: number;
}

/** Acknowledged only once a majority of the replica set has the write in its journal. */
const DURABLE = new WriteConcern('majority', undefined, true);

/** Another writer inserted the same (room, sender, clientMsgId) first; the retry finds it. */
const DUPLICATE_KEY = 11000;
const NAMESPACE_EXISTS = 48;

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

  private constructor(client: MongoClient, db: Db) {
    this.#client = client;
    this.#db = db;
    this.#messages = db.collection<MessageDoc>('messages');
    this.#counters = db.collection<CounterDoc>('counters');
  }

  /**
   * Connects, checks that the deployment supports transactions and creates the collections and
   * indexes. `dbName` defaults to the database named in the URL (MongoDB's `test` without one).
   */
  static async open(url: string, dbName?: string): Promise<MongoHistoryStore> {
    const client = new MongoClient(url, { writeConcern: DURABLE });
    try {
      await client.connect();
      const store = new MongoHistoryStore(client, client.db(dbName));
      await store.#prepare();
      return store;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  async #prepare(): Promise<void> {
    const hello = await this.#db.admin().command({ hello: 1 });
    if (typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid') {
      throw new Error(
        'MongoDB history store: the server is a standalone mongod, but appends need multi-document ' +
          'transactions, which only a replica set or a sharded cluster offers (a single-node replica ' +
          'set is enough: start mongod with --replSet and run rs.initiate())',
      );
    }
    // Created up front: creating a collection implicitly inside a transaction is refused by older servers.
    for (const name of ['messages', 'counters']) await createCollectionIfMissing(this.#db, name);
    await this.#messages.createIndexes([
      { key: { room: 1, seq: 1 }, name: 'room_seq', unique: true },
      { key: { room: 1, sender: 1, clientMsgId: 1 }, name: 'room_sender_client_msg_id', unique: true },
    ]);
  }

  async append(batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
    if (batch.length === 0) return [];
    try {
      return await this.#transaction((session) => this.#appendIn(session, batch));
    } catch (err) {
      // Write conflicts are retried inside withTransaction; a lost race on a unique key is not.
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw classify(err);
      return await this.#transaction((session) => this.#appendIn(session, batch)).catch((again: unknown) => Promise.reject(classify(again)));
    }
  }

  async #transaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
    const session = this.#client.startSession();
    try {
      return await session.withTransaction(fn, {
        readConcern: new ReadConcern('snapshot'),
        writeConcern: DURABLE,
        readPreference: 'primary',
      });
    } finally {
      await session.endSession();
    }
  }

  /** One attempt; withTransaction may call it again, so it derives everything afresh each time. */
  #appendIn(session: ClientSession, batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
    return appendBatch(batch, {
      findExisting: async (b) => (await this.#findExisting(session, b)).map(toMessage),
      reserveSeqs: (perRoom) => this.#bumpCounters(session, perRoom),
      insert: async (stored) => void (await this.#messages.insertMany(stored.map(toDoc), { session, ordered: true })),
    });
  }

  /** The already-stored messages among the batch's keys; each `$or` branch is a unique-index lookup. */
  async #findExisting(session: ClientSession, batch: readonly NewMessage[]): Promise<MessageDoc[]> {
    const unique = new Map<string, Filter<MessageDoc>>();
    for (const m of batch) {
      unique.set(keyOf(m), {
        room: { $eq: m.room },
        sender: { $eq: m.sender },
        clientMsgId: { $eq: m.clientMsgId },
      });
    }
    return this.#messages.find({ $or: [...unique.values()] }, { session }).toArray();
  }

  /** Reserves `count` seqs per room; returns each room's first reserved seq. */
  async #bumpCounters(session: ClientSession, perRoom: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    const rooms = [...perRoom.keys()];
    const ops: AnyBulkWriteOperation<CounterDoc>[] = rooms.map((room) => ({
      updateOne: { filter: { _id: { $eq: room } }, update: { $inc: { lastSeq: perRoom.get(room)! } }, upsert: true },
    }));
    await this.#counters.bulkWrite(ops, { session, ordered: true });
    // bulkWrite does not report the new values; the transaction reads its own writes.
    const counters = await this.#counters.find({ _id: { $in: rooms } }, { session }).toArray();
    return new Map(counters.map((c) => [c._id, c.lastSeq - perRoom.get(c._id)! + 1]));
  }

  async after(room: string, after: number, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const docs = await this.#messages
      .find({ room: { $eq: room }, seq: { $gt: after } })
      .sort({ seq: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toMessage);
  }

  async before(room: string, before: number | undefined, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const filter: Filter<MessageDoc> =
      before === undefined ? { room: { $eq: room } } : { room: { $eq: room }, seq: { $lt: before } };
    const docs = await this.#messages.find(filter).sort({ seq: -1 }).limit(limit).toArray();
    return docs.map(toMessage);
  }

  async lastSeq(room: string): Promise<number> {
    const counter = await this.#counters.findOne({ _id: { $eq: room } });
    return counter?.lastSeq ?? 0;
  }

  async ping(): Promise<void> {
    await this.#db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.#client.close();
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

function toDoc(m: Message): MessageDoc {
  return { _id: m.id, room: m.room, seq: m.seq, sender: m.sender, body: m.body, clientMsgId: m.clientMsgId, ts: m.ts };
}

function toMessage(d: MessageDoc): Message {
  return { id: d._id, room: d.room, seq: d.seq, sender: d.sender, body: d.body, clientMsgId: d.clientMsgId, ts: d.ts };
}
