/**
 * One router node: the actor system, the WebSocket gateway and the HTTP app on one server.
 *
 *   system
 *   ├── connections      supervisor; a child crash closes that socket (1011) and stops the child
 *   │   └── <conn id>    connection actor: decodes, validates, rate-limits one socket's frames
 *   └── chatrooms        supervisor; a child crash answers the requester and resets the child
 *       └── <room id>    chatroom actor: membership, group commit, acks, fan-out to the bus
 */
import { UploadSweeper } from './attachments/upload.sweeper.ts';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnStateless, start, stop } from 'nact';
import { systemScheduler, type Scheduler } from '../../db/clock.ts';
import { runActorsOnMicrotasks } from './actor.scheduling.ts';
import type { ChatDeps } from './chat/chatroom.actor.ts';
import { ChatroomDirectory } from './chat/chatroom.directory.ts';
import { HistoryReader } from './chat/history.reader.ts';
import type { SyncDeps } from './chat/sync.ts';
import type { Config } from './config.ts';
import { ConnectionRegistry } from './socket/registry.ts';
import { HistoryBatcher } from './chat/history.batcher.ts';
import { apiRoutes } from './http/api.ts';
import { httpApp } from './http/app.ts';
import { startMetricsListener, type MetricsListener } from './health/metrics.http.ts';
import { readinessProbe } from './health/readiness.ts';
import { startNotifications, type Notifications, type NotificationsOptions } from './notify/notifications.ts';
import { liveFanout } from './live/fanout.ts';
import { GroupMembers } from './live/group.members.ts';
import { PresenceService } from './live/presence.ts';
import { PrivacyCache } from './privacy/privacy.cache.ts';
import { RouterMetrics } from './health/metrics.ts';
import type { Logger } from '../../kit/logger.ts';
import type { Stores } from './stores.ts';
import { WatermarkBatcher } from './chat/watermark.batcher.ts';
import { attachGateway, type SocketDeps } from './socket/gateway.ts';

export interface RouterNode {
  server: Server;
  /** The port actually bound (PORT=0 picks one). */
  port: number;
  /** The metrics listener's port (METRICS_PORT=0 picks one); undefined when metrics are off. */
  metricsPort: number | undefined;
  /** The configuration the node runs with. */
  config: Readonly<Config>;
  /** The push notifier and, on the embedded default, the in-process workers. */
  notifications: Notifications;
  /** This node's live connections. */
  registry: ConnectionRegistry;
  /** Receipts on their way to the relational store. */
  watermarks: WatermarkBatcher;
  /** Deletes uploads past UPLOAD_TTL_MS that no message carries, and a deleted message's attachments. */
  sweeper: UploadSweeper;
  /**
   * Graceful shutdown: refuse new sockets, stop reading frames, let in-flight messages become
   * durable and acknowledged, tell clients to reconnect elsewhere (1012), flush receipts and the
   * bus. Does not close the stores: their owner does.
   */
  close(): Promise<void>;
}

export interface RouterOptions {
  notifications?: NotificationsOptions;
  /** The time the node's timers run on (tests pass test/support/clock.ts). Default: the real clock and timers. */
  scheduler?: Scheduler;
  /** The group commit messages are stored through (tests pass one that holds batches). Default: one on the history store, timed by the metrics. */
  batcher?: HistoryBatcher;
}

