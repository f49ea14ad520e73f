/**
 * Who is in a room, as its log says: the members (with roles) and names a group's events change,
 * applied to a room in place. A summary (`sync.done`) or a `group.members` answer is the truth as of
 * its seq; an event changes the members only when it is newer than what they already reflect, so a
 * page of older history never undoes a later change. Pure: no socket, storage or clock.
 */
import type { GroupMember, Message, MemberPresence, PublicUser, RoomEvent } from '../../../../protocol/frames.ts';
import type { Member, Room } from './state.ts';

/** Just the public profile of a user (or of anything shaped like one, such as the signed-in user). */
export const profile = ({ id, handle, displayName, avatarUrl, deleted }: PublicUser): PublicUser =>
  deleted ? { id, handle, displayName, deleted } : { id, handle, displayName, ...(avatarUrl ? { avatarUrl } : {}) };

/** Remembers profiles under `room.people`, so names outlive membership. */
export function learn(room: Room, users: PublicUser[]): void {
  room.people ??= {};
  for (const u of users) room.people[String(u.id)] = profile(u);
  // Members an event added before their profile was known get it now.
  for (const m of room.members) {
    const p = !m.handle ? room.people[String(m.id)] : undefined;
    if (p) Object.assign(m, p);
    // A member known before the account was deleted loses its name with it.
    if (m.handle && room.people[String(m.id)]?.deleted) Object.assign(m, room.people[String(m.id)]);
  }
}

/**
 * A user's profile changed (`user.updated`): their entry among the members (keeping role and
 * joining) and among the people the room has seen take it. True when the room knew them.
 */
export function renamed(room: Room, user: PublicUser): boolean {
  const id = String(user.id);
  let known = false;
  if (room.people?.[id]) {
    room.people[id] = profile(user);
    known = true;
  }
  room.members = room.members.map((m) => {
    if (m.id !== user.id) return m;
    known = true;
    // A removed photo is absent from the new profile: the old one must not stay behind.
    const { avatarUrl: _old, ...kept } = m;
    return { ...kept, ...profile(user) };
  });
  return known;
}

/** Takes the members of a summary or a `group.members` answer as of `seq`, unless newer events were applied already. */
export function takeMembers(room: Room, members: Array<MemberPresence | GroupMember>, seq: number): void {
  learn(room, members);
  if (seq < (room.membersSeq ?? 0)) return;
  room.members = members.map((m) => {
    const member: Member = profile(m);
    if (m.role) member.role = m.role;
    if (m.joinedSeq !== undefined) member.joinedSeq = m.joinedSeq;
    return member;
  });
  room.membersSeq = seq;
}

/**
 * Applies a group event (a log entry with `kind: 'event'`) to the room's members, name and this
 * user's own standing. Returns true when `me` was added back and the room needs its member list.
 */
export function applyEvent(room: Room, m: Message, event: RoomEvent, me: number | null): boolean {
  if (m.seq <= (room.membersSeq ?? 0)) return false;
  room.membersSeq = m.seq;
  room.kind = 'group';
  const known = (id: number): Member => {
    const p = room.people?.[String(id)];
    return p ? { ...p } : { id, handle: '', displayName: '' };
  };
  let refetch = false;
  switch (event.type) {
    case 'room.created':
      room.name = event.name;
      room.members = event.members.map((x) => ({ ...known(x.user), role: x.role, joinedSeq: m.seq }));
      if (event.members.some((x) => x.user === me)) room.joinedSeq = m.seq;
      break;
    case 'room.renamed':
      room.name = event.name;
      break;
    case 'member.added':
      room.members = [...room.members.filter((x) => x.id !== event.user), { ...known(event.user), role: event.role, joinedSeq: m.seq }];
      if (event.user === me) {
        // Added back after leaving: the members changed while this user was out.
        refetch = room.left !== undefined;
        room.left = undefined;
        room.joinedSeq = m.seq;
      }
      break;
    case 'member.removed':
    case 'member.left':
      room.members = room.members.filter((x) => x.id !== event.user);
      delete room.typing[String(event.user)];
      if (event.user === me) {
        room.left = m.seq;
        room.members = [];
        room.typing = {};
      }
      break;
    case 'member.role':
      room.members = room.members.map((x) => (x.id === event.user ? { ...x, role: event.role } : x));
      break;
    default: {
      const never: never = event;
      return never;
    }
  }
  return refetch;
}

/** The users a message names (its sender, and the user an event is about). */
export function named(m: Message): number[] {
  const ids = [m.sender];
  const e = m.event;
  if (e && 'user' in e) ids.push(e.user);
  if (e?.type === 'room.created') ids.push(...e.members.map((x) => x.user));
  return ids;
}

/** Users the held messages name whose profile the room does not know. */
export function unknownPeople(room: Room, messages: Message[] = room.messages): number[] {
  const unknown = new Set<number>();
  for (const m of messages) for (const id of named(m)) if (!room.people?.[String(id)] && !room.members.some((x) => x.id === id && x.handle)) unknown.add(id);
  return [...unknown];
}
