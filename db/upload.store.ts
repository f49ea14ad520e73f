/** UploadStore on knex (migration 011_attachments), the same code on PostgreSQL and PGlite. */
import type { Knex } from 'knex';
import type { NewUpload, UploadClaim, UploadRecord, UploadStore } from './upload.port.ts';

interface UploadRow {
  id: string;
  owner_id: number;
  blob_key: string;
  thumb_key: string | null;
  name: string;
  type: string;
  ext: string | null;
  size: number | string;
  sha256: string;
  width: number | null;
  height: number | null;
  placeholder: string | null;
  created_at: number | string;
  claimed_room: string | null;
  claimed_msg: string | null;
  claimed_at: number | string | null;
  claimed_seq: number | string | null;
}

function toRecord(r: UploadRow): UploadRecord {
  const u: UploadRecord = {
    id: r.id,
    owner: Number(r.owner_id),
    blobKey: r.blob_key,
    thumbKey: r.thumb_key,
    name: r.name,
    type: r.type,
    ext: r.ext,
    size: Number(r.size),
    sha256: r.sha256,
    createdAt: Number(r.created_at),
    claim:
      r.claimed_room !== null && r.claimed_msg !== null
        ? { room: r.claimed_room, clientMsgId: r.claimed_msg, at: Number(r.claimed_at), seq: r.claimed_seq === null ? null : Number(r.claimed_seq) }
        : null,
  };
  if (r.width !== null && r.height !== null) {
    u.width = r.width;
    u.height = r.height;
  }
  if (r.placeholder !== null) u.placeholder = r.placeholder;
  return u;
}

export class KnexUploadStore implements UploadStore {
  private readonly db: Knex;

  constructor(db: Knex) {
    this.db = db;
  }

  async create(u: NewUpload, quotaBytes: number): Promise<boolean> {
    // One statement: the row goes in only while the owner's total stays within the quota.
    const { rows } = await this.db.raw(
      `INSERT INTO uploads (id, owner_id, blob_key, thumb_key, name, type, ext, size, sha256, width, height, placeholder, created_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
        WHERE (SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner_id = ?) + ? <= ?
       RETURNING id`,
      [u.id, u.owner, u.blobKey, u.thumbKey, u.name, u.type, u.ext, u.size, u.sha256, u.width ?? null, u.height ?? null, u.placeholder ?? null, u.createdAt, u.owner, u.size, quotaBytes],
    );
    return (rows as unknown[]).length === 1;
  }

  async get(id: string): Promise<UploadRecord | null> {
    const row: UploadRow | undefined = await this.db('uploads').where({ id }).first();
    return row ? toRecord(row) : null;
  }

  async bytesOf(owner: number): Promise<number> {
    const row = (await this.db('uploads').where({ owner_id: owner }).sum({ total: 'size' }).first()) as { total: number | string | null } | undefined;
    return Number(row?.total ?? 0);
  }

  async claim(owner: number, ids: readonly string[], claim: Omit<UploadClaim, 'seq'>): Promise<UploadRecord[] | null> {
    if (new Set(ids).size !== ids.length) return null;
    return this.db.transaction(async (trx) => {
      // Locked, so two messages racing for one upload cannot both claim it.
      const rows: UploadRow[] = await trx('uploads').whereIn('id', ids).forUpdate();
      const ok = rows.length === ids.length && rows.every((r) => Number(r.owner_id) === owner && (r.claimed_room === null || (r.claimed_room === claim.room && r.claimed_msg === claim.clientMsgId)));
      if (!ok) return null;
      const fresh = rows.filter((r) => r.claimed_room === null).map((r) => r.id);
      if (fresh.length) await trx('uploads').whereIn('id', fresh).update({ claimed_room: claim.room, claimed_msg: claim.clientMsgId, claimed_at: claim.at });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => {
        const r = byId.get(id)!;
        return toRecord(r.claimed_room === null ? { ...r, claimed_room: claim.room, claimed_msg: claim.clientMsgId, claimed_at: claim.at } : r);
      });
    });
  }

  async release(ids: readonly string[], room: string, clientMsgId: string): Promise<void> {
    await this.db('uploads').whereIn('id', ids).where({ claimed_room: room, claimed_msg: clientMsgId }).whereNull('claimed_seq').update({ claimed_room: null, claimed_msg: null, claimed_at: null });
  }

  async settle(ids: readonly string[], room: string, clientMsgId: string, seq: number): Promise<void> {
    await this.db('uploads').whereIn('id', ids).where({ claimed_room: room, claimed_msg: clientMsgId }).update({ claimed_seq: seq });
  }

  async ofMessage(room: string, seq: number): Promise<UploadRecord[]> {
    const rows: UploadRow[] = await this.db('uploads').where({ claimed_room: room, claimed_seq: seq }).orderBy('id');
    return rows.map(toRecord);
  }

  async unsettledBefore(cutoff: number, limit: number): Promise<UploadRecord[]> {
    const rows: UploadRow[] = await this.db('uploads')
      .whereNull('claimed_seq')
      .where((q) => q.where((u) => u.whereNull('claimed_at').where('created_at', '<', cutoff)).orWhere('claimed_at', '<', cutoff))
      .orderBy('created_at')
      .limit(limit);
    return rows.map(toRecord);
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.db('uploads').whereIn('id', ids).delete();
  }
}
