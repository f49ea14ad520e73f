/**
 * Readiness of a node's stores, answered promptly. Every check runs at once and gets a deadline:
 * a store that hangs (a Redis whose commands wait in the client's offline queue, a primary being
 * elected, a broker that stopped answering) counts as not ready when its deadline passes instead
 * of holding /readyz, and the proxy's health check with it, for as long as the store takes.
 */

/** One check per store, by the name /readyz reports; each resolves when that store answers. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

/** Runs `fn` after `ms`; returns a function that cancels it. */
export type Schedule = (ms: number, fn: () => void) => () => void;

export interface ReadinessOptions {
  /** Longest wait for any one check, ms. */
  timeoutMs: number;
  /** Timer for the deadlines (tests drive it by hand). Default setTimeout. */
  schedule?: Schedule;
  /** Told why a store is not ready (the log); the answer names the store only. */
  onFailure?: (store: string, err: unknown) => void;
}

const realSchedule: Schedule = (ms, fn) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

/** Thrown into onFailure when a check outlived its deadline. */
export class ReadinessTimeout extends Error {
  override readonly name = 'ReadinessTimeout';
}

/** A probe that runs every check concurrently and resolves with the names of the stores not ready (empty: ready). */
export function readinessProbe(checks: ReadinessChecks, options: ReadinessOptions): () => Promise<string[]> {
  const schedule = options.schedule ?? realSchedule;
  const one = (name: string, check: () => Promise<void>): Promise<string | null> =>
    new Promise((resolve) => {
      let settled = false;
      let cancel = () => {};
      const settle = (err: unknown) => {
        if (settled) return;
        settled = true;
        cancel();
        if (err !== undefined) options.onFailure?.(name, err);
        resolve(err === undefined ? null : name);
      };
      cancel = schedule(options.timeoutMs, () => settle(new ReadinessTimeout(`no answer within ${options.timeoutMs} ms`)));
      // A check that throws synchronously is as unready as one that rejects.
      Promise.resolve()
        .then(check)
        .then(
          () => settle(undefined),
          (err: unknown) => settle(err ?? new Error('check failed')),
        );
    });
  return async () => {
    const results = await Promise.all(Object.entries(checks).map(([name, check]) => one(name, check)));
    return results.filter((name): name is string => name !== null);
  };
}
