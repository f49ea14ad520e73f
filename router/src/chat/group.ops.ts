/**
 * What the chatroom actor of a group does with a group request: decide it (group.rules.ts) on the
 * group as the log last showed it, append its entries together through the group commit, and when
 * the store refuses them as stale (another node changed the group meanwhile) look at the group again
 * and decide again. Once stored: the relational projection, the actor's view, the bus, the answer.
 * Run inside the room actor and awaited, so one node applies one request of a room at a time.
 */
import type { AppendOutcome, GroupState } from '../../../db/history.port.ts';
import type { RelationalStore, Watermarks } from '../../../db/relational.port.ts';
import { AppError, toAppError } from '../../../protocol/app-error.ts';
import type { GroupLimits, GroupMember, Message } from '../../../protocol/frames.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { Bus } from '../live/bus.port.ts';
import type { Connection } from '../socket/connection.ts';
import type { HistoryBatcher } from './history.batcher.ts';
import { createEntries, membershipChange, requestEntries, type GroupRequest } from './group.rules.ts';

/** How often a request decided on a stale group is decided again before giving up (`unavailable`). */
const ATTEMPTS = 5;

export interface GroupDeps {
  log: Logger;
  relational: Pick<RelationalStore, 'getUsers' | 'countGroupsOf' | 'applyGroupEvents' | 'getRoom'>;
  batcher: Pick<HistoryBatcher, 'appendAll'>;
  bus: Pick<Bus, 'publish'>;
  limits: GroupLimits;
  /** The group as the log has it now (after a stale refusal). */
  groupState(room: string): Promise<GroupState | null>;
  /** The members' watermarks as `viewer` may see them (docs/protocol.md, "Privacy settings"); default: as they are. */
  marksFor?(viewer: number, marks: Watermarks, members: readonly number[]): Promise<Watermarks>;
}

/**
 * Who asked: a socket, or the account deletion leaving the user's groups over HTTP
 * (account/account.service.ts), which is answered by the same `reply` and `fail`.
 */
export type Requester = Pick<Connection, 'user' | 'reply' | 'fail'>;

/** The part of a loaded group the requests read and change. */
export interface GroupView {
  id: string;
  group: GroupState;
  lastSeq: number;
}

/** Creates the group `room`; resolves with its state, or null when refused (the client was told). */
export async function createGroup(room: string, conn: Requester, ref: string | undefined, name: string, members: readonly number[], deps: GroupDeps): Promise<GroupView | null> {
  try {
    const entries = createEntries(room, conn.user.id, name, members, deps.limits);
    await checkUsers(members, deps, [conn.user.id, ...members]);
    const outcomes = await deps.batcher.appendAll(entries);
    if (outcomes.some((o) => o.kind !== 'stored')) throw new Error(`group ${room} was not created: ${outcomes.map((o) => o.kind).join(', ')}`);
    const view: GroupView = { id: room, group: { version: 0, members: [] }, lastSeq: 0 };
    await stored(view, outcomes, conn, ref, deps);
    return view;
  } catch (err) {
    fail(err, conn, ref, room, deps);
    return null;
  }
}

/** Applies a request to a loaded group. */
export async function runGroupRequest(view: GroupView, conn: Requester, ref: string | undefined, req: GroupRequest, deps: GroupDeps): Promise<void> {
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const entries = requestEntries(view.id, view.group, conn.user.id, req, deps.limits);
      if (req.type === 'group.add') await checkUsers(req.users, deps, req.users);
      const outcomes = await deps.batcher.appendAll(entries);
      if (outcomes[0]?.kind === 'stored') return await stored(view, outcomes, conn, ref, deps);
      // Stale: someone changed the group since we looked; look again and decide again.
      view.group = (await deps.groupState(view.id)) ?? { version: view.group.version, members: [] };
    }
    throw new AppError('unavailable', 'the group kept changing; retry');
  } catch (err) {
    fail(err, conn, ref, view.id, deps);
  }
}

/**
 * The answer to `group.members`: current members with roles and watermarks, the higher of the
 * relational store's and `marks`, the room actor's (receipts reach the store in batches).
 */
