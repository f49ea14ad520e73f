/**
 * What every RateLimitStore must do, run against each implementation by ratelimit.test.ts. Time
 * is the test's clock: every store is made with `now` reading it.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { RateLimitStore } from '../ratelimit.port.ts';

/** The test's clock, read by the store under test. */
export interface Clock {
  now: number;
}

export type MakeRateLimitStore = (t: Test, clock: Clock) => Promise<RateLimitStore>;

const key = () => `signup:10.0.${randomBytes(1)[0]}.${randomBytes(1)[0]}-${randomBytes(4).toString('hex')}`;
/** A moment 15 s into a one-minute window. */
const START = Date.UTC(2030, 0, 1, 12, 0, 15);

/** Runs the rate limit store contract as nested tests of `t`. */
export async function rateLimitContract(t: Test, make: MakeRateLimitStore): Promise<void> {
  t.test('attempts up to the limit pass, the next is refused until the window ends', async (t) => {
    const clock = { now: START };
    const store = await make(t, clock);
    const k = key();
    for (let i = 1; i <= 3; i++) {
      t.match(await store.hit(k, 3, 60_000), { allowed: true, remaining: 3 - i, retryAfterMs: 45_000 }, `attempt ${i} of 3 passes`);
    }
    t.match(await store.hit(k, 3, 60_000), { allowed: false, remaining: 0, retryAfterMs: 45_000 }, 'the fourth is refused, 45 s before the window ends');
    clock.now += 44_999;
    t.match(await store.hit(k, 3, 60_000), { allowed: false, retryAfterMs: 1 }, 'still refused 1 ms before the window ends');
    clock.now += 1;
    t.match(await store.hit(k, 3, 60_000), { allowed: true, remaining: 2, retryAfterMs: 60_000 }, 'a new window starts a new count');
  });

  t.test('keys count apart', async (t) => {
    const store = await make(t, { now: START });
    const [a, b] = [key(), key()];
    await store.hit(a, 1, 60_000);
    t.match(await store.hit(a, 1, 60_000), { allowed: false }, 'the first key is spent');
    t.match(await store.hit(b, 1, 60_000), { allowed: true }, 'the second key has its own budget');
  });

  t.test('windows of different lengths count apart', async (t) => {
    const store = await make(t, { now: START });
    const k = key();
    await store.hit(k, 1, 60_000);
    t.match(await store.hit(k, 1, 3600_000), { allowed: true, retryAfterMs: 3600_000 - 15_000 }, 'an hour window has its own count');
  });

  t.test('concurrent attempts are each counted once', async (t) => {
    const store = await make(t, { now: START });
    const k = key();
    const verdicts = await Promise.all(Array.from({ length: 25 }, () => store.hit(k, 10, 60_000)));
    t.equal(verdicts.filter((v) => v.allowed).length, 10, 'exactly 10 of 25 concurrent attempts pass a limit of 10');
  });

  t.test('malformed keys, limits and windows are refused', async (t) => {
    const store = await make(t, { now: START });
    await t.rejects(store.hit('no kind', 1, 1000), 'a key without a kind is refused');
    await t.rejects(store.hit('signup:*', 1, 1000), 'a key with a glob character is refused');
    await t.rejects(store.hit(key(), 0, 1000), 'a zero limit is refused');
    await t.rejects(store.hit(key(), 1, 0), 'a zero window is refused');
  });

  t.test('a store that answers is ready', async (t) => {
    const store = await make(t, { now: START });
    await store.hit(key(), 1, 1000);
    await t.resolves(store.ping(), 'ping resolves');
  });
}
