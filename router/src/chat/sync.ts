/**
 * Resync after a gap: for every room of the user, the messages after the seq the client says it
 * has (or, for a room this device has never seen, the latest page), then `sync.done` with each
 * room's members, last seq and receipt watermarks. Rooms the client names but is not a member of
 * are ignored: membership comes from the store, never from the request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientFrame, RoomSummary } from '../../../protocol/frames.ts';
import type { UserPresence } from '../../../db/presence.port.ts';
import type { Connection } from '../socket/connection.ts';
import type { RouterContext } from '../router.context.ts';

/** Messages per `history.page` frame during a sync. */
const SYNC_PAGE = 200;
/** Messages a never-seen room starts with; older ones are paged in with history.get. */
const FIRST_PAGE = 50;

type SyncFrame = Extract<ClientFrame, { type: 'sync' }>;

/** Streams what the client missed, in seq order per room, then `sync.done`. */
export async function syncRooms(conn: Connection, frame: SyncFrame, ctx: RouterContext): Promise<void> {
  const ref = frame.ref ? { ref: frame.ref } : {};
  const known = new Map(frame.rooms.map((r) => [r.room, r.lastSeq]));
  const rooms = await ctx.relational.roomsOf(conn.user.id);
  const summaries: Array<Omit<RoomSummary, 'members'> & { memberIds: number[] }> = [];

  for (const room of rooms) {
    let lastSeq = known.get(room.id);
    if (lastSeq === undefined) {
      const rows = await ctx.history.before(room.id, undefined, FIRST_PAGE + 1);
      const messages = rows.slice(0, FIRST_PAGE).reverse();
      if (messages.length > 0) {
        conn.send({ type: 'history.page', ...ref, room: room.id, messages, hasMore: rows.length > FIRST_PAGE });
      }
      lastSeq = messages.at(-1)?.seq ?? 0;
    } else {
      let sent = false;
      for (;;) {
        const messages = await ctx.history.after(room.id, lastSeq, SYNC_PAGE);
        if (messages.length === 0) break;
        await roomToWrite(conn, ctx);
        conn.send({ type: 'history.page', ...ref, room: room.id, messages, hasMore: messages.length === SYNC_PAGE });
        lastSeq = messages.at(-1)!.seq;
        sent = true;
        if (messages.length < SYNC_PAGE) break;
      }
      // Nothing missed: report the store's last seq, not the client's claim.
      if (!sent) lastSeq = await ctx.history.lastSeq(room.id);
    }
    if (!conn.open) return;
    summaries.push({ room: room.id, memberIds: room.members, lastSeq, delivered: room.delivered, read: room.read });
  }

  const ids = [...new Set(summaries.flatMap((s) => s.memberIds))];
  const [users, presence] = await Promise.all([ctx.relational.getUsers(ids), presenceOf(ids, ctx)]);
  const members = new Map(
    users.map((u) => {
      const p = presence.get(u.id);
      const online = p?.online ?? false;
      return [u.id, { ...u, online, ...(!online && p?.lastSeen != null ? { lastSeen: p.lastSeen } : {}) }];
    }),
  );
  if (!conn.open) return;
  conn.send({
    type: 'sync.done',
    ...ref,
    rooms: summaries.map(({ memberIds, ...s }) => ({ ...s, members: memberIds.flatMap((id) => members.get(id) ?? []) })),
  });
}

/** Presence of the members in one lookup; an outage shows everyone offline rather than failing the sync. */
async function presenceOf(ids: number[], ctx: RouterContext): Promise<Map<number, UserPresence>> {
  try {
    return await ctx.presence.presenceOf(ids);
  } catch (err) {
    ctx.log.warn({ err }, 'presence lookup failed during sync');
    return new Map();
  }
}

/**
 * Waits while the socket has more than half its send buffer queued, so a long sync streams at the
 * client's pace instead of tripping the slow-consumer limit.
 */
async function roomToWrite(conn: Connection, ctx: RouterContext): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (conn.open && conn.buffered > ctx.config.sendBufferMaxBytes / 2) {
    if (Date.now() > deadline) return conn.close('slow_consumer');
    await sleep(10);
  }
}
