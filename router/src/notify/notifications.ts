/**
 * The router's side of notifications: the push notifier (producer) and, on the embedded default
 * (no AMQP_URL), the workers' handlers running in-process on the memory queue. VAPID keys come
 * from config; without them the embedded default generates a pair into DATA_DIR, and the full
 * stack leaves push off (the workers need the same pair).
 */
import type { PushEndpointPolicy, ResolveHost } from '../../../workers/tasks/push.endpoint.ts';
import type { Scheduler } from '../../../db/clock.ts';
import { startEmbeddedWorkers, type EmbeddedWorkers } from '../../../workers/tasks/embedded.ts';
import { vapidKeysIn, type VapidKeys } from '../../../workers/tasks/vapid.ts';
import type { Config } from '../config.ts';
import type { ConnectionRegistry } from '../socket/registry.ts';
import type { Logger } from '../../../kit/logger.ts';
import { PushNotifier } from './push.notifier.ts';
import type { Stores } from '../stores.ts';

export interface NotificationsOptions {
  /** CA certificates (PEM) in-process push requests trust instead of the system's (tests). */
  pushCa?: string;
  /** Resolves push endpoint hosts, at subscribe and in-process send. Default: the system resolver (tests inject one). */
  resolveHost?: ResolveHost;
  /** The time in-process digest scans run on (tests). Default: the real clock and timers. */
  scheduler?: Scheduler;
}

export interface Notifications {
  notifier: PushNotifier;
  /** The VAPID public key the app subscribes with; undefined when push is off. */
  vapidPublicKey: string | undefined;
  /** In-process workers (embedded default only). */
  runtime: EmbeddedWorkers | undefined;
  /** Which push endpoints subscriptions may name (PUSH_ALLOW_PRIVATE_ENDPOINTS, the resolver). */
  pushEndpoints: PushEndpointPolicy;
  stop(): Promise<void>;
}

export async function startNotifications(
  config: Readonly<Config>,
  stores: Stores,
  registry: ConnectionRegistry,
  log: Logger,
  options: NotificationsOptions = {},
): Promise<Notifications> {
  const embedded = !config.amqpUrl;
  const vapid: VapidKeys | undefined = config.notify.vapid ?? (embedded ? await vapidKeysIn(config.dataDir) : undefined);
  if (!vapid) log.warn('push notifications are off: set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (npm run vapid) on routers and workers');
  const notifier = new PushNotifier({ tasks: stores.tasks, presence: stores.presence, registry, log, enabled: Boolean(vapid) });
  const runtime = embedded
    ? await startEmbeddedWorkers({
        queue: stores.tasks,
        idempotency: stores.idempotency,
        store: stores.notify,
        relational: stores.relational,
        history: stores.history,
        presence: stores.presence,
        log: log.child({ component: 'worker' }),
        notify: config.notify,
        vapid,
        publicOrigin: config.publicOrigin,
        ...(options.pushCa ? { pushCa: options.pushCa } : {}),
        ...(options.resolveHost ? { pushResolve: options.resolveHost } : {}),
        scheduler: options.scheduler,
      })
    : undefined;
  return {
    notifier,
    vapidPublicKey: vapid?.publicKey,
    runtime,
    pushEndpoints: { allowPrivate: config.notify.allowPrivateEndpoints, ...(options.resolveHost ? { resolve: options.resolveHost } : {}) },
    stop: async () => {
      await notifier.drained();
      await runtime?.stop();
    },
  };
}
