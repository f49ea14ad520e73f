import { Redis } from 'ioredis';
import t from 'tap';

import { need, uniqueName } from '../../test/support/services.ts';
import { MemoryPresenceStore } from '../presence.memory.ts';
import { RedisPresenceStore } from '../presence.redis.ts';
import { presenceContract } from './presence.contract.ts';

t.test('the memory presence store', async (t) => {
  await presenceContract(t, async () => {
    const store = new MemoryPresenceStore();
    return { one: store, two: store };
  });
});

t.test('the Redis presence store, two nodes', async (t) => {
  const url = need(t, 'REDIS_URL', 'Redis presence store');
  if (!url) return;
  const base = uniqueName('presence');
  const admin = new Redis(url);
  t.teardown(async () => {
    const keys = await admin.keys(`${base}:*`);
    if (keys.length) await admin.del(...keys);
    await admin.quit();
  });

  await presenceContract(t, async (t) => {
    const prefix = `${base}:${uniqueName('p')}:`;
    const one = RedisPresenceStore.open(url, { prefix, nodeId: 'one' });
    const two = RedisPresenceStore.open(url, { prefix, nodeId: 'two' });
    t.teardown(() => Promise.all([one.close(), two.close()]));
    return { one, two };
  });
});
