/**
 * Message actions (docs/protocol.md, "Message actions"): reply, edit, delete, react, forward.
 * Edits, deletions and reactions are entries of the room log, judged and applied to their target
 * by the history store in the commit that gives them their seq (db/history.changes.ts); here they
 * are only built, sent through the group commit and answered. What needs no commit is checked
 * here: that a reply's original, a forward's source or a message hidden "for me" is a message the
 * user may see. Messages never vanish (a deletion leaves a tombstone), so such a check stays true.
 */
import type { Clock } from '../../../db/clock.ts';
import type { AppendOutcome, GroupState, HistoryStore, NewMessage } from '../../../db/history.port.ts';
import type { PrivacyStore } from '../../../db/privacy.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import { uuid7 } from '../../../db/uuid7.ts';
import { AppError } from '../../../protocol/app-error.ts';
import { LIMITS, REACTIONS, roomKindOf, type Message, type MessageChange } from '../../../protocol/frames.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { Bus } from '../live/bus.port.ts';
import type { Connection } from '../socket/connection.ts';
import type { HistoryBatcher } from './history.batcher.ts';

/** What the message actions of a room use. */
export interface ActionDeps {
  log: Logger;
  history: Pick<HistoryStore, 'at'>;
  relational: Pick<RelationalStore, 'hideMessage'>;
  batcher: Pick<HistoryBatcher, 'append'>;
  bus: Pick<Bus, 'publish'>;
  /** How long a message stays editable (EDIT_WINDOW_MS), ms. */
  editWindowMs: number;
  /** The time the edit window is measured on. */
  clock: Clock;
}

/** The part of a loaded room the actions read. */
export interface ActionRoom {
  id: string;
  /** Groups only: the members as the log last showed this node, with the seq each joined at. */
  group?: GroupState;
}

/** A message change as a client asks for it, before validation beyond the frame's schema. */
export type ChangeRequest =
  | { type: 'message.edit'; seq: number; body: string }
  | { type: 'message.delete'; seq: number }
  | { type: 'message.react'; seq: number; emoji: string; on: boolean };

/** The entry of a stored change goes to the members as any entry does (chatroom.actor.ts). */
export type PublishEntry = (outcome: Extract<AppendOutcome, { kind: 'stored' }>) => void;

/**
 * True when `seq` of `room` is a message (not an event) that `user`, a current member, may see: in
 * a group, from the seq they joined at.
 */
export async function canSee(room: ActionRoom, user: number, seq: number, deps: Pick<ActionDeps, 'history'>): Promise<boolean> {
  const joined = room.group ? room.group.members.find((m) => m.user === user)?.joinedSeq : 0;
  if (joined === undefined || seq < joined) return false;
  const [m] = await deps.history.at(room.id, [seq]);
  return m !== undefined && m.kind !== 'event';
}

/**
 * An edit, a deletion for everyone or a reaction: validated, sent through the group commit, and
 * answered `message.changed` (the entry's seq, or the target's `rev` when it was in that state
 * already); the stored entry goes to every member, this socket too, as `message.new`.
 */
export function changeMessage(room: ActionRoom, conn: Connection, ref: string | undefined, req: ChangeRequest, publish: PublishEntry, deps: ActionDeps): void {
  let event: MessageChange;
  switch (req.type) {
    case 'message.edit':
      if (req.body.length > LIMITS.maxBodyLength) return conn.fail(new AppError('body_too_long', `the body is longer than ${LIMITS.maxBodyLength}`), ref);
      event = { type: 'message.edited', seq: req.seq, body: req.body };
      break;
    case 'message.delete':
      event = { type: 'message.deleted', seq: req.seq };
      break;
    case 'message.react': {
      const emoji = REACTIONS.find((r) => r === req.emoji);
      if (!emoji) return conn.fail(new AppError('invalid_reaction'), ref);
      event = { type: 'message.reacted', seq: req.seq, emoji, on: req.on };
      break;
    }
  }
  // The entry's clientMsgId is ours: retrying a change is made harmless by the store answering
  // `unchanged`, not by the key.
  const entry: NewMessage = { room: room.id, sender: conn.user.id, body: '', clientMsgId: uuid7(), event };
  if (event.type === 'message.edited') entry.editableSince = deps.clock.now() - deps.editWindowMs;
  const answer = (seq: number) => conn.reply({ type: 'message.changed', ...(ref ? { ref } : {}), room: room.id, target: req.seq, seq });
  deps.batcher.append(entry).then(
    (outcome) => {
      switch (outcome.kind) {
        case 'stored':
          answer(outcome.message.seq);
          publish(outcome);
          return;
        case 'unchanged':
          answer(outcome.message.rev ?? outcome.message.seq);
          return;
        case 'refused':
          // not_member: removed on another node meanwhile; stale cannot happen (no `op`).
          conn.fail(new AppError(outcome.reason === 'not_member' || outcome.reason === 'stale' ? 'room_not_found' : outcome.reason), ref);
          return;
        default:
          // A server-made clientMsgId never repeats.
          throw new Error(`a message change came back ${outcome.kind}`);
      }
    },
    (err: unknown) => {
      deps.log.error({ err, room: room.id }, 'a message change failed');
      conn.fail(new AppError('unavailable', 'the change may or may not have been made; retry it'), ref);
    },
  );
}

/** "Delete for me": remembered for the user and told to each of their sockets, on every node. */
export async function hideMessage(room: ActionRoom, conn: Connection, ref: string | undefined, seq: number, deps: ActionDeps): Promise<void> {
  if (!(await canSee(room, conn.user.id, seq, deps))) return conn.fail(new AppError('message_not_found'), ref);
  await deps.relational.hideMessage(conn.user.id, room.id, seq);
  conn.reply({ type: 'message.hidden', ...(ref ? { ref } : {}), room: room.id, seq });
  deps.bus.publish({ kind: 'hidden', user: conn.user.id, room: room.id, seq, origin: conn.id });
}

/** What a forward reads of its source. */
export interface ForwardDeps {
  history: Pick<HistoryStore, 'at'>;
  relational: Pick<RelationalStore, 'membershipOf' | 'getUsers'>;
  /** Entries withheld from the forwarder (written by someone they blocked) cannot be seen, so not forwarded. */
  withheld: Pick<PrivacyStore, 'withheldIn'>;
}

/**
 * The body and the `forwarded` marker of a copy of `from`, which `user` must be able to see: a
 * member of its room (a 1:1 room's or a group's, within the seqs from their joining to their
 * leaving). Anything else is `message_not_found`, whether or not it exists; a deleted source is
 * `message_deleted`. A forwarded message forwarded again keeps its first author.
 */
export async function forwardOf(user: number, from: { room: string; seq: number }, deps: ForwardDeps): Promise<{ body: string; forwarded: NonNullable<Message['forwarded']> }> {
  const own = await deps.relational.membershipOf(from.room, user);
  if (!own || from.seq < own.joinedSeq || (own.leftSeq !== null && from.seq > own.leftSeq)) throw new AppError('message_not_found');
  if (roomKindOf(from.room) === 'direct' && (await deps.withheld.withheldIn(user, from.room, from.seq, from.seq)).length > 0) throw new AppError('message_not_found');
  const [source] = await deps.history.at(from.room, [from.seq]);
  if (!source || source.kind === 'event') throw new AppError('message_not_found');
  if (source.deleted) throw new AppError('message_deleted');
  if (source.forwarded) return { body: source.body, forwarded: source.forwarded };
  const [author] = await deps.relational.getUsers([source.sender]);
  return { body: source.body, forwarded: { sender: source.sender, name: author?.displayName ?? '' } };
}
