/**
 * What the pages show, read from the chat state: titles, names, unread counts, ticks and receipts
 * (N of M in a group), presence, who is typing, and the sentence for a group event. Pure reads; the
 * store offers them bound to the signed-in user and the ticking clock.
 */
import { REACTIONS, type Message, type PublicUser, type Reaction, type RoomEvent } from '../../../../protocol/frames.ts';
import { isChange } from './changes.ts';
import type { Member, Presence, Room, Tick } from './state.ts';

export function isGroup(room: Room): boolean {
  return room.kind === 'group';
}

/** The member who is not `me` (yourself in a room with only you); none in a group. */
export function otherMember(room: Room, me: number | undefined): PublicUser | undefined {
  if (isGroup(room)) return undefined;
  return room.members.find((m) => m.id !== me) ?? room.members[0];
}

/** What a deleted account is called everywhere: its name and handle are gone (docs/http-api.md). */
export const DELETED_NAME = 'Deleted account';

/** A user's profile as the room knows it (current member or not). */
export function personIn(room: Room, id: number): PublicUser | undefined {
  const member = room.members.find((m) => m.id === id && (m.handle || m.deleted));
  return member ?? room.people?.[String(id)];
}

/** The name to show for a user in a room: display name, else handle, else a placeholder until known. */
export function nameIn(room: Room, id: number): string {
  const p = personIn(room, id);
  if (p?.deleted) return DELETED_NAME;
  return p?.displayName || (p?.handle ? `@${p.handle}` : 'Someone');
}

/** The name to show for a profile: "Deleted account" for a deleted one, else display name, else handle. */
export function shownName(p: PublicUser): string {
  return p.deleted ? DELETED_NAME : p.displayName || p.handle;
}

/** A room's title: the group's name, or the other member's name. */
export function titleOf(room: Room, me: number | undefined): string {
  if (isGroup(room)) return room.name || 'Group';
  const other = otherMember(room, me);
  if (other?.deleted) return DELETED_NAME;
  return other?.displayName || other?.handle || 'Chat';
}

/** A room's photo: the group's own, or the other member's; null when there is none. */
export function photoOf(room: Room, me: number | undefined): string | null {
  return (isGroup(room) ? room.avatarUrl : otherMember(room, me)?.avatarUrl) ?? null;
}

/** True for a 1:1 chat whose other person deleted their account: nobody reads it any more. */
export function withDeletedAccount(room: Room, me: number | undefined): boolean {
  return otherMember(room, me)?.deleted === true;
}

/** Messages from others after what `me` has read (group events, changes and messages deleted for me do not count). */
export function unreadCount(room: Room, me: number | undefined): number {
  return unreadAfter(room, me, room.read[String(me)] ?? 0);
}

/** The messages from others after `seq` that unreadCount counts: the unread ones below what the conversation has shown. */
export function unreadAfter(room: Room, me: number | undefined, seq: number): number {
  return unreadFrom(room, me, seq).length;
}

/** The seq of the first unread message from others (where the "new messages" divider goes), if any. */
export function firstUnread(room: Room, me: number | undefined): number | undefined {
  return unreadFrom(room, me, room.read[String(me)] ?? 0)[0]?.seq;
}

function unreadFrom(room: Room, me: number | undefined, seen: number): Message[] {
  const hidden = new Set(room.hidden);
  return room.messages.filter((m) => m.seq > seen && m.sender !== me && m.kind !== 'event' && !m.withheld && !hidden.has(m.seq));
}

/** An outbox item sent this many times without an answer shows as failed (with a way to send it now). */
export const FAILED_AFTER_SENDS = 3;

/** The status of a message in the outbox, by how often it went out on this connection without an answer. */
export function outboxTick(sends: number): Extract<Tick, 'pending' | 'failed'> {
  return sends >= FAILED_AFTER_SENDS ? 'failed' : 'pending';
}

/**
 * The log entries a conversation shows: messages and group events, not changes to messages, nor
 * messages deleted for me, nor entries withheld from me (written by someone I blocked).
 */
export function shownIn(room: Room): Message[] {
  const hidden = new Set(room.hidden);
  return room.messages.filter((m) => !isChange(m) && !m.withheld && !hidden.has(m.seq));
}

/** A group event (shown inline as a sentence), as opposed to a message or a change to one. */
export function isGroupEvent(m: Message): m is Message & { kind: 'event'; event: RoomEvent } {
  return m.kind === 'event' && !isChange(m);
}

/** The text a deleted message shows in its place, in the chat list and in quotes. */
export const DELETED_TEXT = 'This message was deleted';

/** True when `me` may still edit `m`: their own text message, not forwarded, not deleted, within the edit window. */
export function canEdit(m: Message, me: number | undefined, now: number, editWindowMs: number): boolean {
  return m.sender === me && m.kind === undefined && !m.forwarded && !m.deleted && now - m.ts < editWindowMs;
}

/** True when `me` may delete `m` for everyone: its sender, or a group's owner or admin. */
export function canDeleteForAll(room: Room, m: Message, me: number | undefined): boolean {
  if (m.kind !== undefined || m.deleted) return false;
  if (m.sender === me) return true;
  const role = isGroup(room) ? room.members.find((x) => x.id === me)?.role : undefined;
  return role === 'owner' || role === 'admin';
}

