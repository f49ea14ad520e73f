/**
 * Search on MongoDB, over the history store's `messages` collection (history.mongo.ts).
 *
 * MongoDB's text index cannot serve this search: it matches whole words only (no prefix, so
 * "mess" cannot find "message"), stems and drops stop words per language unless told otherwise,
 * and splits words its own way. So each text message keeps its words, split and normalised by
 * the same rule as the query and as PostgreSQL's index (protocol/search.ts), in a `words` array
 * with a multikey index. Every word but the last must be an element (`$eq`), and the last one
 * the start of an element: an anchored regex (`^` and the escaped word), which MongoDB reads as
 * a range of the index. Filters are built field by field with explicit operators, so nothing a
 * client sent is ever read as an operator; the words hold only letters, digits and marks, and
 * are escaped for the regex anyway. No `$where`, no server-side JavaScript.
 *
 * The history store writes `words` with every text message (messageWords); an edit must set it
 * from the new body and an erasure empty it. Messages stored before this field existed get it
 * when the store opens (once; idempotent, so several nodes may race).
 */
import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import { searchWords } from '../protocol/search.ts';
import { storeWords, type FoundMessage, type SearchRequest, type SearchStore } from './search.port.ts';

/** The fields of a stored message this store reads and writes (history.mongo.ts owns the rest). */
export interface SearchableDoc {
  _id: string;
  room: string;
  seq: number;
  sender: number;
  body: string;
  ts: number;
  kind?: 'event';
  /** The distinct words of `body`, normalised; absent on events (and on messages older than search). */
  words?: string[];
}

export const INDEX_WORDS = 'words';
const BACKFILL_BATCH = 1000;

/** The words a text message is found by: those of its body, each once. */
export function messageWords(body: string): string[] {
  return [...new Set(searchWords(body))];
}

/** `text` with every regex metacharacter escaped, so it matches itself only. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

export class MongoSearchStore implements SearchStore {
  readonly #messages: Collection<SearchableDoc>;

  private constructor(db: Db) {
    this.#messages = db.collection<SearchableDoc>('messages');
  }

  /**
   * On the history store's database (MongoHistoryStore.database, after it opened): creates the
   * words index and gives `words` to the text messages stored without it.
   */
  static async open(db: Db): Promise<MongoSearchStore> {
    const store = new MongoSearchStore(db);
    await store.#messages.createIndex({ words: 1 }, { name: INDEX_WORDS });
    await store.#backfill();
    return store;
  }

  async #backfill(): Promise<void> {
    const missing = this.#messages.find({ words: { $exists: false }, kind: { $ne: 'event' } }, { projection: { _id: 1, body: 1 } }).batchSize(BACKFILL_BATCH);
    let ops: AnyBulkWriteOperation<SearchableDoc>[] = [];
    for await (const doc of missing) {
      // Only where still missing: an edit meanwhile has set the words of its new body.
      ops.push({ updateOne: { filter: { _id: { $eq: doc._id }, words: { $exists: false } }, update: { $set: { words: messageWords(doc.body) } } } });
      if (ops.length === BACKFILL_BATCH) {
        await this.#messages.bulkWrite(ops, { ordered: false });
        ops = [];
      }
    }
    if (ops.length > 0) await this.#messages.bulkWrite(ops, { ordered: false });
  }

  async search(request: SearchRequest): Promise<FoundMessage[]> {
    const { scope, after, limit } = request;
    const words = storeWords(request.words);
    if (limit <= 0 || scope.length === 0 || words.length === 0) return [];
    const last = words[words.length - 1]!;
    const and: Filter<SearchableDoc>[] = [
      { $or: scope.map((w) => ({ room: { $eq: w.room }, seq: w.to === undefined ? { $gte: w.from } : { $gte: w.from, $lte: w.to } })) },
      ...words.slice(0, -1).map((w) => ({ words: { $eq: w } })),
      { words: { $regex: `^${escapeRegex(last)}` } },
      { kind: { $ne: 'event' as const } },
      { body: { $ne: '' } },
    ];
    if (after) {
      and.push({
        $or: [
          { ts: { $lt: after.ts } },
          { ts: { $eq: after.ts }, room: { $lt: after.room } },
          { ts: { $eq: after.ts }, room: { $eq: after.room }, seq: { $lt: after.seq } },
        ],
      });
    }
    const docs = await this.#messages
      .find({ $and: and }, { projection: { _id: 0, room: 1, seq: 1, sender: 1, ts: 1, body: 1 } })
      .sort({ ts: -1, room: -1, seq: -1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({ room: d.room, seq: d.seq, sender: d.sender, ts: d.ts, body: d.body }));
  }
}
