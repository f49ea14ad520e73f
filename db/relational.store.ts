/**
 * The RelationalStore on knex + Objection; the same code runs on PostgreSQL and on PGlite.
 */
import type { Knex } from 'knex';
import { UniqueViolationError } from 'objection';
import { directRoomId } from '../protocol/frames.ts';
import { UserModel } from './models/user.model.ts';
import type { GroupRole, Message, RoomKind } from '../protocol/frames.ts';
import type { OwnMembership, RelationalStore, RoomRecord, UserRecord, Watermarks, WatermarkUpdate } from './relational.port.ts';
import { HandleTakenError } from './store.errors.ts';
import { DEFAULT_HANDLE_HOLD, releaseExpiredHandle, type HandleHold } from './handle.hold.ts';

/** A deleted account keeps its id and nothing else: clients show it as "Deleted account". */
const toUser = (u: UserModel): UserRecord => (u.deleted_at ? { id: u.id, handle: '', displayName: '', deleted: true } : { id: u.id, handle: u.handle ?? '', displayName: u.display_name, ...(u.avatar_url ? { avatarUrl: u.avatar_url } : {}) });

const MEMBERSHIP_COLUMNS = ['user_id', 'role', 'joined_seq', 'left_seq', 'muted', 'delivered_seq', 'read_seq'] as const;

interface MembershipRow {
  user_id: number;
  role: GroupRole | null;
  joined_seq: number | string;
  left_seq: number | string | null;
  muted: boolean;
  delivered_seq: number | string;
  read_seq: number | string;
}

interface ChatroomRow {
  id: string;
  kind: RoomKind;
  name: string | null;
  members_seq: number | string;
  avatar_url: string | null;
}

function toRoom(c: ChatroomRow): RoomRecord & Watermarks {
  const room: RoomRecord & Watermarks = { id: c.id, kind: c.kind, members: [], delivered: {}, read: {} };
  if (c.kind === 'group') Object.assign(room, { name: c.name ?? '', roles: {}, joined: {}, membersSeq: Number(c.members_seq), ...(c.avatar_url ? { avatarUrl: c.avatar_url } : {}) });
  return room;
}

function addMember(room: RoomRecord & Watermarks, m: MembershipRow): void {
  room.members.push(m.user_id);
  room.delivered[m.user_id] = Number(m.delivered_seq);
  room.read[m.user_id] = Number(m.read_seq);
  if (room.roles && m.role) room.roles[m.user_id] = m.role;
  if (room.joined) room.joined[m.user_id] = Number(m.joined_seq);
}

const toOwn = (m: MembershipRow): OwnMembership => ({ joinedSeq: Number(m.joined_seq), leftSeq: m.left_seq === null ? null : Number(m.left_seq), muted: m.muted });

/** One membership as the event at `seq` leaves it, unless a later event was written already. */
async function setMember(trx: Knex.Transaction, room: string, user: number, seq: number, fields: Record<string, unknown>): Promise<void> {
  await trx('memberships')
    .insert({ room_id: room, user_id: user, changed_seq: seq, joined_seq: seq, ...fields })
    .onConflict(['room_id', 'user_id'])
    .merge({ ...fields, changed_seq: seq })
    .where('memberships.changed_seq', '<', seq);
}

export class KnexRelationalStore implements RelationalStore {
  private readonly db: Knex;
  private readonly hold: HandleHold;

  /** @param hold how long a deleted account's handle stays held, and on which clock (default 30 days, real time) */
  constructor(db: Knex, hold: HandleHold = DEFAULT_HANDLE_HOLD) {
    this.db = db;
    this.hold = hold;
  }

  async createUser(handle: string, displayName: string): Promise<UserRecord> {
    try {
      const user = await this.db.transaction(async (trx) => {
        await releaseExpiredHandle(trx, handle.toLowerCase(), this.hold);
        return UserModel.query(trx).insert({ handle: handle.toLowerCase(), display_name: displayName });
      });
      return toUser(user);
    } catch (err) {
      if (err instanceof UniqueViolationError) throw new HandleTakenError(handle);
      throw err;
    }
  }

  async getUser(id: number): Promise<UserRecord | null> {
    const user = await UserModel.query(this.db).findById(id);
    return user ? toUser(user) : null;
  }

