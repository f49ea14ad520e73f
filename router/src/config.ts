/**
 * The router's configuration: read from the environment once, validated, frozen. A bad value stops
 * the process at start with every problem listed, rather than failing later in a handler.
 * The README's configuration table documents every key.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import type { MongoTimeouts } from '../../db/history.mongo.options.ts';
import { amqpFields, amqpFrom, type AmqpConfig } from '../../kit/amqp.config.ts';
import { commonFields, deepFreeze, int, keysOf, logFields, parseEnv, serviceUrls, throwIfProblems, url, type Env, type LogLevel } from '../../kit/config.ts';
import type { LogFormat } from '../../kit/logger.ts';
import { notifyFields, notifyFrom, type NotifyConfig } from '../../workers/tasks/notify.config.ts';
import { attachmentsFields, attachmentsFrom, type AttachmentsConfig } from './attachments/attachments.config.ts';
import { edgeFields, edgeFrom, type EdgeConfig } from './edge.config.ts';

export { ConfigError } from '../../kit/config.ts';

const schema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: commonFields.HOST,
  DATA_DIR: z.string().min(1).default('./data'),
  // Every store is optional here: the embedded default stands in for each one that is unset.
  DATABASE_URL: serviceUrls.DATABASE_URL.optional(),
  MONGO_URL: serviceUrls.MONGO_URL.optional(),
  MONGO_SERVER_SELECTION_TIMEOUT_MS: int(5000, 100, 600_000),
  MONGO_WRITE_TIMEOUT_MS: int(5000, 100, 600_000),
  MONGO_APPEND_TIMEOUT_MS: int(10_000, 100, 600_000),
  MONGO_SOCKET_TIMEOUT_MS: int(30_000, 1000, 3600_000),
  MONGO_PING_TIMEOUT_MS: int(1000, 50, 60_000),
  REDIS_URL: serviceUrls.REDIS_URL.optional(),
  AMQP_URL: serviceUrls.AMQP_URL.optional(),
  AMQP_EXCHANGE: z.string().regex(/^[\w.-]{1,128}$/).default('messenger.live'),
  ...amqpFields,
  REDIS_KEY_PREFIX: commonFields.REDIS_KEY_PREFIX,
  PUBLIC_ORIGIN: z.string().url().optional(),
  ALLOWED_ORIGINS: z.string().default(''),
  NODE_ID: commonFields.NODE_ID,
  SESSION_TTL_MS: int(30 * 24 * 3600_000, 60_000, 365 * 24 * 3600_000),
  RATE_LIMIT_PER_SEC: int(20, 1, 1_000_000),
  RATE_LIMIT_BURST: int(60, 1, 1_000_000),
  RATE_LIMIT_WINDOW_MS: int(10_000, 100, 3600_000),
  RATE_LIMIT_CLOSE_AFTER: int(2000, 1, 1_000_000),
  HEARTBEAT_MS: int(30_000, 50, 600_000),
  SEND_BUFFER_MAX_BYTES: int(1024 * 1024, 16 * 1024, 256 * 1024 * 1024),
  ROOM_IDLE_MS: int(5 * 60_000, 1000, 24 * 3600_000),
  GROUP_MEMBERS_MAX: int(1000, 2, 100_000),
  GROUPS_PER_USER_MAX: int(500, 1, 100_000),
  EDIT_WINDOW_MS: int(48 * 3600_000, 0, 10 * 365 * 24 * 3600_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 600_000),
  STATIC_DIR: z.string().default('app/build'),
  ...logFields,
  // Notifications (workers/tasks/notify.config.ts): the producer side, and the in-process workers of the embedded default.
  ...notifyFields,
  RP_ID: z.string().regex(/^[a-z0-9.-]{1,253}$/, 'must be a lower-case host name').optional(),
  RP_NAME: z.string().min(1).max(64).default('Messenger'),
  AUTH_ATTEMPT_TTL_MS: int(5 * 60_000, 100, 3600_000),
  GOOGLE_CLIENT_ID: z.string().optional(),
  GOOGLE_CLIENT_SECRET: z.string().optional(),
  YANDEX_CLIENT_ID: z.string().optional(),
  YANDEX_CLIENT_SECRET: z.string().optional(),
  GITHUB_CLIENT_ID: z.string().optional(),
  GITHUB_CLIENT_SECRET: z.string().optional(),
  OIDC_ISSUER: url(['https:', 'http:']).optional(),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  OIDC_NAME: z.string().min(1).max(64).default('Single sign-on'),
  // Metrics listener, trusted proxies, sign-in limits, readiness deadline (edge.config.ts).
  ...edgeFields,
  // Deleting and exporting an account (docs/http-api.md).
  DELETED_HANDLE_GRACE_MS: int(30 * 24 * 3600_000, 0, 10 * 365 * 24 * 3600_000),
  EXPORT_RATE_LIMIT: int(5, 1, 1_000_000),
  EXPORT_RATE_WINDOW_MS: int(3600_000, 1000, 7 * 24 * 3600_000),
  EXPORTS_CONCURRENT_MAX: int(2, 1, 1000),
  // Attachments: the blob store and the upload limits (attachments/attachments.config.ts).
  ...attachmentsFields,
});

/** Every environment variable this config reads (docs and ops checks use it). */
export const CONFIG_KEYS = keysOf(schema);

