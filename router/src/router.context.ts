/**
 * What node.ts hands the HTTP routes (http/, auth/, users/, notify/push.routes.ts) until they take
 * narrow dependencies of their own, as the socket and chat sides do. Built once in node.ts.
 */
import type { Logger } from 'pino';
import type { RelationalStore } from '../../db/relational.port.ts';
import type { SessionStore } from '../../db/session.port.ts';
import type { AttemptStore } from '../../db/attempt.port.ts';
import type { AuthStore } from '../../db/auth.port.ts';
import type { RateLimitStore } from '../../db/ratelimit.port.ts';
import type { Bus } from './live/bus.port.ts';
import type { Notifications } from './notify/notifications.ts';
import type { NotifyStore } from '../../db/notify.port.ts';
import type { Config } from './config.ts';

export interface RouterContext {
  config: Readonly<Config>;
  log: Logger;
  relational: RelationalStore;
  sessions: SessionStore;
  auth: AuthStore;
  attempts: AttemptStore;
  /** Sign-up and sign-in attempts per client address. */
  rateLimits: RateLimitStore;
  bus: Bus;
  /** Push notifier, VAPID public key (and the embedded default's in-process workers). */
  notifications: Notifications;
  notify: NotifyStore;
}
