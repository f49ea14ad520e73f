/**
 * The AuthStore on knex; the same code runs on PostgreSQL and on PGlite. Removing a way in locks
 * the user's row first, so two concurrent removals cannot both pass the "not the last one" check.
 */
import type { Knex } from 'knex';
import type {
  AuthStore,
  IdentityRecord,
  NewIdentity,
  NewPasskey,
  PasskeyInfo,
  PasskeyRecord,
  RemoveOutcome,
  UserProfile,
} from './auth.port.ts';
import { DEFAULT_HANDLE_HOLD, isHandleHeld, releaseExpiredHandle, type HandleHold } from './handle.hold.ts';
import { HandleTakenError, IdentityTakenError, isUniqueViolation, PasskeyTakenError } from './store.errors.ts';

interface UserRow {
  id: number;
  handle: string | null;
  display_name: string;
  avatar_url: string | null;
  deleted_at?: Date | string | null;
}

/** A deleted account keeps its id and nothing else: clients show it as "Deleted account". */
const toProfile = (u: UserRow): UserProfile =>
  u.deleted_at ? { id: u.id, handle: '', displayName: '', avatarUrl: null, deleted: true } : { id: u.id, handle: u.handle ?? '', displayName: u.display_name, avatarUrl: u.avatar_url ?? null };
const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
interface PasskeyRow {
  id: string;
  name: string;
  device_type: string;
  backed_up: boolean;
  created_at: Date | string;
  last_used_at: Date | string | null;
}

const toPasskeyInfo = (r: PasskeyRow): PasskeyInfo => ({
  id: r.id,
  name: r.name,
  deviceType: r.device_type,
  backedUp: r.backed_up,
  createdAt: iso(r.created_at)!,
  lastUsedAt: iso(r.last_used_at),
});

export class KnexAuthStore implements AuthStore {
  private readonly db: Knex;
  private readonly hold: HandleHold;

  /** @param hold how long a deleted account's handle stays held, and on which clock (default 30 days, real time) */
  constructor(db: Knex, hold: HandleHold = DEFAULT_HANDLE_HOLD) {
    this.db = db;
    this.hold = hold;
  }

  async profile(userId: number): Promise<UserProfile | null> {
    const row = await this.db<UserRow>('users').where({ id: userId }).first();
    return row ? toProfile(row) : null;
  }

  async profileByHandle(handle: string): Promise<UserProfile | null> {
    const row = await this.db<UserRow>('users').where({ handle: handle.toLowerCase() }).whereNull('deleted_at').first();
    return row ? toProfile(row) : null;
  }

  async handleTaken(handle: string): Promise<boolean> {
    return isHandleHeld(this.db, handle.toLowerCase(), this.hold);
  }

  async updateProfile(userId: number, change: { displayName?: string; avatarUrl?: string | null }): Promise<UserProfile | null> {
    const patch: Partial<UserRow> = {};
    if (change.displayName !== undefined) patch.display_name = change.displayName;
    if (change.avatarUrl !== undefined) patch.avatar_url = change.avatarUrl;
    if (Object.keys(patch).length) await this.db('users').where({ id: userId }).update(patch);
    return this.profile(userId);
  }

  async webauthnId(userId: number, candidate: string): Promise<string> {
    await this.db('users').where({ id: userId }).whereNull('webauthn_id').update({ webauthn_id: candidate });
    const row = await this.db('users').where({ id: userId }).first('webauthn_id');
    if (!row?.webauthn_id) throw new Error(`user ${userId} does not exist`);
    return row.webauthn_id as string;
  }

  async createUserWithPasskey(user: { handle: string; displayName: string; webauthnId: string }, passkey: NewPasskey): Promise<UserProfile> {
    return this.db.transaction(async (trx) => {
      const row = await insertUser(trx, { handle: user.handle, display_name: user.displayName, webauthn_id: user.webauthnId }, this.hold);
      await insertPasskey(trx, row.id, passkey);
      return toProfile(row);
    });
  }

  async createUserWithIdentity(user: { handle: string; displayName: string; avatarUrl: string | null }, identity: NewIdentity): Promise<UserProfile> {
    return this.db.transaction(async (trx) => {
      const row = await insertUser(trx, { handle: user.handle, display_name: user.displayName, avatar_url: user.avatarUrl }, this.hold);
      await insertIdentity(trx, row.id, identity);
      return toProfile(row);
    });
  }

  async getPasskey(id: string): Promise<PasskeyRecord | null> {
    const row = await this.db('passkeys').where({ id }).first();
    if (!row) return null;
    return { id: row.id, userId: row.user_id, publicKey: new Uint8Array(row.public_key), counter: Number(row.counter), transports: row.transports ?? [] };
  }