/** Deleting and exporting an account. */
export interface AccountConfig {
  /** How long after an account's deletion nobody may sign up with its handle, ms. Default 30 days. */
  deletedHandleGraceMs: number;
  /** Exports one user may start per window, across the nodes (the rate-limit store). Default 5 per hour. */
  exportLimit: { limit: number; windowMs: number };
  /** Exports one node writes at once, whoever asked; one user has at most one at a time per node. Default 2. */
  exportsConcurrentMax: number;
}

/** The OAuth providers the router knows; each is enabled by its client id and secret. */
export const OAUTH_PROVIDERS = ['google', 'yandex', 'github', 'oidc'] as const;
export type OAuthProviderId = (typeof OAUTH_PROVIDERS)[number];

/** One configured OAuth client. */
export interface OAuthClientConfig {
  clientId: string;
  clientSecret: string;
  /** Only for the generic `oidc` provider: its issuer (discovery at /.well-known/openid-configuration). */
  issuer?: string;
  /** The name on the sign-in button (the generic provider's OIDC_NAME; the brand name otherwise). */
  name: string;
}

export interface Config {
  /** TCP port; 0 picks a free one (tests). Default 3000. */
  port: number;
  /** Interface to listen on. Default 0.0.0.0. */
  host: string;
  /** Where the embedded default keeps its PGlite database. Default ./data. */
  dataDir: string;
  /** PostgreSQL for users, rooms (and history without MONGO_URL); PGlite in dataDir when unset. */
  databaseUrl: string | undefined;
  /** MongoDB for chat history; PostgreSQL/PGlite keeps history when unset. */
  mongoUrl: string | undefined;
  /** How long the MongoDB history store waits before failing (MONGO_*_TIMEOUT_MS; defaults in db/history.mongo.ts). */
  mongo: MongoTimeouts;
  /** Redis for sessions; in memory when unset. */
  redisUrl: string | undefined;
  /** RabbitMQ between router nodes; an in-process bus when unset (one node only). */
  amqpUrl: string | undefined;
  /** The fanout exchange router nodes share; deployments sharing a broker need distinct ones. */
  amqpExchange: string;
  /** Reconnect backoff and the bound on tasks kept until the broker confirms them (kit/amqp.config.ts). */
  amqp: AmqpConfig;
  /** Prepended to every Redis key (sessions, sign-in attempts); deployments sharing a Redis need distinct ones. Default empty. */
  redisKeyPrefix: string;
  /** The origin users open, e.g. https://chat.example.com. Default http://localhost:PORT. */
  publicOrigin: string;
  /** Origins allowed to open a WebSocket: publicOrigin plus ALLOWED_ORIGINS (comma separated). */
  allowedOrigins: ReadonlySet<string>;
  /** This node's name on the bus. Default hostname-pid. */
  nodeId: string;
  /** Session lifetime (sliding), ms. Default 30 days. */
  sessionTtlMs: number;
  /** Frames per second a user may send, across that user's sockets on one node. Default 20. */
  rateLimitPerSec: number;
  /** Frames a user may send in a burst above the rate. Default 60. */
  rateLimitBurst: number;
  /**
   * The window over which one socket's refused frames are counted, ms; the window's first refusal
   * gets a `rate_limited` error, the others are dropped silently. Default 10 s.
   */
  rateLimitWindowMs: number;
  /**
   * Refused frames a socket may send within one window; the next closes it with 1008. Default 2000,
   * twice the rooms of one sync: a resync (a sync, then an ack per room with news and the outbox,
   * all at once) may overflow the bucket but stays below it, while a flood of 400 frames/s is
   * closed in about 5 s.
   */
  rateLimitCloseAfter: number;
  /** WebSocket ping interval; a socket that missed the previous pong is closed. Default 30 s. */
  heartbeatMs: number;
  /** Bytes queued for one socket before it is closed as a slow consumer (4008). Default 1 MiB. */
  sendBufferMaxBytes: number;
  /** A chatroom actor with no traffic for this long is stopped. Default 5 min. */
  roomIdleMs: number;
  /** Most members of one group (announced in `hello`). Default 1000. */
  groupMembersMax: number;
  /** Most groups one user may be a member of (announced in `hello`). Default 500. */
  groupsPerUserMax: number;
  /** How long after sending a message its sender may edit it (announced in `hello`). Default 48 h. */
  editWindowMs: number;
  /** Longest graceful shutdown before exiting anyway. Default 10 s. */
  shutdownTimeoutMs: number;
  /** The built PWA served at /. Default app/build. */
  staticDir: string;
  /** pino's level. Default info, warn with the text format (a person at a terminal sees problems only). */
  logLevel: LogLevel;
  /** json (one object per line) or text (a plain line per event). Default text when stdout is a terminal, else json. */
  logFormat: LogFormat;
  /** Push and e-mail notifications: task queue, VAPID, SMTP (workers/tasks/notify.config.ts). */
  notify: NotifyConfig;
  /** WebAuthn relying party id: a host name equal to or a parent of publicOrigin's. Default publicOrigin's hostname. */
  rpId: string;
  /** The name authenticators show for this site. Default "Messenger". */
  rpName: string;
  /** How long a passkey challenge or an OAuth state stays usable, ms. Default 5 min. */
  authAttemptTtlMs: number;
  /** The OAuth providers whose client id and secret are set; the others are off. */
  oauth: Partial<Record<OAuthProviderId, OAuthClientConfig>>;
  /** Metrics listener, trusted proxies, sign-in limits, readiness deadline (edge.config.ts). */
  edge: EdgeConfig;
  /** The deleted handle's grace, the export limits. */
  account: AccountConfig;
  /** The blob store and the upload limits (attachments/attachments.config.ts). */
  attachments: AttachmentsConfig;
}

