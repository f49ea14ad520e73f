/** The AccountStore on knex; the same code runs on PostgreSQL and on PGlite. */
import type { Knex } from 'knex';
import type { AccountStore, EraseOutcome } from './account.port.ts';

/** The tables holding only the user's own ways in and settings: emptied of the user's rows. */
const OWN_TABLES = ['passkeys', 'identities', 'push_subscriptions', 'notification_prefs', 'hidden_messages'] as const;

export class KnexAccountStore implements AccountStore {
  private readonly db: Knex;

  constructor(db: Knex) {
    this.db = db;
  }

  async erase(userId: number, at: number): Promise<EraseOutcome> {
    return this.db.transaction(async (trx) => {
      // Locked, so two deletions racing (two tabs) erase once and the second is told.
      const row: { deleted_at: Date | string | null } | undefined = await trx('users').where({ id: userId }).forUpdate().first('deleted_at');
      if (!row) return { kind: 'not_found' };
      if (row.deleted_at !== null) return { kind: 'already_deleted', deletedAt: new Date(row.deleted_at).getTime() };
      for (const table of OWN_TABLES) await trx(table).where({ user_id: userId }).del();
      await trx('users').where({ id: userId }).update({ display_name: '', avatar_url: null, webauthn_id: null, deleted_at: new Date(at) });
      return { kind: 'erased', deletedAt: at };
    });
  }

  async emailSettings(userId: number): Promise<{ email: string | null; emailDigest: boolean }> {
    const row: { email: string | null; email_digest: boolean } | undefined = await this.db('notification_prefs').first('email', 'email_digest').where({ user_id: userId });
    return { email: row?.email ?? null, emailDigest: row?.email_digest ?? true };
  }
}
