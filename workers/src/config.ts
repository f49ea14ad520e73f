/**
 * The worker process's configuration: read from the environment once, validated, frozen. The
 * worker is the full stack's: PostgreSQL, Redis and RabbitMQ are required (the embedded default
 * runs the same handlers inside the router instead).
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { amqpFields, amqpFrom, type AmqpConfig } from '../../kit/amqp.config.ts';
import { commonFields, deepFreeze, int, keysOf, parseEnv, serviceUrls, throwIfProblems, type Env, type LogLevel } from '../../kit/config.ts';
import { notifyFields, notifyFrom, type NotifyConfig } from '../tasks/notify.config.ts';

export { ConfigError } from '../../kit/config.ts';

const schema = z.object({
  WORKER_PORT: int(3001, 0, 65535),
  HOST: commonFields.HOST,
  DATABASE_URL: serviceUrls.DATABASE_URL,
  MONGO_URL: serviceUrls.MONGO_URL.optional(),
  REDIS_URL: serviceUrls.REDIS_URL,
  AMQP_URL: serviceUrls.AMQP_URL,
  ...amqpFields,
  PUBLIC_ORIGIN: z.string().url().default('http://localhost:3000'),
  NODE_ID: commonFields.NODE_ID,
  SHUTDOWN_TIMEOUT_MS: int(30_000, 100, 600_000),
  REDIS_KEY_PREFIX: commonFields.REDIS_KEY_PREFIX,
  LOG_LEVEL: commonFields.LOG_LEVEL,
  ...notifyFields,
});

/** Every environment variable this config reads (docs and ops checks use it). */
export const CONFIG_KEYS = keysOf(schema);

export interface WorkerConfig {
  /** /healthz, /readyz, /metrics port; 0 picks one. Default 3001. */
  port: number;
  /** Interface to listen on. Default 0.0.0.0. */
  host: string;
  databaseUrl: string;
  /** History in MongoDB when set (as the router); PostgreSQL otherwise. */
  mongoUrl: string | undefined;
  redisUrl: string;
  amqpUrl: string;
  /** Reconnect backoff and the bound on tasks kept until the broker confirms them. */
  amqp: AmqpConfig;
  /** Origin for links in e-mails. Default http://localhost:3000. */
  publicOrigin: string;
  /** This worker's name in logs and on the broker. Default hostname-pid. */
  nodeId: string;
  /** Longest graceful shutdown (in-flight tasks finishing), ms. Default 30 s. */
  shutdownTimeoutMs: number;
  /** Prepended to every Redis key; the same value as the routers'. Default empty. */
  redisKeyPrefix: string;
  logLevel: LogLevel;
  notify: NotifyConfig;
}

/** Reads and validates the worker's configuration (default process.env). */
export function loadWorkerConfig(env: Env = process.env): Readonly<WorkerConfig> {
  const e = parseEnv(schema, env);
  const { notify, problems } = notifyFrom(e);
  const { amqp, problems: amqpProblems } = amqpFrom(e);
  problems.push(...amqpProblems);
  if (!e.VAPID_PUBLIC_KEY && !e.SMTP_URL) problems.push('VAPID_PUBLIC_KEY, SMTP_URL: neither push nor e-mail is configured; this worker would have nothing to do');
  throwIfProblems(problems);
  return deepFreeze({
    port: e.WORKER_PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    mongoUrl: e.MONGO_URL,
    redisUrl: e.REDIS_URL,
    amqpUrl: e.AMQP_URL,
    amqp,
    publicOrigin: new URL(e.PUBLIC_ORIGIN).origin,
    nodeId: e.NODE_ID ?? `worker-${hostname()}-${process.pid}`,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    logLevel: e.LOG_LEVEL,
    notify,
  });
}
