import { Redis } from 'ioredis';
import t from 'tap';
import { need, uniqueName } from '../../test/support/services.ts';
import { MemoryAttemptStore } from '../attempt.memory.ts';
import { RedisAttemptStore } from '../attempt.redis.ts';
import { attemptContract } from './attempt.contract.ts';

t.test('the memory attempt store', async (t) => {
  await attemptContract(t, async (t) => {
    const store = new MemoryAttemptStore();
    t.teardown(() => store.close());
    return store;
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
    return store;
  });
});
