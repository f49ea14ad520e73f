import { Redis } from 'ioredis';
import t from 'tap';

import { need, uniqueName } from '../../test/support/services.ts';
import { MemorySessionStore } from '../session.memory.ts';
import { RedisSessionStore } from '../session.redis.ts';
import { sessionContract } from './session.contract.ts';

t.test('the memory session store', async (t) => {
  await sessionContract(t, async (t) => {
    const store = new MemorySessionStore();
    t.teardown(() => store.close());
    return store;
  });
});

t.test('the Redis session store', async (t) => {
  const url = need(t, 'REDIS_URL', 'Redis session store');
  if (!url) return;
  // Every store of this file writes under this prefix; the teardown deletes it all.
  const base = uniqueName('sess');
  const admin = new Redis(url);
  t.teardown(async () => {
    const keys = await admin.keys(`${base}:*`);
    if (keys.length) await admin.del(...keys);
    await admin.quit();
  });

  await sessionContract(t, async (t) => {
    const store = RedisSessionStore.open(url, { prefix: `${base}:${uniqueName('s')}:` });
    t.teardown(() => store.close());
    return store;
  });

  t.test('the user index lives exactly as long as the user\'s newest session', async (t) => {
    const prefix = `${base}:index:`;
    const store = new RedisSessionStore(admin, { prefix });
    await store.create(3, 60_000);
    await store.create(3, 120_000);
    const ttl = await admin.pttl(`${prefix}user:3`);
    t.ok(ttl > 110_000 && ttl <= 120_000, `the index expires with the longest session (pttl ${ttl})`);
    await store.close();
    t.equal(await admin.ping(), 'PONG', 'closing a store on a borrowed client leaves the client open');
  });

  t.test('a stored value that is not a session reads as null', async (t) => {
    const prefix = `${base}:junk:`;
    const store = new RedisSessionStore(admin, { prefix });
    const id = 'B'.repeat(43);
    await admin.set(`${prefix}${id}`, 'not json', 'PX', 60_000);
    t.equal(await store.get(id), null, 'unparsable JSON is no session');
    t.equal(await store.touch(id, 60_000), false, 'and cannot be touched');
  });
});
