/**
 * Resync after a gap: for every room of the user, the messages after the seq the client says it
 * has (or, for a room this device has never seen, the latest page), then `sync.done` with each
 * room's members, last seq and receipt watermarks. Rooms the client names but is not a member of
 * are ignored: membership comes from the store, never from the request.
 */
import { LIMITS, type ClientFrame, type GroupRole, type RoomSummary } from '../../../protocol/frames.ts';
import type { HistoryStore } from '../../../db/history.port.ts';
import type { PresenceStore, UserPresence } from '../../../db/presence.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { Connection } from '../socket/connection.ts';
import type { PrivacyStore } from '../../../db/privacy.port.ts';
import type { PrivacyCache } from '../privacy/privacy.cache.ts';
import { seesPresence, visibleMarks, type Viewer } from '../privacy/privacy.rules.ts';
import { withholdIn, type HistoryReader } from './history.reader.ts';

/** What a sync reads: one object per node, shared by every connection. */
export interface SyncDeps {
  relational: Pick<RelationalStore, 'roomsOf' | 'getUsers' | 'hiddenOf'>;
  history: Pick<HistoryStore, 'lastSeq'>;
  reader: HistoryReader;
  presence: Pick<PresenceStore, 'presenceOf'>;
  /** The members' privacy settings and the entries withheld from the user. */
  privacy: Pick<PrivacyStore, 'settingsOf' | 'withheldOf'>;
  /** The user's own blocks and settings (they are connected here). */
  cache: Pick<PrivacyCache, 'ensure'>;
  log: Logger;
}

/** Messages per `history.page` frame during a sync. */
const SYNC_PAGE = 200;
/** Messages a never-seen room starts with; older ones are paged in with history.get. */
const FIRST_PAGE = 50;

type SyncFrame = Extract<ClientFrame, { type: 'sync' }>;

/** Streams what the client missed, in seq order per room and at the client's pace, then `sync.done`. */
export async function syncRooms(conn: Connection, frame: SyncFrame, deps: SyncDeps): Promise<void> {
  const { reader } = deps;
  const known = new Map(frame.rooms.map((r) => [r.room, r.lastSeq]));
  // Groups the user left count only when the device still holds entries before the leaving.
  const rooms = (await deps.relational.roomsOf(conn.user.id, { former: true })).filter(
    (r) => r.own.leftSeq === null || (known.get(r.id) ?? Infinity) < r.own.leftSeq,
  );
  // Most users have nothing withheld: one read for every room of the sync.
  const [withheld, own] = await Promise.all([deps.privacy.withheldOf(conn.user.id), deps.cache.ensure(conn.user.id)]);
  const summaries: Array<Omit<RoomSummary, 'members'> & { memberIds: number[]; roles?: Record<string, GroupRole>; joined?: Record<string, number> }> = [];

  for (const room of rooms) {
    const group = room.kind === 'group';
    const left = room.own.leftSeq;
    // A group member sees their window of the log: from their joining to their leaving.
    const bounds = group ? { from: room.own.joinedSeq, ...(left !== null ? { to: left } : {}) } : undefined;
    let lastSeq = known.get(room.id);
    if (lastSeq === undefined) {
      const page = withholdIn(await reader.page(room.id, { before: undefined }, FIRST_PAGE, bounds), withheld.get(room.id) ?? NONE);
      if (page.messages.length > 0) await reader.write(conn, room.id, page, frame.ref);
      lastSeq = page.messages.at(-1)?.seq ?? 0;
    } else {
      let sent = false;
      for (let more = true; more && conn.open; ) {
        const page = withholdIn(await reader.page(room.id, { after: lastSeq }, SYNC_PAGE, bounds), withheld.get(room.id) ?? NONE);
        if (page.messages.length === 0) break;
        await reader.write(conn, room.id, page, frame.ref);
        lastSeq = page.messages.at(-1)!.seq;
        sent = true;
        more = page.hasMore;
      }
      // Nothing missed: report the store's last seq, not the client's claim.
      if (!sent) lastSeq = left ?? (await deps.history.lastSeq(room.id));
    }
    if (!conn.open) return;
    if (left !== null) {
      summaries.push({ room: room.id, kind: 'group', name: room.name ?? '', memberIds: [], lastSeq: left, delivered: {}, read: {}, joinedSeq: room.own.joinedSeq, left });
      continue;
    }
    summaries.push({
      room: room.id,
      kind: room.kind,
      memberIds: room.members,
      lastSeq,
      delivered: room.delivered,
      read: room.read,
      ...(room.own.muted ? { muted: true } : {}),
      ...(room.avatarUrl ? { avatarUrl: room.avatarUrl } : {}),
      ...(group ? { name: room.name ?? '', joinedSeq: room.own.joinedSeq, roles: room.roles ?? {}, joined: room.joined ?? {} } : {}),
    });
  }

  const ids = [...new Set(summaries.flatMap((s) => s.memberIds))];
  const [users, presence, hidden, settings] = await Promise.all([
    deps.relational.getUsers(ids),
    presenceOf(ids, deps),
    deps.relational.hiddenOf(conn.user.id, summaries.map((s) => s.room), LIMITS.hiddenPerRoomMax),
    deps.privacy.settingsOf(ids),
  ]);
  // Presence and read marks as this user may see them (docs/protocol.md, "Privacy settings").
  const viewer: Viewer = {
    id: conn.user.id,
    blocks: new Set([...own.blocked, ...own.blockedBy]),
    contacts: new Set(rooms.filter((r) => r.kind === 'direct').flatMap((r) => r.members)),
    seesReads: own.settings.readReceipts,
  };
  const members = new Map(
    users.map((u) => {
      if (!seesPresence(viewer, u.id, settings.get(u.id))) return [u.id, { ...u, online: false }];
      const p = presence.get(u.id);
      const online = p?.online ?? false;
      return [u.id, { ...u, online, ...(!online && p?.lastSeen != null ? { lastSeen: p.lastSeen } : {}) }];
    }),
  );
  if (!conn.open) return;
  conn.reply({
    type: 'sync.done',
    ...(frame.ref ? { ref: frame.ref } : {}),
    rooms: summaries.map(({ memberIds, roles, joined, ...s }) => ({
      ...s,
      ...visibleMarks(viewer, s, settings),
      ...(hidden.has(s.room) ? { hidden: hidden.get(s.room)! } : {}),
      members: memberIds.flatMap((id) => {
        const m = members.get(id);
        if (!m) return [];
        return roles ? [{ ...m, ...(roles[id] ? { role: roles[id] } : {}), ...(joined?.[id] !== undefined ? { joinedSeq: joined[id] } : {}) }] : [m];
      }),
    })),
  });
}

const NONE: ReadonlySet<number> = new Set();

/** Presence of the members in one lookup; an outage shows everyone offline rather than failing the sync. */
async function presenceOf(ids: number[], deps: SyncDeps): Promise<Map<number, UserPresence>> {
  try {
    return await deps.presence.presenceOf(ids);
  } catch (err) {
    deps.log.warn({ err }, 'presence lookup failed during sync');
    return new Map();
  }
}
