/**
 * What the actors of one router node share: its configuration, its stores and services. Built once
 * in node.ts; actors receive it at spawn, so tests can hand them any implementation of a port.
 */
import type { Logger } from 'pino';
import type { HistoryStore } from '../../db/history.port.ts';
import type { RelationalStore } from '../../db/relational.port.ts';
import type { SessionStore } from '../../db/session.port.ts';
import type { AttemptStore } from '../../db/attempt.port.ts';
import type { AuthStore } from '../../db/auth.port.ts';
import type { RateLimitStore } from '../../db/ratelimit.port.ts';
import type { Bus } from './live/bus.port.ts';
import type { Notifications } from './notify/notifications.ts';
import type { PresenceStore } from '../../db/presence.port.ts';
import type { PresenceService } from './live/presence.ts';
import type { NotifyStore } from '../../db/notify.port.ts';
import type { ChatroomDirectory } from './chat/chatroom.directory.ts';
import type { Config } from './config.ts';
import type { ConnectionRegistry } from './socket/registry.ts';
import type { HistoryBatcher } from './chat/history.batcher.ts';
import type { RouterMetrics } from './health/metrics.ts';
import type { WatermarkBatcher } from './chat/watermark.batcher.ts';

export interface RouterContext {
  config: Readonly<Config>;
  log: Logger;
  relational: RelationalStore;
  history: HistoryStore;
  sessions: SessionStore;
  auth: AuthStore;
  attempts: AttemptStore;
  /** Sign-up and sign-in attempts per client address. */
  rateLimits: RateLimitStore;
  batcher: HistoryBatcher;
  watermarks: WatermarkBatcher;
  bus: Bus;
  /** Push notifier, VAPID public key (and the embedded default's in-process workers). */
  notifications: Notifications;
  presence: PresenceStore;
  /** Announces users coming online and going offline to their contacts. */
  presenceNews: PresenceService;
  notify: NotifyStore;
  registry: ConnectionRegistry;
  rooms: ChatroomDirectory;
  metrics: RouterMetrics;
}