  async getUsers(ids: readonly number[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const users = await UserModel.query(this.db).whereIn('id', [...ids]).orderBy('id');
    return users.map(toUser);
  }

  async findUserByHandle(handle: string): Promise<UserRecord | null> {
    const user = await UserModel.query(this.db).findOne({ handle: handle.toLowerCase() }).whereNull('deleted_at');
    return user ? toUser(user) : null;
  }

  async openDirectRoom(a: number, b: number): Promise<(RoomRecord & Watermarks) | null> {
    const id = directRoomId(a, b);
    const existing = await this.getRoom(id);
    if (existing) return existing;
    const members = a < b ? [a, b] : [b, a];
    // Nobody opens a new chat with a deleted account.
    if ((await this.getUsers(members)).filter((u) => !u.deleted).length !== new Set(members).size) return null;
    // ON CONFLICT DO NOTHING: two nodes may create the same room at once; both then read it back.
    await this.db.transaction(async (trx) => {
      await trx('chatrooms').insert({ id, kind: 'direct' }).onConflict('id').ignore();
      await trx('memberships')
        .insert(members.map((user_id) => ({ room_id: id, user_id })))
        .onConflict(['room_id', 'user_id'])
        .ignore();
    });
    return (await this.getRoom(id))!;
  }

  async getRoom(id: string): Promise<(RoomRecord & Watermarks) | null> {
    const room: ChatroomRow | undefined = await this.db('chatrooms').first('id', 'kind', 'name', 'members_seq', 'avatar_url').where('id', id);
    if (!room) return null;
    const rows: MembershipRow[] = await this.db('memberships').select(MEMBERSHIP_COLUMNS).where('room_id', id).whereNull('left_seq').orderBy('user_id');
    const record = toRoom(room);
    for (const row of rows) addMember(record, row);
    return record;
  }

  async roomsOf(userId: number, options: { former?: boolean } = {}): Promise<Array<RoomRecord & Watermarks & { own: OwnMembership }>> {
    const mine = this.db('memberships').select('room_id').where('user_id', userId);
    if (!options.former) mine.whereNull('left_seq');
    const rows: Array<MembershipRow & ChatroomRow & { room_id: string }> = await this.db('memberships as m')
      .join('chatrooms as c', 'c.id', 'm.room_id')
      .whereIn('m.room_id', mine)
      .andWhere((q) => q.whereNull('m.left_seq').orWhere('m.user_id', userId))
      .select([...MEMBERSHIP_COLUMNS.map((c) => `m.${c}`), 'm.room_id', 'c.id', 'c.kind', 'c.name', 'c.members_seq', 'c.avatar_url'])
      .orderBy(['m.room_id', 'm.user_id']);
    const rooms = new Map<string, RoomRecord & Watermarks & { own: OwnMembership }>();
    for (const row of rows) {
      let room = rooms.get(row.room_id);
      if (!room) {
        room = { ...toRoom(row), own: { joinedSeq: 0, leftSeq: null, muted: false } };
        rooms.set(row.room_id, room);
      }
      if (row.user_id === userId) room.own = toOwn(row);
      if (row.left_seq === null) addMember(room, row);
    }
    return [...rooms.values()];
  }

  async membershipOf(room: string, userId: number): Promise<OwnMembership | null> {
    const row: MembershipRow | undefined = await this.db('memberships').first(MEMBERSHIP_COLUMNS).where({ room_id: room, user_id: userId });
    return row ? toOwn(row) : null;
  }

  async applyGroupEvents(events: readonly Message[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction(async (trx) => {
      for (const m of [...events].sort((a, b) => a.seq - b.seq)) {
        const e = m.event;
        if (!e) continue;
        const seq = m.seq;
        switch (e.type) {
          case 'room.created':
            await trx('chatrooms').insert({ id: m.room, kind: 'group', name: e.name, name_seq: seq, creator: m.sender }).onConflict('id').ignore();
            for (const { user, role } of e.members) await setMember(trx, m.room, user, seq, { role, joined_seq: seq, left_seq: null });
            break;
          case 'room.renamed':
            await trx('chatrooms').where('id', m.room).andWhere('name_seq', '<', seq).update({ name: e.name, name_seq: seq });
            break;
          case 'member.added':
            await setMember(trx, m.room, e.user, seq, { role: e.role, joined_seq: seq, left_seq: null, delivered_seq: 0, read_seq: 0 });
            break;
          case 'member.removed':
          case 'member.left':
            await setMember(trx, m.room, e.user, seq, { left_seq: seq });
            break;
          case 'member.role':
            await setMember(trx, m.room, e.user, seq, { role: e.role });
            break;
        }
        await trx('chatrooms').where('id', m.room).andWhere('members_seq', '<', seq).update({ members_seq: seq });
      }
    });
  }

  async countGroupsOf(userIds: readonly number[]): Promise<Map<number, number>> {
    const counts = new Map(userIds.map((u) => [u, 0]));
    if (userIds.length === 0) return counts;
    const rows: Array<{ user_id: number; n: number | string }> = await this.db('memberships as m')
      .join('chatrooms as c', 'c.id', 'm.room_id')
      .where('c.kind', 'group')
      .whereNull('m.left_seq')
      .whereIn('m.user_id', [...userIds])
      .groupBy('m.user_id')
      .select('m.user_id')
      .count({ n: '*' });
    for (const r of rows) counts.set(r.user_id, Number(r.n));
    return counts;
  }

  async setRoomAvatar(room: string, avatarUrl: string | null): Promise<string | null> {
    return this.db.transaction(async (trx) => {
      const before = await trx('chatrooms').forUpdate().first('avatar_url').where({ id: room, kind: 'group' });
      if (!before) return null;
      await trx('chatrooms').where('id', room).update({ avatar_url: avatarUrl });
      return (before.avatar_url as string | null) ?? null;
    });
  }

  async setMuted(room: string, userId: number, muted: boolean): Promise<boolean> {
    // returning(): knex-pglite does not report affected row counts.
    const rows = await this.db('memberships').where({ room_id: room, user_id: userId }).whereNull('left_seq').update({ muted }).returning('user_id');
    return rows.length > 0;
  }

  async hideMessage(userId: number, room: string, seq: number): Promise<void> {
    await this.db('hidden_messages').insert({ user_id: userId, room_id: room, seq }).onConflict(['user_id', 'room_id', 'seq']).ignore();
  }

  async hiddenOf(userId: number, rooms: readonly string[], perRoomMax?: number): Promise<Map<string, number[]>> {
    const hidden = new Map<string, number[]>();
    if (rooms.length === 0) return hidden;
    // Newest first per room, numbered, so a room with many hidden seqs sends only its newest.
    const rows: Array<{ room_id: string; seq: number | string }> = (
      await this.db.raw(
        `SELECT room_id, seq FROM (
           SELECT room_id, seq, row_number() OVER (PARTITION BY room_id ORDER BY seq DESC) AS n
             FROM hidden_messages WHERE user_id = ? AND room_id = ANY(?::text[])
         ) h WHERE n <= ? ORDER BY room_id, seq`,
        [userId, [...rooms], perRoomMax ?? Number.MAX_SAFE_INTEGER] as Knex.Value[],
      )
    ).rows;
    for (const r of rows) hidden.set(r.room_id, [...(hidden.get(r.room_id) ?? []), Number(r.seq)]);
    return hidden;
  }

  async raiseWatermarks(updates: readonly WatermarkUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    // One statement for the whole batch; GREATEST keeps a late, lower watermark from moving back.
    await this.db.raw(
      `UPDATE memberships m
          SET delivered_seq = GREATEST(m.delivered_seq, COALESCE(v.delivered, 0)),
              read_seq = GREATEST(m.read_seq, COALESCE(v.read, 0))
         FROM unnest(?::text[], ?::int[], ?::bigint[], ?::bigint[]) AS v(room_id, user_id, delivered, read)
        WHERE m.room_id = v.room_id AND m.user_id = v.user_id`,
      [
        updates.map((u) => u.room),
        updates.map((u) => u.user),
        updates.map((u) => u.delivered ?? null),
        updates.map((u) => u.read ?? null),
      ] as Knex.Value[],
    );
  }

  async ping(): Promise<void> {
    await this.db.raw('select 1');
  }
}
