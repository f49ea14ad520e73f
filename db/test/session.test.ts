import { Redis } from 'ioredis';
import t from 'tap';

import { need, uniqueName } from '../../test/support/services.ts';
import { waitFor } from '../../test/support/wait.ts';
import { MemorySessionStore } from '../session.memory.ts';
import { RedisSessionStore } from '../session.redis.ts';
import { sessionContract } from './session.contract.ts';

t.test('the memory session store', async (t) => {
  await sessionContract(t, async (t, clock, maxPerUser) => {
    const store = new MemorySessionStore({ clock, maxPerUser });
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

  await sessionContract(t, async (t, clock, maxPerUser) => {
    const store = RedisSessionStore.open(url, { prefix: `${base}:${uniqueName('s')}:`, clock, maxPerUser });
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

  t.test('Redis expires a session by the TTL it was given, and touch renews it', async (t) => {
    const prefix = `${base}:pttl:`;
    const store = new RedisSessionStore(admin, { prefix });
    const session = await store.create(4, 60_000);
    // Redis counts down in real time: the bounds leave a busy machine ten seconds between the calls.
    const ttl = await admin.pttl(`${prefix}${session.id}`);
    t.ok(ttl > 50_000 && ttl <= 60_000, `the key expires with the session (pttl ${ttl})`);
    t.equal(await store.touch(session.id, 120_000), true, 'the session is touched');
    const touched = await admin.pttl(`${prefix}${session.id}`);
    t.ok(touched > 110_000 && touched <= 120_000, `touch gives the key the new TTL (pttl ${touched})`);
  });

  t.test('a session whose key Redis has expired reads as null', async (t) => {
    const prefix = `${base}:expired:`;
    const store = new RedisSessionStore(admin, { prefix });
    const session = await store.create(6, 3_600_000);
    const key = `${prefix}${session.id}`;
    // Redis's expiry cannot take our clock: expire the key now, then wait until Redis says it is gone.
    await admin.pexpire(key, 1);
    t.ok(await waitFor(async () => (await admin.exists(key)) === 0), 'Redis expired the key');
    t.equal(await store.get(session.id), null, 'get finds no session');
    t.equal(await store.touch(session.id, 3_600_000), false, 'and touch cannot bring it back');
    t.same(await store.deleteAllOf(6), [], 'nor does sign-out-everywhere report it');
  });

  t.test('a session stored before sessions had metadata reads with defaults and keeps its fields through touch', async (t) => {
    const prefix = `${base}:legacy:`;
    const store = new RedisSessionStore(admin, { prefix });
    const id = 'C'.repeat(43);
    const createdAt = Date.now();
    await admin.set(`${prefix}${id}`, JSON.stringify({ userId: 8, createdAt, expiresAt: createdAt + 3_600_000 }), 'PX', 3_600_000);
    await admin.zadd(`${prefix}user:8`, createdAt + 3_600_000, id);
    t.match(await store.get(id), { userId: 8, lastActiveAt: createdAt, userAgent: '', method: '' }, 'active when created, device and method unknown');
    t.equal(await store.touch(id, 3_600_000), true, 'it can be touched');
    const stored = JSON.parse((await admin.get(`${prefix}${id}`))!);
    t.match(stored, { userId: 8, createdAt, userAgent: '', method: '' }, 'touch writes the new fields');
    t.same((await store.listOf(8)).map((s) => s.id), [id], 'and it is listed');
  });

  t.test('delete takes the session out of the user index at once', async (t) => {
    const prefix = `${base}:delindex:`;
    const store = new RedisSessionStore(admin, { prefix });
    const a = await store.create(9, 60_000);
    const b = await store.create(9, 60_000);
    await store.delete(a.id);
    t.same(await admin.zrange(`${prefix}user:9`, 0, '-1'), [b.id], 'only the live session is indexed');
  });

  t.test('the user index never holds more than maxPerUser ids', async (t) => {
    const prefix = `${base}:bounded:`;
    const store = new RedisSessionStore(admin, { prefix, maxPerUser: 5 });
    for (let i = 0; i < 12; i++) await store.create(10, 60_000 + i);
    t.equal(await admin.zcard(`${prefix}user:10`), 5, 'twelve sign-ins leave five ids in the index');
    t.equal((await admin.keys(`${prefix}*`)).length, 6, 'and five session keys beside it');
    t.ok((await admin.pttl(`${prefix}user:10`)) > 0, 'the index expires');
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
