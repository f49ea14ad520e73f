/**
 * What the pages show, read from the chat state: the other member, unread counts, ticks, presence.
 * Pure reads; the store offers them bound to the signed-in user and the ticking clock.
 */
import type { Message, PublicUser } from '../../../../protocol/frames.ts';
import type { Presence, Room, Tick } from './state.ts';

/** The member who is not `me` (yourself in a room with only you). */
export function otherMember(room: Room, me: number | undefined): PublicUser | undefined {
  return room.members.find((m) => m.id !== me) ?? room.members[0];
}

/** Messages from others after what `me` has read. */
export function unreadCount(room: Room, me: number | undefined): number {
  const seen = room.read[String(me)] ?? 0;
  return room.messages.filter((m) => m.seq > seen && m.sender !== me).length;
}

/** The ticks of an own message that reached the server: how far the other member got. */
export function tickOf(room: Room, m: Message, me: number | undefined): Tick {
  const other = otherMember(room, me);
  if (!other) return 'sent';
  if ((room.read[String(other.id)] ?? 0) >= m.seq) return 'read';
  if ((room.delivered[String(other.id)] ?? 0) >= m.seq) return 'delivered';
  return 'sent';
}

/** True while messages before the oldest held exist (seqs start at 1). */
export function hasOlder(room: Room): boolean {
  return (room.messages[0]?.seq ?? 1) > 1;
}

export function isTyping(room: Room, now: number): boolean {
  return room.typingUntil > now;
}

/** The presence of the other member of a room, when known. */
export function presenceIn(room: Room, me: number | undefined, presence: Record<number, Presence>): Presence | undefined {
  const other = otherMember(room, me);
  return other && other.id !== me ? presence[other.id] : undefined;
}
