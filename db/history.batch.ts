/**
 * The storage-neutral half of `HistoryStore.append`, shared by every store: which messages of a
 * batch are new, which repeat an earlier (room, sender, clientMsgId) — stored before or earlier in
 * the same batch — and which seq each new one gets. A store supplies the three I/O steps and runs
 * this inside its own transaction.
 */
import type { AppendOutcome, Message, NewMessage } from './history.port.ts';
import { uuid7 } from './uuid7.ts';

export interface AppendSteps {
  /** The already-stored messages among the batch's keys. */
  findExisting(batch: readonly NewMessage[]): Promise<Message[]>;
  /** Reserves `count` seqs per room (rooms in sorted order); returns each room's first reserved seq. */
  reserveSeqs(perRoom: ReadonlyMap<string, number>): Promise<Map<string, number>>;
  /** Inserts the new messages. */
  insert(stored: readonly Message[]): Promise<void>;
}

/** The identity of a message for idempotency: (room, sender, clientMsgId). */
export const keyOf = (m: { room: string; sender: number; clientMsgId: string }): string =>
  `${m.room}\u0000${m.sender}\u0000${m.clientMsgId}`;

/** Runs one attempt at a batch through a store's steps; one outcome per input, in input order. */
export async function appendBatch(batch: readonly NewMessage[], steps: AppendSteps): Promise<AppendOutcome[]> {
  const byKey = new Map<string, Message>();
  for (const message of await steps.findExisting(batch)) byKey.set(keyOf(message), message);

  // The first unseen occurrence of a key is new; any later one is judged against it below.
  const fresh = new Set<number>();
  const perRoom = new Map<string, number>();
  const seen = new Set<string>();
  batch.forEach((m, i) => {
    const key = keyOf(m);
    if (byKey.has(key) || seen.has(key)) return;
    seen.add(key);
    fresh.add(i);
    perRoom.set(m.room, (perRoom.get(m.room) ?? 0) + 1);
  });

  if (fresh.size > 0) {
    const sortedRooms = new Map([...perRoom].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const next = await steps.reserveSeqs(sortedRooms);
    const ts = Date.now();
    const stored = [...fresh].map((i): Message => {
      const m = batch[i]!;
      const seq = next.get(m.room)!;
      next.set(m.room, seq + 1);
      return { id: uuid7(), room: m.room, seq, sender: m.sender, body: m.body, clientMsgId: m.clientMsgId, ts };
    });
    await steps.insert(stored);
    for (const message of stored) byKey.set(keyOf(message), message);
  }

  return judge(batch, byKey, fresh);
}

/**
 * The outcomes of a batch whose new messages were assigned and stored in one step (a store that
 * does the whole append in one statement): `stored` holds the new ones, `existing` what was there.
 */
export function outcomesOf(batch: readonly NewMessage[], stored: readonly Message[], existing: readonly Message[]): AppendOutcome[] {
  const byKey = new Map<string, Message>();
  for (const message of existing) byKey.set(keyOf(message), message);
  const storedKeys = new Set<string>();
  for (const message of stored) {
    byKey.set(keyOf(message), message);
    storedKeys.add(keyOf(message));
  }
  // The first occurrence of a stored key is the one stored; later ones repeat it.
  const fresh = new Set<number>();
  batch.forEach((m, i) => {
    const key = keyOf(m);
    if (storedKeys.delete(key)) fresh.add(i);
  });
  return judge(batch, byKey, fresh);
}

function judge(batch: readonly NewMessage[], byKey: ReadonlyMap<string, Message>, fresh: ReadonlySet<number>): AppendOutcome[] {
  return batch.map((m, i): AppendOutcome => {
    const message = byKey.get(keyOf(m))!;
    if (fresh.has(i)) return { kind: 'stored', message };
    return { kind: message.body === m.body ? 'duplicate' : 'conflict', message };
  });
}
