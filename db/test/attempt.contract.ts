/**
 * What every AttemptStore must do, run against each implementation by attempt.test.ts. Expiry is
 * the harness's to bring about (a clock moved, or Redis told to expire the key), never a sleep.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { AttemptStore } from '../attempt.port.ts';

export interface AttemptHarness {
  store: AttemptStore;
  /** Makes the attempt under `key`, stored with `ttlMs`, expire; resolves once it has. */
  expire(key: string, ttlMs: number): Promise<void>;
}

export type MakeAttemptStore = (t: Test) => Promise<AttemptHarness>;

const key = (kind = 'test') => `${kind}:${randomBytes(32).toString('base64url')}`;

/** Runs the attempt store contract as nested tests of `t`. */
export async function attemptContract(t: Test, make: MakeAttemptStore): Promise<void> {
  t.test('a stored attempt is taken back exactly once', async (t) => {
    const { store } = await make(t);
    const k = key();
    await store.put(k, { challenge: 'abc', user: 7 }, 60_000);
    t.same(await store.take(k), { challenge: 'abc', user: 7 }, 'the first take returns the value');
    t.equal(await store.take(k), null, 'the second take finds nothing');
  });

  t.test('concurrent takes: exactly one wins', async (t) => {
    const { store } = await make(t);
    const k = key();
    await store.put(k, 1, 60_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.take(k)));
    t.equal(results.filter((r) => r === 1).length, 1, 'one of 20 concurrent takes gets the value');
  });

  t.test('an expired attempt is gone, and its key can be used again', async (t) => {
    const { store, expire } = await make(t);
    const k = key();
    await store.put(k, 'x', 60_000);
    await expire(k, 60_000);
    t.equal(await store.take(k), null, 'take after the TTL finds nothing');
    await store.put(k, 'y', 60_000);
    t.equal(await store.take(k), 'y', 'a put after the TTL stores afresh');
  });

  t.test('an existing key is never overwritten', async (t) => {
    const { store } = await make(t);
    const k = key();
    await store.put(k, 'first', 60_000);
    await t.rejects(store.put(k, 'second', 60_000), 'putting the same key again rejects');
    t.equal(await store.take(k), 'first', 'the original value is kept');
  });

  t.test('malformed keys and TTLs are refused, and never found', async (t) => {
    const { store } = await make(t);
    await t.rejects(store.put('no colon', 1, 1000), 'a key without kind is refused');
    await t.rejects(store.put(key(), 1, 0), 'a zero TTL is refused');
    for (const k of ['', '*', 'test:*', 'x'.repeat(10_000), 'test:short']) {
      t.equal(await store.take(k), null, `take(${JSON.stringify(k.slice(0, 12))}) is null`);
    }
  });
}
