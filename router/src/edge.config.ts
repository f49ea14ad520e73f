/**
 * The settings of what a router node exposes and how it guards it: the metrics listener and the
 * readiness deadline. router/src/config.ts lists these keys in its schema and
 * maps them with edgeFrom(); the README's configuration table documents each.
 */
import { z } from 'zod';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** The zod field of each key, under its environment name. */
export const edgeFields = {
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().regex(/^[\x21-\x7e]{16,256}$/, 'must be 16 to 256 printable ASCII characters').optional(),
  READY_TIMEOUT_MS: int(500, 1, 60_000),
};

type EdgeEnv = z.output<z.ZodObject<typeof edgeFields>>;

export interface EdgeConfig {
  /**
   * The Prometheus listener, separate from the public port; undefined (METRICS_PORT unset) when
   * metrics are off. Default off.
   */
  metrics: { port: number; host: string; token: string | undefined } | undefined;
  /** Longest wait for any one store's readiness check, ms. Default 500. */
  readyTimeoutMs: number;
}

/** The edge settings from a parsed environment, with the problems found across keys. */
export function edgeFrom(e: EdgeEnv): { edge: EdgeConfig; problems: string[] } {
  const problems: string[] = [];
  if (e.METRICS_TOKEN !== undefined && e.METRICS_PORT === undefined) problems.push('METRICS_TOKEN: set METRICS_PORT too (metrics are off without it)');
  return {
    edge: Object.freeze({
      metrics: e.METRICS_PORT === undefined ? undefined : Object.freeze({ port: e.METRICS_PORT, host: e.METRICS_HOST, token: e.METRICS_TOKEN }),
      readyTimeoutMs: e.READY_TIMEOUT_MS,
    }),
    problems,
  };
}

