/**
 * The RelationalStore on knex + Objection; the same code runs on PostgreSQL and on PGlite.
 */
import type { Knex } from 'knex';
import { UniqueViolationError } from 'objection';
import { directRoomId } from '../protocol/frames.ts';
import { ChatroomModel } from './models/chatroom.model.ts';
import { MembershipModel } from './models/membership.model.ts';
import { UserModel } from './models/user.model.ts';
import type { RelationalStore, RoomRecord, UserRecord, Watermarks, WatermarkUpdate } from './relational.port.ts';
import { HandleTakenError } from './store.errors.ts';

const toUser = (u: UserModel): UserRecord => ({ id: u.id, handle: u.handle, displayName: u.display_name });

export class KnexRelationalStore implements RelationalStore {
  private readonly db: Knex;

  constructor(db: Knex) {
    this.db = db;
  }

  async createUser(handle: string, displayName: string): Promise<UserRecord> {
    try {
      const user = await UserModel.query(this.db).insert({ handle: handle.toLowerCase(), display_name: displayName });
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
    const user = await UserModel.query(this.db).findOne({ handle: handle.toLowerCase() });
    return user ? toUser(user) : null;
  }

  async openDirectRoom(a: number, b: number): Promise<(RoomRecord & Watermarks) | null> {
    const id = directRoomId(a, b);
    const existing = await this.getRoom(id);
    if (existing) return existing;
    const members = a < b ? [a, b] : [b, a];
    if ((await this.getUsers(members)).length !== new Set(members).size) return null;
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
    const room = await ChatroomModel.query(this.db).findById(id).withGraphFetched('memberships');
    if (!room) return null;
    const memberships = (room.memberships ?? []).sort((x, y) => x.user_id - y.user_id);
    return {
      id: room.id,
      kind: room.kind,
      members: memberships.map((m) => m.user_id),
      delivered: Object.fromEntries(memberships.map((m) => [m.user_id, Number(m.delivered_seq)])),
      read: Object.fromEntries(memberships.map((m) => [m.user_id, Number(m.read_seq)])),
    };
  }

  async roomsOf(userId: number): Promise<Array<RoomRecord & Watermarks>> {
    const rows = await MembershipModel.query(this.db)
      .join('chatrooms', 'chatrooms.id', 'memberships.room_id')
      .whereIn('memberships.room_id', MembershipModel.query(this.db).select('room_id').where('user_id', userId))
      .select('memberships.*', 'chatrooms.kind')
      .orderBy(['memberships.room_id', 'memberships.user_id']);
    const rooms = new Map<string, RoomRecord & Watermarks>();
    for (const row of rows as Array<MembershipModel & { kind: 'direct' }>) {
      let room = rooms.get(row.room_id);
      if (!room) {
        room = { id: row.room_id, kind: row.kind, members: [], delivered: {}, read: {} };
        rooms.set(row.room_id, room);
      }
      room.members.push(row.user_id);
      room.delivered[row.user_id] = Number(row.delivered_seq);
      room.read[row.user_id] = Number(row.read_seq);
    }
    return [...rooms.values()];
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
