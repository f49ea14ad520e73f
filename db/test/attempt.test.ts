import { Redis } from 'ioredis';
import t from 'tap';
import { ManualScheduler } from '../../test/support/clock.ts';
import { need, uniqueName } from '../../test/support/services.ts';
import { waitFor } from '../../test/support/wait.ts';
import { MemoryAttemptStore } from '../attempt.memory.ts';
import { RedisAttemptStore } from '../attempt.redis.ts';
import { attemptContract } from './attempt.contract.ts';

t.test('the memory attempt store', async (t) => {
  await attemptContract(t, async (t) => {
    const clock = new ManualScheduler();
    const store = new MemoryAttemptStore({ clock });
    t.teardown(() => store.close());
    return { store, expire: async (_key, ttlMs) => clock.advance(ttlMs) };
  });
});

t.test('the Redis attempt store', async (t) => {
  const url = need(t, 'REDIS_URL', 'Redis attempt store');
  if (!url) return;
  const prefix = `${uniqueName('attempt')}:`;
  const admin = new Redis(url);
  t.teardown(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    await admin.quit();
  });
  await attemptContract(t, async (t) => {
    const store = RedisAttemptStore.open(url, { prefix });
    t.teardown(() => store.close());
    // Redis expires the key by its own clock: have it do so now, then wait until it has.
    const expire = async (key: string) => {
      await admin.pexpire(prefix + key, 1);
      if (!(await waitFor(async () => (await admin.exists(prefix + key)) === 0))) throw new Error(`Redis did not expire ${key}`);
    };
    return { store, expire };
  });

  t.test('Redis expires an attempt by the TTL it was given', async (t) => {
    const store = new RedisAttemptStore(admin, { prefix });
    const k = `test:${'A'.repeat(32)}`;
    await store.put(k, 1, 60_000);
    // Redis counts down in real time: the bound leaves a busy machine ten seconds between the calls.
    const ttl = await admin.pttl(prefix + k);
    t.ok(ttl > 50_000 && ttl <= 60_000, `the key expires with the attempt (pttl ${ttl})`);
  });
});
