/**
 * The rules of groups (docs/protocol.md, "Groups"), as pure functions: a request and the group as
 * the log last showed it go in; the entries to append, or the refusal, come out. The chatroom actor
 * runs them and the history store checks, in the commit, that the group has not changed since
 * (`op.expect`), so a decision is never applied to a group other than the one it was made on.
 */
import { randomUUID } from 'node:crypto';
import type { GroupState, MembershipChange, NewMessage } from '../../../db/history.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { ClientFrame, GroupLimits, GroupRole, LogEvent, RoomEvent } from '../../../protocol/frames.ts';

/** A group request as the room actor gets it (`group.create` has its own path). */
export type GroupRequest = Extract<ClientFrame, { type: 'group.rename' | 'group.add' | 'group.remove' | 'group.role' | 'group.leave' }>;


/** Whether a member of this role may rename the group, change its photo, add and remove members. */
export const manages = (role: GroupRole | undefined | null): boolean => role === 'owner' || role === 'admin';

/** What an event does to a group's members; a rename changes none. */
export function membershipChange(event: LogEvent): MembershipChange | undefined {
  switch (event.type) {
    case 'room.created':
      return { set: event.members };
    case 'member.added':
    case 'member.role':
      return { set: [{ user: event.user, role: event.role }] };
    case 'member.removed':
    case 'member.left':
      return { remove: [event.user] };
    case 'room.renamed':
    case 'message.edited':
    case 'message.deleted':
    case 'message.reacted':
      return undefined;
  }
}

/** An event entry of `room` by `sender`, with the change it makes, for one request (`op`). */
function eventEntry(room: string, sender: number, event: RoomEvent, op: { expect: number }): NewMessage {
  const entry: NewMessage = { room, sender, body: '', clientMsgId: `ev-${randomUUID()}`, event, op };
  const change = membershipChange(event);
  if (change) entry.change = change;
  return entry;
}

/** The entries that create a group: seq 1, `room.created`, the creator as owner. Checks the list only; users' existence is the caller's. */
export function createEntries(room: string, creator: number, name: string, members: readonly number[], limits: GroupLimits): NewMessage[] {
  const unique = new Set(members);
  if (unique.size !== members.length || unique.has(creator)) throw new AppError('duplicate_member');
  if (members.length + 1 > limits.membersMax) throw new AppError('too_many_members', `a group has at most ${limits.membersMax} members`);
  const list: Array<{ user: number; role: GroupRole }> = [{ user: creator, role: 'owner' }, ...members.map((user) => ({ user, role: 'member' as const }))];
  return [eventEntry(room, creator, { type: 'room.created', name, members: list }, { expect: 0 })];
}

/**
 * The entries of a request by `sender` on `group` (its current members), or the AppError that
 * refuses it. Users' existence and the per-user limit are the caller's (they need the stores).
 */
export function requestEntries(room: string, group: GroupState, sender: number, req: GroupRequest, limits: GroupLimits): NewMessage[] {
  const members = new Map(group.members.map((m) => [m.user, m]));
  const me = members.get(sender);
  if (!me) throw new AppError('room_not_found');
  const op = { expect: group.version };
  const entry = (event: RoomEvent) => eventEntry(room, sender, event, op);
  const manager = manages(me.role);
  switch (req.type) {
    case 'group.rename':
      if (!manager) throw new AppError('not_admin');
      return [entry({ type: 'room.renamed', name: req.name })];
    case 'group.add': {
      if (!manager) throw new AppError('not_admin');
      if (new Set(req.users).size !== req.users.length) throw new AppError('duplicate_member');
      if (req.users.some((u) => members.has(u))) throw new AppError('already_member');
      if (members.size + req.users.length > limits.membersMax) throw new AppError('too_many_members', `a group has at most ${limits.membersMax} members`);
      return req.users.map((user) => entry({ type: 'member.added', user, role: 'member' }));
    }
    case 'group.remove': {
      if (!manager) throw new AppError('not_admin');
      const target = members.get(req.user);
      if (!target) throw new AppError('member_not_found');
      if (target.role === 'owner') throw new AppError('owner_protected');
      return [entry({ type: 'member.removed', user: req.user })];
    }
    case 'group.role': {
      if (me.role !== 'owner') throw new AppError('not_owner');
      const target = members.get(req.user);
      if (!target) throw new AppError('member_not_found');
      if (target.role === 'owner') throw new AppError('owner_protected');
      return [entry({ type: 'member.role', user: req.user, role: req.role })];
    }
    case 'group.leave': {
      const entries = [entry({ type: 'member.left', user: sender })];
      if (me.role === 'owner') {
        const heir = successor(group.members.filter((m) => m.user !== sender));
        if (heir) entries.push(entry({ type: 'member.role', user: heir.user, role: 'owner' }));
      }
      return entries;
    }
  }
}

/** Who inherits ownership: the admin who joined first, else the member who joined first (then the lowest id). */
export function successor(others: GroupState['members']): GroupState['members'][number] | undefined {
  const order = (a: GroupState['members'][number], b: GroupState['members'][number]) => a.joinedSeq - b.joinedSeq || a.user - b.user;
  return others.filter((m) => m.role === 'admin').sort(order)[0] ?? [...others].sort(order)[0];
}