export async function listMembers(view: GroupView, marks: Watermarks, conn: Requester, ref: string | undefined, deps: GroupDeps): Promise<void> {
  try {
    const room = await deps.relational.getRoom(view.id);
    const ids = view.group.members.map((m) => m.user);
    const users = new Map((await deps.relational.getUsers(ids)).map((u) => [u.id, u]));
    const all: Watermarks = { delivered: {}, read: {} };
    for (const id of ids) {
      all.delivered[id] = Math.max(room?.delivered[id] ?? 0, marks.delivered[id] ?? 0);
      all.read[id] = Math.max(room?.read[id] ?? 0, marks.read[id] ?? 0);
    }
    const shown = deps.marksFor ? await deps.marksFor(conn.user.id, all, ids) : all;
    const members: GroupMember[] = view.group.members.flatMap((m) => {
      const u = users.get(m.user);
      const read = shown.read[m.user] ?? 0;
      return u ? [{ ...u, role: m.role, joinedSeq: m.joinedSeq, delivered: Math.max(shown.delivered[m.user] ?? 0, read), read }] : [];
    });
    conn.reply({ type: 'group.members', ...(ref ? { ref } : {}), room: view.id, name: room?.name ?? '', lastSeq: view.lastSeq, members });
  } catch (err) {
    fail(err, conn, ref, view.id, deps);
  }
}

/** Users named by a request exist, and none of `limited` would pass the groups-per-user limit. */
async function checkUsers(users: readonly number[], deps: GroupDeps, limited: readonly number[]): Promise<void> {
  // A deleted account is nobody to add.
  if (users.length > 0 && (await deps.relational.getUsers(users)).filter((u) => !u.deleted).length !== new Set(users).size) throw new AppError('user_not_found');
  const counts = await deps.relational.countGroupsOf(limited);
  if ([...counts.values()].some((n) => n >= deps.limits.perUserMax)) throw new AppError('too_many_groups', `a user may be in at most ${deps.limits.perUserMax} groups`);
}

/** After a request's entries are durable: the projection, the view, the bus, the answer. */
async function stored(view: GroupView, outcomes: AppendOutcome[], conn: Requester, ref: string | undefined, deps: GroupDeps): Promise<void> {
  const messages = outcomes.map((o) => o.message).filter((m): m is Message => m !== undefined);
  // Before publishing: a node that hears of the group for the first time loads its members from here.
  // A failure is repaired when a room actor next loads the group (chatroom.actor.ts, `load`).
  await deps.relational.applyGroupEvents(messages).catch((err: unknown) => deps.log.error({ err, room: view.id }, 'could not write group events to the relational store'));
  for (const [i, m] of messages.entries()) {
    applyEntry(view.group, m);
    if (m.seq > view.lastSeq) view.lastSeq = m.seq;
    const version = outcomes[i]?.kind === 'stored' ? (outcomes[i] as { version?: number }).version : undefined;
    // No origin: the requesting socket gets the entries as message.new too, like every member.
    deps.bus.publish({ kind: 'message', room: view.id, members: [], message: m, ...(version !== undefined ? { version } : {}) });
  }
  conn.reply({ type: 'group.done', ...(ref ? { ref } : {}), room: view.id, seq: messages.at(-1)?.seq ?? view.lastSeq });
}

/** A stored event's change, applied to a group's state (what the store did in the commit). */
function applyEntry(group: GroupState, m: Message): void {
  const change = m.event && membershipChange(m.event);
  if (!change) return;
  for (const { user, role } of change.set ?? []) {
    const current = group.members.find((x) => x.user === user);
    if (current) current.role = role;
    else group.members.push({ user, role, joinedSeq: m.seq });
  }
  if (change.remove) group.members = group.members.filter((x) => !change.remove!.includes(x.user));
  group.version = Math.max(group.version, m.seq);
}

function fail(err: unknown, conn: Requester, ref: string | undefined, room: string, deps: GroupDeps): void {
  if (!(err instanceof AppError)) deps.log.error({ err, room }, 'group request failed');
  conn.fail(toAppError(err), ref);
}