/** Starts a router node on already opened stores. */
export async function startRouter(config: Readonly<Config>, stores: Stores, log: Logger, options: RouterOptions = {}): Promise<RouterNode> {
  runActorsOnMicrotasks();
  const system = start();
  const connections = spawnStateless(system, () => {}, 'connections');
  const chatrooms = spawnStateless(system, () => {}, 'chatrooms');
  const registry = new ConnectionRegistry({
    perSec: config.rateLimitPerSec,
    burst: config.rateLimitBurst,
    windowMs: config.rateLimitWindowMs,
    closeAfter: config.rateLimitCloseAfter,
  });
  const notifications = await startNotifications(config, stores, registry, log, { ...options.notifications, scheduler: options.scheduler });
  // The actors gauge is read at scrape time, once the directory below exists.
  const metrics = new RouterMetrics({ connections: () => registry.size, chatroomActors: () => rooms.size, taskOutbox: stores.tasks.outboxStats?.bind(stores.tasks) });
  stores.bus.onConfirm?.((seconds) => metrics.busConfirmLatency.observe(seconds));
  stores.bus.onDrop?.((events) => metrics.busEventsDropped.inc(events));
  const batcher =
    options.batcher ??
    new HistoryBatcher(stores.history, {
      onBatch: (size, seconds) => {
        metrics.batchSize.observe(size);
        metrics.commitLatency.observe(seconds);
      },
    });
  const watermarks = new WatermarkBatcher(stores.relational, (err) => log.warn({ err }, 'watermark write failed'), undefined, options.scheduler);
  const presenceNews = new PresenceService({ presence: stores.presence, relational: stores.relational, privacy: stores.privacy, registry, bus: stores.bus, log, clock: options.scheduler });
  const privacy = new PrivacyCache((user) => stores.privacy.recordOf(user));
  const reader = new HistoryReader(stores.history);
  const groupLimits = { membersMax: config.groupMembersMax, perUserMax: config.groupsPerUserMax };
  const sweeper = new UploadSweeper({ blobs: stores.blobs, uploads: stores.uploads, scheduler: options.scheduler ?? systemScheduler, ttlMs: config.attachments.ttlMs, log });
  sweeper.start();
  const chat: ChatDeps = { log, relational: stores.relational, history: stores.history, batcher, watermarks, reader, bus: stores.bus, notifier: notifications.notifier, presence: presenceNews, metrics, groupLimits, editWindowMs: config.editWindowMs, clock: options.scheduler ?? systemScheduler, privacy, withheld: stores.privacy, uploads: stores.uploads, sweeper };
  const rooms = new ChatroomDirectory(chatrooms, config.roomIdleMs, chat);
  const sync: SyncDeps = { relational: stores.relational, history: stores.history, reader, presence: stores.presence, privacy: stores.privacy, cache: privacy, log };
  const groupMembers = new GroupMembers(
    async (room) => {
      const record = await stores.relational.getRoom(room);
      return record ? { members: record.members, version: record.membersSeq ?? 0 } : null;
    },
    (err, room) => log.warn({ err, room }, 'could not load a group\'s members for fan-out'),
  );
  const fanout = liveFanout(registry, metrics, groupMembers, privacy);
  // Privacy first: a block or a setting applies to the events that follow it on the bus.
  stores.bus.subscribe((event) => {
    privacy.onEvent(event);
    fanout(event);
  });
  // The HTTP guards and the WebSocket upgrade recognise a caller the same way, built once.
  const { callerOf, activity, ...api } = apiRoutes({ config, log, stores, notifications, rooms, clock: options.scheduler ?? systemScheduler });
  const socket: SocketDeps = {
    config,
    log,
    registry,
    metrics,
    presence: presenceNews,
    rooms,
    sync,
    forward: { history: stores.history, relational: stores.relational, withheld: stores.privacy },
    privacy,
    callerOf,
    activity,
    groups: groupLimits,
    connections: { sendBufferMaxBytes: config.sendBufferMaxBytes, errorsSent: metrics.errorsSent, scheduler: options.scheduler },
    scheduler: options.scheduler,
  };

  let draining = false;
  const app = httpApp({
    config,
    log,
    ...api,
    draining: () => draining,
    // Every store a request or a socket may need; any one down makes the node unready.
    ready: readinessProbe(
      {
        relational: () => stores.relational.ping(),
        history: () => stores.history.ping(),
        sessions: () => stores.sessions.ping(),
        attempts: () => stores.attempts.ping(),
        rateLimits: () => stores.rateLimits.ping(),
        bus: () => stores.bus.ping(),
        tasks: () => stores.tasks.ping(),
        blobs: () => stores.blobs.ping(),
      },
      { timeoutMs: config.edge.readyTimeoutMs, onFailure: (store, err) => log.warn({ store, err }, 'not ready') },
    ),
  });
  const server = createServer(app.handler as unknown as RequestListener);
  const gateway = attachGateway(server, connections, socket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // Metrics never share the public port (metrics.http.ts); off unless METRICS_PORT is set.
  let metricsListener: MetricsListener | undefined;
  try {
    if (config.edge.metrics) metricsListener = await startMetricsListener(metrics.registry, config.edge.metrics);
  } catch (err) {
    server.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      presenceNews.pause();
      server.close();
      gateway.pause();
      // Frames already in actor mailboxes reach the batcher within a few turns of the loop.
      await sleep(20);
      await batcher.drained();
      for (const conn of registry.all()) conn.close('service_restart');
      await watermarks.flush();
      await presenceNews.settled();
      await stores.bus.flush();
      await notifications.stop();
      await sweeper.stop();
      gateway.close();
      rooms.stopAll();
      stop(system);
      server.closeAllConnections();
      await metricsListener?.close();
    })());

  return { server, port, metricsPort: metricsListener?.port, config, notifications, registry, watermarks, sweeper, close };
}
