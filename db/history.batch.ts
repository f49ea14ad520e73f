/**
 * The storage-neutral half of `HistoryStore.append`, shared by every store: which messages of a
 * batch are new, which repeat an earlier (room, sender, clientMsgId) — stored before or earlier in
 * the same batch — and which seq each new one gets. A store supplies the three I/O steps and runs
 * this inside its own transaction.
 */
import { isMessageChange, roomKindOf } from '../protocol/frames.ts';
import { judgeChanges, replyPreviewOf, settleChanges, targetKey, targetsOf, type MemberAt, type TargetKey, type TargetWrite } from './history.changes.ts';
import type { AppendOutcome, GroupState, Message, NewMessage } from './history.port.ts';
import { uuid7 } from './uuid7.ts';

export interface AppendSteps {
  /** The already-stored messages among the batch's keys. */
  findExisting(batch: readonly NewMessage[]): Promise<Message[]>;
  /**
   * Groups only (needed when a batch holds an entry of a `g-…` room): the groups' state, read so
   * that no other commit changes it before this one ends (a row lock, or a document this commit
   * writes); null for a group that does not exist. Rooms come sorted.
   */
  loadGroups?(rooms: readonly string[]): Promise<Map<string, GroupState | null>>;
  /** Reserves `count` seqs per room (rooms in sorted order); returns each room's first reserved seq. */
  reserveSeqs(perRoom: ReadonlyMap<string, number>): Promise<Map<string, number>>;
  /** Inserts the new messages. */
  insert(stored: readonly Message[]): Promise<void>;
  /** Groups only: writes the groups whose members changed, after `reserveSeqs`. */
  saveGroups?(writes: readonly GroupWrite[]): Promise<void>;
  /**
   * Needed when a batch holds a message change or a reply: the entries at these keys (sorted), in
   * their current state, read so that no other commit changes them before this one ends (a row
   * lock, or documents this commit writes).
   */
  loadTargets?(keys: readonly TargetKey[]): Promise<Message[]>;
  /** Writes the changed messages' new state (and erases a deleted one's edits), after `insert`. */
  saveTargets?(writes: readonly TargetWrite[]): Promise<void>;
}

/** A group's state after a commit, and the users whose membership it touched (set or removed). */
export interface GroupWrite {
  room: string;
  state: GroupState;
  touched: number[];
}

/** A group as a batch changes it, entry by entry. */
interface WorkingGroup {
  exists: boolean;
  version: number;
  members: Map<number, { role: GroupState['members'][number]['role']; joinedSeq: number }>;
  touched: Set<number>;
}

/** The membership decisions of a batch's group entries, before and after seqs are known. */
interface GroupVerdicts {
  groups: Map<string, WorkingGroup>;
  refused: Map<number, AppendOutcome>;
  /** Accepted group entries, in input order, with the users each one made members. */
  accepted: Array<{ index: number; joined: number[] }>;
  /** Each group's membership version before the batch. */
  loaded: Map<string, number>;
  /** The sender of each accepted message change, as a member at that point of the batch. */
  memberAt: Map<number, MemberAt>;
}

/**
 * Decides a batch's group entries in input order against the groups' state: a message needs its
 * sender to be a member at that point (earlier entries of the batch included); the entries of one
 * request need the version it was decided on, checked at its first entry. Applies each accepted
 * change to the working state, with the seqs still unknown (`joinedSeq` -1 for now).
 */
async function judgeGroups(batch: readonly NewMessage[], fresh: Set<number>, steps: AppendSteps): Promise<GroupVerdicts | undefined> {
  const indexes = [...fresh].filter((i) => roomKindOf(batch[i]!.room) === 'group');
  if (indexes.length === 0) return undefined;
  if (!steps.loadGroups || !steps.saveGroups) throw new Error('this history store cannot append to groups');
  const rooms = [...new Set(indexes.map((i) => batch[i]!.room))].sort();
  const states = await steps.loadGroups(rooms);
  const groups = new Map<string, WorkingGroup>();
  for (const room of rooms) {
    const state = states.get(room) ?? null;
    groups.set(room, {
      exists: state !== null,
      version: state?.version ?? 0,
      members: new Map((state?.members ?? []).map((m) => [m.user, { role: m.role, joinedSeq: m.joinedSeq }])),
      touched: new Set(),
    });
  }
  const loaded = new Map([...groups].map(([room, g]) => [room, g.version]));
  const refused = new Map<number, AppendOutcome>();
  const accepted: GroupVerdicts['accepted'] = [];
  const memberAt = new Map<number, MemberAt>();
  const decided = new Map<object, boolean>();
  for (const i of indexes) {
    const m = batch[i]!;
    const g = groups.get(m.room)!;
    let ok: boolean;
    if (m.op) {
      ok = decided.get(m.op) ?? g.version === m.op.expect;
      decided.set(m.op, ok);
    } else {
      ok = g.exists && g.members.has(m.sender);
    }
    if (!ok) {
      refused.set(i, { kind: 'refused', reason: m.op ? 'stale' : 'not_member' });
      fresh.delete(i);
      continue;
    }
    if (isMessageChange(m.event)) {
      const member = g.members.get(m.sender)!;
      memberAt.set(i, { role: member.role, joinedSeq: member.joinedSeq === -1 ? Infinity : member.joinedSeq });
    }
    const joined: number[] = [];
    if (m.change) {
      g.exists = true;
      g.version = -1;
      for (const user of m.change.remove ?? []) {
        g.members.delete(user);
        g.touched.add(user);
      }
      for (const { user, role } of m.change.set ?? []) {
        const current = g.members.get(user);
        if (!current) joined.push(user);
        g.members.set(user, { role, joinedSeq: current?.joinedSeq ?? -1 });
        g.touched.add(user);
      }
    }
    accepted.push({ index: i, joined });
  }
  return { groups, refused, accepted, loaded, memberAt };
}

