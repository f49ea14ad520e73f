import t from 'tap';
import { freshRedisPrefix } from '../../test/support/redis.keys.ts';
import { need, uniqueName } from '../../test/support/services.ts';
import { MemoryRateLimitStore } from '../ratelimit.memory.ts';
import { RedisRateLimitStore } from '../ratelimit.redis.ts';
import { rateLimitContract } from './ratelimit.contract.ts';

t.test('the memory rate limit store', async (t) => {
  await rateLimitContract(t, async (t, clock) => {
    const store = new MemoryRateLimitStore({ clock: { now: () => clock.now } });
    t.teardown(() => store.close());
    return store;
  });
});

t.test('the Redis rate limit store', async (t) => {
  const url = need(t, 'REDIS_URL', 'Redis rate limit store');
  if (!url) return;
  const { prefix, admin } = freshRedisPrefix(t, url, 'ratelimit');
  await rateLimitContract(t, async (t, clock) => {
    const store = RedisRateLimitStore.open(url, { prefix, clock: { now: () => clock.now } });
    t.teardown(() => store.close());
    return store;
  });

  t.test('two stores on one Redis (two router nodes) share the count', async (t) => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const [a, b] = [RedisRateLimitStore.open(url, { prefix, clock: { now: () => clock.now } }), RedisRateLimitStore.open(url, { prefix, clock: { now: () => clock.now } })];
    t.teardown(() => Promise.all([a.close(), b.close()]));
    t.match(await a.hit('signin:192.0.2.1', 2, 60_000), { allowed: true }, 'the first attempt passes on one node');
    t.match(await b.hit('signin:192.0.2.1', 2, 60_000), { allowed: true }, 'the second passes on the other');
    t.match(await a.hit('signin:192.0.2.1', 2, 60_000), { allowed: false }, 'the third is refused, whichever node counts it');
  });

  t.test('a counter expires in Redis once its window is over', async (t) => {
    const k = `signin:${uniqueName('x')}`;
    const store = RedisRateLimitStore.open(url, { prefix });
    t.teardown(() => store.close());
    await store.hit(k, 5, 60_000);
    const [name] = await admin.keys(`${prefix}${k}:*`);
    const ttl = await admin.pttl(name!);
    t.ok(ttl > 0 && ttl <= 120_000, `the key carries an expiry of at most two windows (${ttl} ms)`);
  });
});
