/** PrivacyStore on knex (migration 009_privacy), the same code on PostgreSQL and PGlite. */
import type { Knex } from 'knex';
import type { LastSeenVisibility, PrivacySettings } from '../protocol/http.ts';
import { DEFAULT_PRIVACY, type BlockRecord, type PrivacyRecord, type PrivacyStore } from './privacy.port.ts';

interface SettingsRow {
  user_id: number;
  last_seen: LastSeenVisibility;
  read_receipts: boolean;
}

const toSettings = (r: SettingsRow | undefined): PrivacySettings => (r ? { lastSeen: r.last_seen, readReceipts: r.read_receipts } : { ...DEFAULT_PRIVACY });

export class KnexPrivacyStore implements PrivacyStore {
  private readonly db: Knex;

  constructor(db: Knex) {
    this.db = db;
  }

  async block(blocker: number, blocked: number): Promise<void> {
    await this.db('blocks').insert({ blocker_id: blocker, blocked_id: blocked }).onConflict(['blocker_id', 'blocked_id']).ignore();
  }

  async unblock(blocker: number, blocked: number): Promise<void> {
    await this.db('blocks').where({ blocker_id: blocker, blocked_id: blocked }).delete();
  }

  async blocksOf(blocker: number): Promise<BlockRecord[]> {
    const rows: Array<{ blocked_id: number; created_at: Date | string }> = await this.db('blocks')
      .select('blocked_id', 'created_at')
      .where('blocker_id', blocker)
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'blocked_id', order: 'desc' }]);
    return rows.map((r) => ({ user: r.blocked_id, since: new Date(r.created_at).getTime() }));
  }

  async recordOf(user: number): Promise<PrivacyRecord> {
    // One statement: the settings row (if any) and both directions of the user's blocks.
    const rows: Array<{ kind: 'settings' | 'blocked' | 'by'; other: number | null; last_seen: LastSeenVisibility | null; read_receipts: boolean | null }> = (
      await this.db.raw(
        `SELECT 'settings' AS kind, NULL::int AS other, last_seen, read_receipts FROM privacy_settings WHERE user_id = ?
         UNION ALL SELECT 'blocked', blocked_id, NULL, NULL FROM blocks WHERE blocker_id = ?
         UNION ALL SELECT 'by', blocker_id, NULL, NULL FROM blocks WHERE blocked_id = ?`,
        [user, user, user],
      )
    ).rows;
    const record: PrivacyRecord = { settings: { ...DEFAULT_PRIVACY }, blocked: [], blockedBy: [] };
    for (const r of rows) {
      if (r.kind === 'settings') record.settings = { lastSeen: r.last_seen!, readReceipts: r.read_receipts! };
      else (r.kind === 'blocked' ? record.blocked : record.blockedBy).push(Number(r.other));
    }
    return record;
  }

  async settingsOf(users: readonly number[]): Promise<Map<number, PrivacySettings>> {
    const rows: SettingsRow[] = users.length === 0 ? [] : await this.db('privacy_settings').select('user_id', 'last_seen', 'read_receipts').whereIn('user_id', [...users]);
    const found = new Map(rows.map((r) => [r.user_id, r]));
    return new Map(users.map((u) => [u, toSettings(found.get(u))]));
  }

  async setSettings(user: number, change: Partial<PrivacySettings>): Promise<PrivacySettings> {
    const fields: Record<string, unknown> = {};
    if (change.lastSeen !== undefined) fields.last_seen = change.lastSeen;
    if (change.readReceipts !== undefined) fields.read_receipts = change.readReceipts;
    const [row]: SettingsRow[] = await this.db('privacy_settings')
      .insert({ user_id: user, ...fields })
      .onConflict('user_id')
      .merge({ ...fields, updated_at: this.db.fn.now() })
      .returning(['user_id', 'last_seen', 'read_receipts']);
    return toSettings(row);
  }

  async withhold(user: number, room: string, seq: number): Promise<void> {
    await this.db('hidden_messages')
      .insert({ user_id: user, room_id: room, seq, withheld: true })
      .onConflict(['user_id', 'room_id', 'seq'])
      .merge({ withheld: true });
  }

  async withheldIn(user: number, room: string, from: number, to: number): Promise<number[]> {
    const rows: Array<{ seq: number | string }> = await this.db('hidden_messages').select('seq').where({ user_id: user, room_id: room, withheld: true }).whereBetween('seq', [from, to]).orderBy('seq');
    return rows.map((r) => Number(r.seq));
  }

  async withheldOf(user: number): Promise<Map<string, Set<number>>> {
    const rows: Array<{ room_id: string; seq: number | string }> = await this.db('hidden_messages').select('room_id', 'seq').where({ user_id: user, withheld: true });
    const out = new Map<string, Set<number>>();
    for (const r of rows) {
      let set = out.get(r.room_id);
      if (!set) out.set(r.room_id, (set = new Set()));
      set.add(Number(r.seq));
    }
    return out;
  }
}
