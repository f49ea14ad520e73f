/**
 * What every process's config.ts is made of (router/src/config.ts, workers/src/config.ts and the
 * key groups they share): zod fields for the kinds of value the environment carries, and the one
 * way to read it. Empty means unset, every bad key is listed before the process refuses to start,
 * and the result is frozen.
 */
import { z } from 'zod';

/** An integer from `min` to `max` (inclusive); `def` when unset. */
export const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** A flag: `true`/`1` or `false`/`0`. Default false. */
export const bool = z.enum(['true', 'false', '1', '0']).default('false').transform((v) => v === 'true' || v === '1');

/** A URL whose scheme is one of `protocols` (with the colon, e.g. `redis:`); required unless made `.optional()`. */
export const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.includes(new URL(v).protocol), `must be a ${protocols.join(' or ')} URL`);

/** The URL of each service a process may use, under the key both processes read it from. */
export const serviceUrls = {
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  MONGO_URL: url(['mongodb:', 'mongodb+srv:']),
  REDIS_URL: url(['redis:', 'rediss:']),
  AMQP_URL: url(['amqp:', 'amqps:']),
};

/** The keys router and worker read alike. */
export const commonFields = {
  /** Interface to listen on. Default 0.0.0.0. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** This process's name on the bus, in logs and on the broker; each config has its own default. */
  NODE_ID: z.string().regex(/^[\w.-]{1,64}$/).optional(),
  /** Prepended to every Redis key; deployments sharing a Redis need distinct ones. Default empty. */
  REDIS_KEY_PREFIX: z.string().regex(/^[\w.:-]{0,64}$/).default(''),
  /** pino's level. Default info. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export type LogLevel = z.output<typeof commonFields.LOG_LEVEL>;

/**
 * The router's log keys, whose defaults depend on who reads the output: `LOG_FORMAT` (`json` or
 * `text`) and `LOG_LEVEL`, both unset unless given (router/src/config.ts picks the defaults).
 */
export const logFields = {
  LOG_FORMAT: z.enum(['json', 'text']).optional(),
  LOG_LEVEL: commonFields.LOG_LEVEL.unwrap().optional(),
};

/** Thrown when the environment is invalid; the message lists every bad key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An environment as process.env holds it. */
export type Env = Record<string, string | undefined>;

/**
 * Parses `env` with `schema`, empty strings meaning unset (as in a compose file with `KEY=`).
 * Throws a ConfigError listing every key the schema refuses.
 */
export function parseEnv<S extends z.ZodRawShape>(schema: z.ZodObject<S>, env: Env): z.output<z.ZodObject<S>> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parsed.data;
}

/** Throws a ConfigError listing `problems` (each `KEY: what is wrong`), if there are any. */
export function throwIfProblems(problems: readonly string[]): void {
  if (problems.length) throw invalid(problems);
}

function invalid(problems: readonly string[]): ConfigError {
  return new ConfigError(`invalid configuration:\n${problems.map((l) => `  ${l}`).join('\n')}`);
}

/** Every environment variable a schema reads (docs and ops checks use the list). */
export const keysOf = (schema: z.ZodObject): readonly string[] => Object.freeze(Object.keys(schema.shape));

/**
 * Freezes a configuration and every plain object and array in it, so no part of the process can
 * change what another part reads. Other objects (a Set of origins) are left as they are.
 */
export function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const v of Object.values(value)) {
    if (v !== null && typeof v === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype)) deepFreeze(v);
  }
  return Object.freeze(value);
}