  async listPasskeys(userId: number): Promise<PasskeyInfo[]> {
    const rows = await this.db('passkeys').where({ user_id: userId }).orderBy('created_at');
    return rows.map(toPasskeyInfo);
  }

  async renamePasskey(userId: number, id: string, name: string): Promise<PasskeyInfo | null> {
    const [row] = await this.db('passkeys').where({ id, user_id: userId }).update({ name }).returning('*');
    return row ? toPasskeyInfo(row) : null;
  }

  async addPasskey(userId: number, passkey: NewPasskey): Promise<void> {
    await insertPasskey(this.db, userId, passkey);
  }

  async advanceCounter(id: string, counter: number): Promise<boolean> {
    const updated = await this.db('passkeys')
      .where({ id })
      .andWhere((q) => q.where('counter', '<', counter).orWhere((z) => z.where('counter', 0).andWhereRaw('?::bigint = 0', [counter])))
      .update({ counter, last_used_at: this.db.fn.now() });
    return updated === 1;
  }

  async removePasskey(userId: number, id: string): Promise<RemoveOutcome> {
    return this.#removeWayIn(userId, 'passkeys', id);
  }

  async findIdentity(provider: string, subject: string): Promise<IdentityRecord | null> {
    const row = await this.db('identities').where({ provider, subject }).first();
    return row ? toIdentity(row) : null;
  }

  async linkIdentity(userId: number, identity: NewIdentity): Promise<void> {
    await insertIdentity(this.db, userId, identity);
  }

  async listIdentities(userId: number): Promise<IdentityRecord[]> {
    const rows = await this.db('identities').where({ user_id: userId }).orderBy('id');
    return rows.map(toIdentity);
  }

  async removeIdentity(userId: number, id: number): Promise<RemoveOutcome> {
    return this.#removeWayIn(userId, 'identities', id);
  }

  /** Deletes one passkey or identity unless it is the user's last way in. */
  async #removeWayIn(userId: number, table: 'passkeys' | 'identities', id: string | number): Promise<RemoveOutcome> {
    return this.db.transaction(async (trx) => {
      const user = await trx('users').where({ id: userId }).forUpdate().first('id');
      if (!user) return 'not_found';
      const target = await trx(table).where({ user_id: userId, id }).first('id');
      if (!target) return 'not_found';
      const [p, i] = await Promise.all([
        trx('passkeys').where({ user_id: userId }).count({ n: '*' }).first(),
        trx('identities').where({ user_id: userId }).count({ n: '*' }).first(),
      ]);
      if (Number(p?.n ?? 0) + Number(i?.n ?? 0) <= 1) return 'last';
      await trx(table).where({ user_id: userId, id }).del();
      return 'removed';
    });
  }
}

/** Inserts a user inside `trx`, first freeing the handle if a deleted account held it past its grace. */
async function insertUser(trx: Knex.Transaction, row: Record<string, unknown>, hold: HandleHold): Promise<UserRow> {
  const handle = String(row.handle).toLowerCase();
  await releaseExpiredHandle(trx, handle, hold);
  try {
    const [user] = await trx('users').insert({ ...row, handle }).returning(['id', 'handle', 'display_name', 'avatar_url']);
    return user as UserRow;
  } catch (err) {
    if (isUniqueViolation(err)) throw new HandleTakenError(String(row.handle));
    throw err;
  }
}

async function insertPasskey(db: Knex, userId: number, p: NewPasskey): Promise<void> {
  try {
    await db('passkeys').insert({
      id: p.id,
      user_id: userId,
      public_key: Buffer.from(p.publicKey),
      counter: p.counter,
      transports: p.transports,
      device_type: p.deviceType,
      backed_up: p.backedUp,
      name: p.name,
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new PasskeyTakenError();
    throw err;
  }
}

async function insertIdentity(db: Knex, userId: number, i: NewIdentity): Promise<void> {
  try {
    await db('identities').insert({ user_id: userId, provider: i.provider, subject: i.subject, email: i.email, display_name: i.displayName });
  } catch (err) {
    if (isUniqueViolation(err)) throw new IdentityTakenError(i.provider);
    throw err;
  }
}

function toIdentity(r: Record<string, unknown>): IdentityRecord {
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    provider: String(r.provider),
    subject: String(r.subject),
    email: (r.email as string | null) ?? null,
    displayName: (r.display_name as string | null) ?? null,
    createdAt: iso(r.created_at as Date)!,
  };
}
