/**
 * The settings of what a router node exposes and how it guards it: the metrics listener, the
 * reverse proxies whose X-Forwarded-For is believed, the sign-up and sign-in limits per client
 * address, and the readiness deadline. router/src/config.ts lists these keys in its schema and
 * maps them with edgeFrom(); the README's configuration table documents each.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { int } from '../../kit/config.ts';

/** The zod field of each key, under its environment name. */
export const edgeFields = {
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().regex(/^[\x21-\x7e]{16,256}$/, 'must be 16 to 256 printable ASCII characters').optional(),
  TRUST_PROXY: z.string().default(''),
  SIGNUP_RATE_LIMIT: int(10, 1, 1_000_000),
  SIGNUP_RATE_WINDOW_MS: int(3600_000, 1000, 7 * 24 * 3600_000),
  SIGNIN_RATE_LIMIT: int(30, 1, 1_000_000),
  SIGNIN_RATE_WINDOW_MS: int(60_000, 1000, 7 * 24 * 3600_000),
  READY_TIMEOUT_MS: int(500, 1, 60_000),
};

type EdgeEnv = z.output<z.ZodObject<typeof edgeFields>>;

/** At most `limit` attempts per client address in each fixed window of `windowMs`. */
export interface AttemptLimit {
  limit: number;
  windowMs: number;
}

export interface EdgeConfig {
  /**
   * The Prometheus listener, separate from the public port; undefined (METRICS_PORT unset) when
   * metrics are off. Default off.
   */
  metrics: { port: number; host: string; token: string | undefined } | undefined;
  /** Addresses and CIDR ranges of reverse proxies whose X-Forwarded-For is believed. Default none. */
  trustProxy: readonly string[];
  /** Passkey sign-up options per client address. Default 10 per hour. */
  signUp: AttemptLimit;
  /** Passkey sign-in options and OAuth starts per client address. Default 30 per minute. */
  signIn: AttemptLimit;
  /** Longest wait for any one store's readiness check, ms. Default 500. */
  readyTimeoutMs: number;
}

/** The edge settings from a parsed environment, with the problems found across keys. */
export function edgeFrom(e: EdgeEnv): { edge: EdgeConfig; problems: string[] } {
  const problems: string[] = [];
  const trustProxy = e.TRUST_PROXY.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of trustProxy) if (!isAddressOrCidr(entry)) problems.push(`TRUST_PROXY: ${entry} is not an IP address or CIDR range`);
  if (e.METRICS_TOKEN !== undefined && e.METRICS_PORT === undefined) problems.push('METRICS_TOKEN: set METRICS_PORT too (metrics are off without it)');
  return {
    edge: Object.freeze({
      metrics: e.METRICS_PORT === undefined ? undefined : Object.freeze({ port: e.METRICS_PORT, host: e.METRICS_HOST, token: e.METRICS_TOKEN }),
      trustProxy: Object.freeze(trustProxy),
      signUp: Object.freeze({ limit: e.SIGNUP_RATE_LIMIT, windowMs: e.SIGNUP_RATE_WINDOW_MS }),
      signIn: Object.freeze({ limit: e.SIGNIN_RATE_LIMIT, windowMs: e.SIGNIN_RATE_WINDOW_MS }),
      readyTimeoutMs: e.READY_TIMEOUT_MS,
    }),
    problems,
  };
}

function isAddressOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (family === 4 ? 32 : 128);
}
