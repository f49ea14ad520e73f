/**
 * What notifications need from PostgreSQL: each user's web-push subscriptions and e-mail digest
 * preferences. One implementation (notify.store.ts) on knex, on PostgreSQL and PGlite alike.
 */
export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushSubscriptionRecord extends PushSubscriptionInput {
  id: number;
  userId: number;
}

export interface NotificationPrefs {
  userId: number;
  email: string | null;
  emailDigest: boolean;
  unsubscribeToken: string;
  lastDigestAt: number | null;
}

export interface NotifyStore {
  /** Saves a subscription for a user (an endpoint already saved moves to this user, keys updated). */
  addSubscription(userId: number, sub: PushSubscriptionInput): Promise<PushSubscriptionRecord>;
  /** Removes one of the user's subscriptions; false when the user has no such endpoint. */
  removeSubscription(userId: number, endpoint: string): Promise<boolean>;
  /** Removes an endpoint whoever owns it (the push service said it is gone). */
  removeEndpoint(endpoint: string): Promise<void>;
  subscriptionsOf(userId: number): Promise<PushSubscriptionRecord[]>;
  countSubscriptions(userId: number): Promise<number>;
  markPushSuccess(endpoint: string): Promise<void>;
  /** A user's preferences, created (digest on, no address, fresh token) on first read. */
  prefs(userId: number): Promise<NotificationPrefs>;
  /** Sets (or clears, with null) the digest address; setting one turns digests back on. */
  setEmail(userId: number, email: string | null): Promise<NotificationPrefs>;
  /** Turns digests off for the token's user; false for an unknown token. */
  unsubscribe(token: string): Promise<boolean>;
  /**
   * Users who may get a digest now: an address, digests on, no push subscription, and no digest
   * since `notSince` (ms). At most `limit`, oldest digest first.
   */
  digestCandidates(notSince: number, limit: number): Promise<NotificationPrefs[]>;
  markDigestSent(userId: number, at: number): Promise<void>;
  /**
   * What a push for `room` needs to know about its recipient: whether they muted it and how far they
   * read; null when they are not a current member (a removed member gets no push).
   */
  roomNotice(userId: number, room: string): Promise<{ muted: boolean; readSeq: number } | null>;
}