/** With the seqs known: each accepted group entry's version, new members' joinedSeq, and what to write. */
function settleGroups(batch: readonly NewMessage[], verdicts: GroupVerdicts, seqOf: (i: number) => number): { versions: Map<number, number>; writes: GroupWrite[] } {
  const versions = new Map<number, number>();
  const running = new Map(verdicts.loaded);
  for (const { index, joined } of verdicts.accepted) {
    const m = batch[index]!;
    const g = verdicts.groups.get(m.room)!;
    if (m.change) {
      running.set(m.room, seqOf(index));
      for (const user of joined) {
        const member = g.members.get(user);
        if (member && member.joinedSeq === -1) member.joinedSeq = seqOf(index);
      }
    }
    versions.set(index, running.get(m.room)!);
  }
  const writes: GroupWrite[] = [];
  for (const [room, g] of verdicts.groups) {
    if (g.touched.size === 0) continue;
    const members = [...g.members].map(([user, { role, joinedSeq }]) => ({ user, role, joinedSeq }));
    writes.push({ room, state: { version: running.get(room)!, members }, touched: [...g.touched] });
  }
  return { versions, writes };
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
  const seen = new Set<string>();
  batch.forEach((m, i) => {
    const key = keyOf(m);
    if (byKey.has(key) || seen.has(key)) return;
    seen.add(key);
    fresh.add(i);
  });
  const verdicts = await judgeGroups(batch, fresh, steps);
  const ts = Date.now();
  const keys = targetsOf(batch, fresh);
  let targets: Map<string, Message> | undefined;
  if (keys.length > 0) {
    if (!steps.loadTargets || !steps.saveTargets) throw new Error('this history store cannot change messages');
    targets = new Map((await steps.loadTargets(keys)).map((m) => [targetKey(m.room, m.seq), m]));
  }
  const changes = targets && judgeChanges(batch, fresh, targets, verdicts?.memberAt ?? new Map(), ts);
  const perRoom = new Map<string, number>();
  for (const i of fresh) perRoom.set(batch[i]!.room, (perRoom.get(batch[i]!.room) ?? 0) + 1);

  let versions: Map<number, number> | undefined;
  if (fresh.size > 0) {
    const sortedRooms = new Map([...perRoom].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const next = await steps.reserveSeqs(sortedRooms);
    const seqs = new Map<number, number>();
    const stored = [...fresh].map((i): Message => {
      const m = batch[i]!;
      const seq = next.get(m.room)!;
      next.set(m.room, seq + 1);
      seqs.set(i, seq);
      const message = toStored(m, uuid7(), seq, ts);
      // The preview as the commit leaves the original (a reply is never to an entry of its own batch).
      const original = m.replyTo !== undefined ? changes?.targets.get(targetKey(m.room, m.replyTo))?.message : undefined;
      if (original) message.replyTo = replyPreviewOf(original);
      return message;
    });
    await steps.insert(stored);
    if (changes) {
      const settled = settleChanges(changes, (i) => seqs.get(i)!);
      if (settled.writes.length > 0) await steps.saveTargets!(settled.writes);
      for (const [i, outcome] of settled.unchanged) changes.refused.set(i, outcome);
    }
    for (const message of stored) byKey.set(keyOf(message), message);
    if (verdicts) {
      const settled = settleGroups(batch, verdicts, (i) => seqs.get(i)!);
      versions = settled.versions;
      if (settled.writes.length > 0) await steps.saveGroups!(settled.writes);
    }
  }

  const outcomes = judge(batch, byKey, fresh);
  // A change that changed nothing, in a batch that stored nothing, still needs its target's rev.
  if (changes && fresh.size === 0) for (const [i, outcome] of settleChanges(changes, () => 0).unchanged) changes.refused.set(i, outcome);
  for (const [i, outcome] of changes?.refused ?? []) outcomes[i] = outcome;
  if (verdicts) {
    for (const [i, refusal] of verdicts.refused) outcomes[i] = refusal;
    for (const [i, version] of versions ?? []) {
      const o = outcomes[i]!;
      if (o.kind === 'stored') outcomes[i] = { ...o, version };
    }
  }
  return outcomes;
}

/** A new entry as stored: the input, its id, seq and time, an event's kind and event, a forward's origin. */
export function toStored(m: NewMessage, id: string, seq: number, ts: number): Message {
  const message: Message = { id, room: m.room, seq, sender: m.sender, body: m.body, clientMsgId: m.clientMsgId, ts };
  if (m.event) {
    message.kind = 'event';
    message.event = m.event;
  }
  if (m.forwarded) message.forwarded = m.forwarded;
  if (m.attachments) message.attachments = m.attachments;
  return message;
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
    const message = byKey.get(keyOf(m));
    // A repeat, within the batch, of a group entry that was refused.
    if (!message) return { kind: 'refused', reason: 'not_member' };
    if (fresh.has(i)) return { kind: 'stored', message };
    return { kind: message.body === m.body ? 'duplicate' : 'conflict', message };
  });
}