/**
 * Reads and validates the configuration from an environment (default process.env). `terminal`:
 * whether a person reads the output (default: stdout is a TTY); it picks the log defaults.
 */
export function loadConfig(env: Env = process.env, { terminal = process.stdout.isTTY === true }: { terminal?: boolean } = {}): Readonly<Config> {
  const e = parseEnv(schema, env);
  const logFormat = e.LOG_FORMAT ?? (terminal ? 'text' : 'json');
  const publicOrigin = new URL(e.PUBLIC_ORIGIN ?? `http://localhost:${e.PORT}`).origin;
  const extra = e.ALLOWED_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const badOrigin = extra.find((o) => !URL.canParse(o));
  const problems: string[] = [];
  if (badOrigin) problems.push(`ALLOWED_ORIGINS: ${badOrigin} is not a URL`);
  const rpId = e.RP_ID ?? new URL(publicOrigin).hostname;
  const host = new URL(publicOrigin).hostname;
  if (host !== rpId && !host.endsWith(`.${rpId}`)) problems.push(`RP_ID: ${rpId} is not ${host} or a parent domain of it`);
  const oauth: Partial<Record<OAuthProviderId, OAuthClientConfig>> = {};
  const brand = { google: 'Google', yandex: 'Yandex', github: 'GitHub', oidc: e.OIDC_NAME } as const;
  for (const p of OAUTH_PROVIDERS) {
    const key = p.toUpperCase();
    const id = e[`${key}_CLIENT_ID` as 'GOOGLE_CLIENT_ID'];
    const secret = e[`${key}_CLIENT_SECRET` as 'GOOGLE_CLIENT_SECRET'];
    if (!id && !secret) continue;
    if (!id || !secret) {
      problems.push(`${key}_CLIENT_ID, ${key}_CLIENT_SECRET: set both or neither`);
      continue;
    }
    if (p === 'oidc' && !e.OIDC_ISSUER) {
      problems.push('OIDC_ISSUER: required with OIDC_CLIENT_ID');
      continue;
    }
    oauth[p] = { clientId: id, clientSecret: secret, name: brand[p], ...(p === 'oidc' ? { issuer: e.OIDC_ISSUER! } : {}) };
  }
  if (e.MONGO_SOCKET_TIMEOUT_MS <= e.MONGO_WRITE_TIMEOUT_MS) {
    // A commit waits up to the write timeout for its majority; a shorter socket timeout would cut it off first.
    problems.push('MONGO_SOCKET_TIMEOUT_MS: must be longer than MONGO_WRITE_TIMEOUT_MS');
  }
  const { notify, problems: notifyProblems } = notifyFrom(e);
  problems.push(...notifyProblems);
  const { edge, problems: edgeProblems } = edgeFrom(e);
  problems.push(...edgeProblems);
  const { amqp, problems: amqpProblems } = amqpFrom(e);
  problems.push(...amqpProblems);
  const { attachments, problems: attachmentProblems } = attachmentsFrom(e);
  problems.push(...attachmentProblems);
  throwIfProblems(problems);
  return deepFreeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    mongoUrl: e.MONGO_URL,
    mongo: {
      serverSelectionTimeoutMs: e.MONGO_SERVER_SELECTION_TIMEOUT_MS,
      writeTimeoutMs: e.MONGO_WRITE_TIMEOUT_MS,
      appendTimeoutMs: e.MONGO_APPEND_TIMEOUT_MS,
      socketTimeoutMs: e.MONGO_SOCKET_TIMEOUT_MS,
      pingTimeoutMs: e.MONGO_PING_TIMEOUT_MS,
    },
    redisUrl: e.REDIS_URL,
    amqpUrl: e.AMQP_URL,
    amqpExchange: e.AMQP_EXCHANGE,
    amqp,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    publicOrigin,
    allowedOrigins: new Set([publicOrigin, ...extra.map((o) => new URL(o).origin)]),
    nodeId: e.NODE_ID ?? `${hostname()}-${process.pid}`,
    sessionTtlMs: e.SESSION_TTL_MS,
    rateLimitPerSec: e.RATE_LIMIT_PER_SEC,
    rateLimitBurst: e.RATE_LIMIT_BURST,
    rateLimitWindowMs: e.RATE_LIMIT_WINDOW_MS,
    rateLimitCloseAfter: e.RATE_LIMIT_CLOSE_AFTER,
    heartbeatMs: e.HEARTBEAT_MS,
    sendBufferMaxBytes: e.SEND_BUFFER_MAX_BYTES,
    roomIdleMs: e.ROOM_IDLE_MS,
    groupMembersMax: e.GROUP_MEMBERS_MAX,
    groupsPerUserMax: e.GROUPS_PER_USER_MAX,
    editWindowMs: e.EDIT_WINDOW_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    staticDir: e.STATIC_DIR,
    logLevel: e.LOG_LEVEL ?? (logFormat === 'text' ? 'warn' : 'info'),
    logFormat,
    notify,
    rpId,
    rpName: e.RP_NAME,
    authAttemptTtlMs: e.AUTH_ATTEMPT_TTL_MS,
    oauth,
    edge,
    account: {
      deletedHandleGraceMs: e.DELETED_HANDLE_GRACE_MS,
      exportLimit: { limit: e.EXPORT_RATE_LIMIT, windowMs: e.EXPORT_RATE_WINDOW_MS },
      exportsConcurrentMax: e.EXPORTS_CONCURRENT_MAX,
    },
    attachments,
  });
}