/** One reaction chip: the emoji, how many, whether `me` is among them, and who (names, in order of reacting). */
export interface Chip {
  emoji: Reaction;
  count: number;
  mine: boolean;
  names: string[];
}

/** The reaction chips of a message, in the order the app offers reactions. */
export function chipsOf(room: Room, m: Message, me: number | undefined): Chip[] {
  const chips: Chip[] = [];
  for (const emoji of REACTIONS) {
    const users = m.reactions?.[emoji];
    if (!users?.length) continue;
    chips.push({ emoji, count: users.length, mine: users.includes(me ?? -1), names: users.map((u) => (u === me ? 'You' : nameIn(room, u))) });
  }
  return chips;
}

/** The newest own message `me` may still edit (Up arrow in an empty composer), if any. */
export function lastEditable(room: Room, me: number | undefined, now: number, editWindowMs: number): Message | undefined {
  const hidden = new Set(room.hidden);
  return room.messages.findLast((m) => m.sender === me && m.kind === undefined && !hidden.has(m.seq) && !m.deleted && !m.forwarded && now - m.ts < editWindowMs);
}

/** Who a message at `seq` by `sender` is for: current members but the sender who joined at or before it. */
export function recipientsOf(room: Room, m: Pick<Message, 'seq' | 'sender'>): Member[] {
  return room.members.filter((x) => x.id !== m.sender && (x.joinedSeq ?? 0) <= m.seq);
}

export interface Receipts {
  /** The members it is for (M). */
  total: number;
  /** Those whose devices have it, and those who read it (N of M each; readers are also in delivered). */
  delivered: Member[];
  read: Member[];
}

/** How far a message got among its recipients (docs/protocol.md, "Receipts and typing in groups"). */
export function receiptsOf(room: Room, m: Pick<Message, 'seq' | 'sender'>): Receipts {
  const to = recipientsOf(room, m);
  return {
    total: to.length,
    delivered: to.filter((x) => (room.delivered[String(x.id)] ?? 0) >= m.seq || (room.read[String(x.id)] ?? 0) >= m.seq),
    read: to.filter((x) => (room.read[String(x.id)] ?? 0) >= m.seq),
  };
}

/** The ticks of an own message that reached the server: how far everyone it is for got. */
export function tickOf(room: Room, m: Message, _me: number | undefined): Tick {
  const r = receiptsOf(room, m);
  if (r.total === 0) {
    // Everyone it was for has left since: their watermarks stay, so it keeps the ticks it earned.
    const others = (book: Record<string, number>) => Object.entries(book).some(([id, seq]) => Number(id) !== m.sender && seq >= m.seq);
    return others(room.read) ? 'read' : others(room.delivered) ? 'delivered' : 'sent';
  }
  if (r.read.length === r.total) return 'read';
  if (r.delivered.length === r.total) return 'delivered';
  return 'sent';
}

/** True while messages before the oldest held exist (the log starts at 1, or at this user's joining). */
export function hasOlder(room: Room): boolean {
  return (room.messages[0]?.seq ?? 1) > Math.max(1, room.joinedSeq ?? 1);
}

/** The members typing now, by user id (not `me`). */
export function typingIn(room: Room, now: number): number[] {
  return Object.entries(room.typing)
    .filter(([, until]) => until > now)
    .map(([id]) => Number(id));
}

export function isTyping(room: Room, now: number): boolean {
  return typingIn(room, now).length > 0;
}

/** "Alice is typing…", "Alice and Bob are typing…", "3 people are typing…" (groups); "typing…" (1:1). */
export function typingLine(room: Room, now: number): string | null {
  const ids = typingIn(room, now);
  if (ids.length === 0) return null;
  if (!isGroup(room)) return 'typing…';
  const first = (id: number) => nameIn(room, id).split(/\s+/)[0]!;
  if (ids.length === 1) return `${first(ids[0]!)} is typing…`;
  if (ids.length === 2) return `${first(ids[0]!)} and ${first(ids[1]!)} are typing…`;
  return `${ids.length} people are typing…`;
}

/** The presence of the other member of a 1:1 room, when known. */
export function presenceIn(room: Room, me: number | undefined, presence: Record<number, Presence>): Presence | undefined {
  const other = otherMember(room, me);
  return other && other.id !== me ? presence[other.id] : undefined;
}

/** The sentence a group event shows inline: "Alice added Bob", "You left". */
export function eventText(room: Room, m: Message & { event: RoomEvent }, me: number | undefined): string {
  const who = (id: number, start: boolean) => (id === me ? (start ? 'You' : 'you') : nameIn(room, id));
  const by = who(m.sender, true);
  const e = m.event;
  switch (e.type) {
    case 'room.created':
      return `${by} created the group “${e.name}”`;
    case 'room.renamed':
      return `${by} renamed the group to “${e.name}”`;
    case 'member.added':
      return `${by} added ${who(e.user, false)}`;
    case 'member.removed':
      return `${by} removed ${who(e.user, false)}`;
    case 'member.left':
      return `${who(e.user, true)} left`;
    case 'member.role':
      if (e.role === 'owner') return `${who(e.user, true)} ${e.user === me ? 'are' : 'is'} now the owner`;
      if (e.role === 'admin') return `${by} made ${who(e.user, false)} an admin`;
      return `${by} made ${who(e.user, false)} a member (no longer an admin)`;
    default: {
      const never: never = e;
      return never;
    }
  }
}
