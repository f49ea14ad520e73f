/**
 * What a change entry of a room's log (an edit, a deletion for everyone, a reaction) does to the
 * message it names, on plain data (docs/protocol.md, "Message actions"). A message carries `rev`,
 * the seq of the last change already in it: a change at or below it is a no-op, so a history page
 * read after the change (the message in its current state) and the change entry itself can come in
 * either order. Changes are applied in log order only: one that arrives after a gap waits until the
 * gap is filled, because a later change applied first would make an earlier one look stale and lose
 * it (an edit at 80 skipped because a reaction at 90 set rev 90). Pure: no socket, storage or clock.
 */
import { isMessageChange, LIMITS, type Message, type MessageChange, type Reaction } from '../../../../protocol/frames.ts';
import { clipText } from '../../../../protocol/text.ts';
import { contiguous, type CachedRoom } from './state.ts';

/** A log entry that changes an earlier message. */
export type ChangeEntry = Message & { kind: 'event'; event: MessageChange };

export function isChange(m: Message): m is ChangeEntry {
  return m.kind === 'event' && isMessageChange(m.event);
}

/** What a reply shows of an original whose body is now `body`: its start, cut between characters as the server cuts it. */
export function previewOf(body: string): string {
  return clipText(body, LIMITS.replyPreviewLength);
}

/**
 * Applies one change entry to its target in `messages` (sorted by seq), in place. Returns false
 * when the target is not held (the entry stays in the log, shown nowhere) or already reflects it.
 */
export function applyChange(messages: Message[], entry: ChangeEntry): boolean {
  const e = entry.event;
  const i = indexOfSeq(messages, e.seq);
  const target = i >= 0 ? messages[i]! : undefined;
  if (!target || target.kind === 'event' || entry.seq <= (target.rev ?? 0)) return false;
  const next: Message = { ...target, rev: entry.seq };
  switch (e.type) {
    case 'message.edited':
      if (target.deleted) break;
      next.body = e.body;
      next.editedAt = entry.ts;
      quoteOf(messages, e.seq, (q) => ({ ...q, preview: previewOf(e.body) }));
      break;
    case 'message.deleted':
      next.body = '';
      next.deleted = true;
      // What the server's tombstone keeps: no reactions, no edit time, no forwarded marker.
      for (const k of ['reactions', 'editedAt', 'forwarded'] as const) delete next[k];
      quoteOf(messages, e.seq, (q) => ({ ...q, preview: '', deleted: true }));
      break;
    case 'message.reacted':
      if (target.deleted) break;
      next.reactions = react(target.reactions, entry.sender, e.emoji, e.on);
      if (!next.reactions) delete next.reactions;
      break;
    default: {
      const never: never = e;
      return never;
    }
  }
  messages[i] = next;
  return true;
}

/** Puts `user`'s `emoji` on (at the end of its list, in order of reacting) or takes it off; undefined when none remain. */
function react(reactions: Message['reactions'], user: number, emoji: Reaction, on: boolean): Message['reactions'] {
  const out: Partial<Record<Reaction, number[]>> = {};
  for (const [k, users] of Object.entries(reactions ?? {}) as Array<[Reaction, number[]]>) out[k] = [...users];
  const had = out[emoji] ?? [];
  // Already on stays where it was (the order is the order of reacting).
  const users = on ? (had.includes(user) ? had : [...had, user]) : had.filter((u) => u !== user);
  if (users.length > 0) out[emoji] = users;
  else delete out[emoji];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Rewrites the quote of every held reply to `seq` (a reply shows its original as it is now). */
function quoteOf(messages: Message[], seq: number, change: (q: NonNullable<Message['replyTo']>) => NonNullable<Message['replyTo']>): void {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.replyTo?.seq === seq) messages[i] = { ...m, replyTo: change(m.replyTo) };
  }
}

function indexOfSeq(messages: Message[], seq: number): number {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = messages[mid]!.seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Brings the room's messages up to date after a merge: messages that just arrived get the held
 * changes above their `rev` (a page read just before a change committed), then every change entry
 * up to the contiguous end of the log that was not applied yet is applied, in seq order. Entries
 * after a gap wait for it. `arrived` are the seqs just added or replaced.
 */
export function settleChanges(room: CachedRoom, arrived: ReadonlySet<number>): void {
  const messages = room.messages;
  const applied = room.changesApplied ?? 0;
  const upto = contiguous(messages);
  for (const m of messages) {
    if (!isChange(m)) continue;
    // Older entries (an earlier page) and those past the watermark go through the rev rule; both are no-ops when held state has them.
    const waiting = m.seq > applied && m.seq <= upto;
    const late = m.seq <= applied && (arrived.has(m.seq) || arrived.has(m.event.seq));
    if (waiting || late) applyChange(messages, m);
  }
  room.changesApplied = Math.max(applied, upto);
}

/** Adds seqs deleted "for me" to the room's hidden list (kept sorted, the newest `LIMITS.hiddenPerRoomMax`). */
export function hide(room: CachedRoom, seqs: readonly number[]): boolean {
  const held = new Set(room.hidden ?? []);
  const before = held.size;
  for (const s of seqs) held.add(s);
  if (held.size === before) return false;
  room.hidden = [...held].sort((a, b) => a - b).slice(-LIMITS.hiddenPerRoomMax);
  return true;
}
