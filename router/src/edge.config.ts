/**
 * The settings of what a router node exposes and how it guards it: for now the readiness
 * deadline. router/src/config.ts lists these keys in its schema and maps them with edgeFrom();
 * the README's configuration table documents each.
 */
import { z } from 'zod';

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** The zod field of each key, under its environment name. */
export const edgeFields = {
  READY_TIMEOUT_MS: int(500, 1, 60_000),
};

type EdgeEnv = z.output<z.ZodObject<typeof edgeFields>>;

export interface EdgeConfig {
  /** Longest wait for any one store's readiness check, ms. Default 500. */
  readyTimeoutMs: number;
}

/** The edge settings from a parsed environment, with the problems found across keys. */
export function edgeFrom(e: EdgeEnv): { edge: EdgeConfig; problems: string[] } {
  const problems: string[] = [];
  return {
    edge: Object.freeze({
      readyTimeoutMs: e.READY_TIMEOUT_MS,
    }),
    problems,
  };
}
