/**
 * Room counters raised to their messages. A room's counter in `counters` must be at least the
 * highest seq in `messages`, or every append to the room collides with a stored (room, seq) for
 * good. A restore can break that: a live `mongodump --db` copies `counters` and `messages` at
 * different moments. The store calls this for the rooms of an append that collided; after a
 * restore, `ops/history-counters.ts` calls it for every room.
 *
 * Safe while routers write: counters only go up (`$max`), and a room's highest seq only grows.
 */
import type { AnyBulkWriteOperation, Collection } from 'mongodb';

/** A counter that was behind its room's messages, and what it was raised to. */
export interface CounterRepair {
  room: string;
  /** The counter before (0 when the room had none). */
  counter: number;
  /** The room's highest stored seq, the counter's new value. */
  maxSeq: number;
}

export interface CounterDoc {
  _id: string;
  lastSeq: number;
  /** Groups only: the seq of the last entry that changed the members, and the current members. */
  version?: number;
  members?: Array<{ user: number; role: 'owner' | 'admin' | 'member'; joinedSeq: number }>;
}

/** The messages' fields this reads. */
interface SeqDoc {
  room: string;
  seq: number;
}

/** Rooms per round of reads and writes when going through every room. */
const CHUNK = 1000;

/** The counters behind their room's highest seq (pure: the decision, apart from the I/O). */
export function countersBehind(maxSeqs: ReadonlyMap<string, number>, counters: ReadonlyMap<string, number>): CounterRepair[] {
  const behind: CounterRepair[] = [];
  for (const [room, maxSeq] of maxSeqs) {
    const counter = counters.get(room) ?? 0;
    if (counter < maxSeq) behind.push({ room, counter, maxSeq });
  }
  return behind;
}

/**
 * Raises every counter behind its messages, for `rooms` or (without) for every room with messages;
 * returns what it raised. Reads and writes use the collections' own concerns (majority, in the store).
 */
export async function raiseCounters<M extends SeqDoc>(
  messages: Collection<M>,
  counters: Collection<CounterDoc>,
  rooms?: readonly string[],
): Promise<CounterRepair[]> {
  const match = rooms ? [{ $match: { room: { $in: [...rooms] } } }] : [];
  // Walking the (room, seq) index backwards, the first entry of each room is its highest seq.
  const maxima = messages.aggregate<{ _id: string; maxSeq: number }>([
    ...match,
    { $sort: { room: -1, seq: -1 } },
    { $group: { _id: '$room', maxSeq: { $first: '$seq' } } },
  ]);
  const repairs: CounterRepair[] = [];
  let chunk = new Map<string, number>();
  const flush = async () => {
    if (chunk.size === 0) return;
    const current = await counters.find({ _id: { $in: [...chunk.keys()] } }).toArray();
    const behind = countersBehind(chunk, new Map(current.map((c) => [c._id, c.lastSeq])));
    if (behind.length > 0) {
      const ops: AnyBulkWriteOperation<CounterDoc>[] = behind.map((r) => ({
        updateOne: { filter: { _id: { $eq: r.room } }, update: { $max: { lastSeq: r.maxSeq } }, upsert: true },
      }));
      await counters.bulkWrite(ops, { ordered: false });
      repairs.push(...behind);
    }
    chunk = new Map();
  };
  for await (const { _id, maxSeq } of maxima) {
    chunk.set(_id, maxSeq);
    if (chunk.size >= CHUNK) await flush();
  }
  await flush();
  return repairs;
}
