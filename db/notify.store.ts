/** NotifyStore on knex: push subscriptions and e-mail preferences (migration 003_push). */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { NotificationPrefs, NotifyStore, PushSubscriptionInput, PushSubscriptionRecord } from './notify.port.ts';

interface SubRow {
  id: number;
  user_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
}

interface PrefsRow {
  user_id: number;
  email: string | null;
  email_digest: boolean;
  unsubscribe_token: string;
  last_digest_at: Date | string | null;
}

const toSub = (r: SubRow): PushSubscriptionRecord => ({ id: r.id, userId: r.user_id, endpoint: r.endpoint, keys: { p256dh: r.p256dh, auth: r.auth } });
const toPrefs = (r: PrefsRow): NotificationPrefs => ({
  userId: r.user_id,
  email: r.email,
  emailDigest: r.email_digest,
  unsubscribeToken: r.unsubscribe_token,
  lastDigestAt: r.last_digest_at === null ? null : new Date(r.last_digest_at).getTime(),
});

export class KnexNotifyStore implements NotifyStore {
  private readonly db: Knex;

  constructor(db: Knex) {
    this.db = db;
  }

  async addSubscription(userId: number, sub: PushSubscriptionInput): Promise<PushSubscriptionRecord> {
    const [row] = await this.db<SubRow>('push_subscriptions')
      .insert({ user_id: userId, endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth })
      .onConflict('endpoint')
      .merge(['user_id', 'p256dh', 'auth'])
      .returning('*');
    return toSub(row as SubRow);
  }

  async removeSubscription(userId: number, endpoint: string): Promise<boolean> {
    // returning(): knex-pglite does not report affected row counts.
    return (await this.db('push_subscriptions').where({ user_id: userId, endpoint }).delete().returning('id')).length > 0;
  }

  async removeEndpoint(endpoint: string): Promise<void> {
    await this.db('push_subscriptions').where({ endpoint }).delete();
  }

  async subscriptionsOf(userId: number): Promise<PushSubscriptionRecord[]> {
    return (await this.db<SubRow>('push_subscriptions').where({ user_id: userId }).orderBy('id')).map(toSub);
  }

  async countSubscriptions(userId: number): Promise<number> {
    const row = await this.db('push_subscriptions').where({ user_id: userId }).count<{ n: number | string }[]>({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  async markPushSuccess(endpoint: string): Promise<void> {
    await this.db('push_subscriptions').where({ endpoint }).update({ last_success_at: this.db.fn.now() });
  }

  async prefs(userId: number): Promise<NotificationPrefs> {
    await this.db('notification_prefs').insert({ user_id: userId, unsubscribe_token: newToken() }).onConflict('user_id').ignore();
    const row = await this.db<PrefsRow>('notification_prefs').where({ user_id: userId }).first();
    return toPrefs(row as PrefsRow);
  }

  async setEmail(userId: number, email: string | null): Promise<NotificationPrefs> {
    await this.prefs(userId);
    await this.db('notification_prefs').where({ user_id: userId }).update({ email, ...(email ? { email_digest: true } : {}) });
    return this.prefs(userId);
  }

  async unsubscribe(token: string): Promise<boolean> {
    return (await this.db('notification_prefs').where({ unsubscribe_token: token }).update({ email_digest: false }).returning('user_id')).length > 0;
  }

  async digestCandidates(notSince: number, limit: number): Promise<NotificationPrefs[]> {
    const rows = await this.db<PrefsRow>('notification_prefs as p')
      .select('p.*')
      .whereNotNull('p.email')
      .andWhere('p.email_digest', true)
      .andWhere((q) => q.whereNull('p.last_digest_at').orWhere('p.last_digest_at', '<', new Date(notSince)))
      .whereNotExists((q) => q.select(this.db.raw('1')).from('push_subscriptions as s').whereRaw('s.user_id = p.user_id'))
      .orderByRaw('p.last_digest_at asc nulls first')
      .limit(limit);
    return rows.map(toPrefs);
  }

  async roomNotice(userId: number, room: string): Promise<{ muted: boolean; readSeq: number } | null> {
    const row: { muted: boolean; read_seq: number | string } | undefined = await this.db('memberships')
      .first('muted', 'read_seq')
      .where({ room_id: room, user_id: userId })
      .whereNull('left_seq');
    return row ? { muted: row.muted, readSeq: Number(row.read_seq) } : null;
  }

  async markDigestSent(userId: number, at: number): Promise<void> {
    await this.db('notification_prefs').where({ user_id: userId }).update({ last_digest_at: new Date(at) });
  }
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}
