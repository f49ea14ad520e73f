/**
 * Message changes in the commit (docs/protocol.md, "Message actions"): the storage-neutral half of
 * judging an edit, a deletion or a reaction against its target as the commit reads it, and of
 * applying it to the target's current state. Like group membership (history.batch.ts), the commit
 * that gives a change its seq decides it, so two changes racing on one message, on any nodes, are
 * ordered by the log and never half applied.
 */
import { isMessageChange, LIMITS, type MessageChange, type ReplyPreview } from '../protocol/frames.ts';
import { clipText } from '../protocol/text.ts';
import type { AppendOutcome, ChangeRefusal, Message, NewMessage } from './history.port.ts';

/** The seq of a room an entry names: a change's target or a reply's original. */
export interface TargetKey {
  room: string;
  seq: number;
}

export const targetKey = (room: string, seq: number): string => `${room}\u0000${seq}`;

/** What a commit writes back to one changed message: its whole current state, and whether to erase its edits' bodies. */
export interface TargetWrite {
  target: Message;
  /** Deleted for everyone in this commit: the bodies of the `message.edited` entries naming it become `''`. */
  erase: boolean;
}

/** The sender of a group entry at its point in the batch: their role and the seq they joined at (Infinity: in this batch). */
export interface MemberAt {
  role: 'owner' | 'admin' | 'member';
  joinedSeq: number;
}

/** A target as the batch changes it, and the batch index of the last change applied to it. */
interface Working {
  message: Message;
  lastIndex?: number;
  erase: boolean;
  changed: boolean;
}

export interface ChangeVerdicts {
  refused: Map<number, AppendOutcome>;
  /** Changes that changed nothing: the target as it was then, and the index of the change that had made it so in this batch. */
  unchanged: Map<number, { message: Message; lastIndex?: number }>;
  /** Accepted changes: batch index to target key. */
  accepted: Map<number, string>;
  targets: Map<string, Working>;
}

/** The target keys of a batch's new entries: every change's target and every reply's original. */
export function targetsOf(batch: readonly NewMessage[], fresh: ReadonlySet<number>): TargetKey[] {
  const keys = new Map<string, TargetKey>();
  for (const i of fresh) {
    const m = batch[i]!;
    const seq = isMessageChange(m.event) ? m.event.seq : m.replyTo;
    if (seq !== undefined) keys.set(targetKey(m.room, seq), { room: m.room, seq });
  }
  return [...keys.values()].sort((a, b) => (a.room < b.room ? -1 : a.room > b.room ? 1 : a.seq - b.seq));
}

/**
 * Decides the batch's message changes in input order against their targets (`loaded`, read by the
 * commit so that no other commit changes them before it ends), applying each accepted one to the
 * working state. `memberAt` gives a group entry's sender as of its place in the batch. Refused and
 * unchanged entries leave `fresh`: they get no seq.
 */
export function judgeChanges(
  batch: readonly NewMessage[],
  fresh: Set<number>,
  loaded: ReadonlyMap<string, Message>,
  memberAt: ReadonlyMap<number, MemberAt>,
  ts: number,
): ChangeVerdicts {
  const targets = new Map<string, Working>();
  for (const [key, message] of loaded) targets.set(key, { message: structuredClone(message), erase: false, changed: false });
  const verdicts: ChangeVerdicts = { refused: new Map(), unchanged: new Map(), accepted: new Map(), targets };
  for (const i of [...fresh].sort((a, b) => a - b)) {
    const m = batch[i]!;
    if (!isMessageChange(m.event)) continue;
    const key = targetKey(m.room, m.event.seq);
    const working = targets.get(key);
    const member = memberAt.get(i);
    const verdict = !working || working.message.kind === 'event' || (member && working.message.seq < member.joinedSeq) ? 'message_not_found' : decide(m, m.event, working.message, member, ts);
    if (verdict === 'changed') {
      working!.lastIndex = i;
      working!.changed = true;
      if (m.event.type === 'message.deleted') working!.erase = true;
      verdicts.accepted.set(i, key);
      continue;
    }
    fresh.delete(i);
    if (verdict === 'unchanged') verdicts.unchanged.set(i, { message: structuredClone(working!.message), ...(working!.lastIndex !== undefined ? { lastIndex: working!.lastIndex } : {}) });
    else verdicts.refused.set(i, { kind: 'refused', reason: verdict });
  }
  return verdicts;
}

/** One change against its target's current state: refused, unchanged, or applied to `target` (all but its `rev`). */
function decide(m: NewMessage, change: MessageChange, target: Message, member: MemberAt | undefined, ts: number): ChangeRefusal | 'unchanged' | 'changed' {
  switch (change.type) {
    case 'message.edited':
      if (m.sender !== target.sender) return 'not_sender';
      if (target.forwarded) return 'not_editable';
      if (target.deleted) return 'message_deleted';
      if (target.ts < (m.editableSince ?? -Infinity)) return 'edit_window_closed';
      if (target.body === change.body) return 'unchanged';
      target.body = change.body;
      target.editedAt = ts;
      return 'changed';
    case 'message.deleted':
      if (m.sender !== target.sender && member?.role !== 'owner' && member?.role !== 'admin') return 'not_sender';
      if (target.deleted) return 'unchanged';
      target.deleted = true;
      target.body = '';
      delete target.editedAt;
      delete target.reactions;
      delete target.forwarded;
      delete target.attachments;
      return 'changed';
    case 'message.reacted': {
      if (target.deleted) return 'message_deleted';
      const reactions: Record<string, number[]> = target.reactions ?? {};
      const who = reactions[change.emoji] ?? [];
      if (who.includes(m.sender) === change.on) return 'unchanged';
      if (change.on) {
        const mine = Object.values(reactions).filter((users) => users.includes(m.sender)).length;
        if (mine >= LIMITS.reactionsPerUserMax) return 'too_many_reactions';
        reactions[change.emoji] = [...who, m.sender];
      } else if (who.length === 1) {
        delete reactions[change.emoji];
      } else {
        reactions[change.emoji] = who.filter((u) => u !== m.sender);
      }
      if (Object.keys(reactions).length > 0) target.reactions = reactions;
      else delete target.reactions;
      return 'changed';
    }
  }
}

/**
 * With the seqs known: each changed target's `rev`, what to write back, and the outcomes of the
 * changes that changed nothing (their target with the `rev` it had at that point).
 */
export function settleChanges(verdicts: ChangeVerdicts, seqOf: (i: number) => number): { writes: TargetWrite[]; unchanged: Map<number, AppendOutcome> } {
  const writes: TargetWrite[] = [];
  for (const w of verdicts.targets.values()) {
    if (!w.changed) continue;
    w.message.rev = seqOf(w.lastIndex!);
    writes.push({ target: w.message, erase: w.erase });
  }
  const unchanged = new Map<number, AppendOutcome>();
  for (const [i, { message, lastIndex }] of verdicts.unchanged) {
    if (lastIndex !== undefined) message.rev = seqOf(lastIndex);
    unchanged.set(i, { kind: 'unchanged', message });
  }
  return { writes, unchanged };
}

/** What a reply shows of its original as the original is now (a deleted one: nothing but that). */
export function replyPreviewOf(original: Pick<Message, 'seq' | 'sender' | 'body' | 'deleted'>): ReplyPreview {
  if (original.deleted) return { seq: original.seq, sender: original.sender, preview: '', deleted: true };
  return { seq: original.seq, sender: original.sender, preview: clipText(original.body, LIMITS.replyPreviewLength) };
}
