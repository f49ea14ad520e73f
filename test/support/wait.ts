import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `cond` every 10 ms for at most `timeoutMs`; true as soon as it holds. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}
