import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `cond` (sync or async) every 10 ms; true as soon as it holds, false after `timeoutMs`.
 * The timeout only bounds a wait for something that never happens: it is generous so that a busy
 * machine, which makes the condition late but not false, does not fail the test.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Resolves when `check` is true, polling; fails the wait after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
