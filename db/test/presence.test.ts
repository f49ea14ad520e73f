import { Redis } from 'ioredis';
import t from 'tap';
import { waitFor } from '../../test/support/wait.ts';

import { ManualScheduler } from '../../test/support/clock.ts';
import { need, uniqueName } from '../../test/support/services.ts';
import { MemoryPresenceStore } from '../presence.memory.ts';
import { RedisPresenceStore } from '../presence.redis.ts';
import { presenceContract } from './presence.contract.ts';

t.test('the memory presence store', async (t) => {
  await presenceContract(t, async (_t, clock) => {
    const store = new MemoryPresenceStore({ clock });
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

  await presenceContract(t, async (t, scheduler) => {
    const prefix = `${base}:${uniqueName('p')}:`;
    const one = RedisPresenceStore.open(url, { prefix, nodeId: 'one', scheduler });
    const two = RedisPresenceStore.open(url, { prefix, nodeId: 'two', scheduler });
    t.teardown(() => Promise.all([one.close(), two.close()]));
    return { one, two };
  });
});

t.test('the Redis presence heartbeat keeps a live node counted and lets a dead one expire', async (t) => {
  const url = need(t, 'REDIS_URL', 'Redis presence heartbeat');
  if (!url) return;
  const prefix = `${uniqueName('presence')}:`;
  // Entries expire and heartbeats run by this clock. Redis's own key expiry runs in real time, and
  // in real time the test is over long before 30 s: it can only renew keys, never decide an outcome.
  const clock = new ManualScheduler();
  const ttlMs = 30_000;
  const admin = new Redis(url);
  const crashing = new Redis(url);
  crashing.on('error', () => {});
  const live = RedisPresenceStore.open(url, { prefix, nodeId: 'live', ttlMs, scheduler: clock });
  const dying = new RedisPresenceStore(crashing, { prefix, nodeId: 'dying', ttlMs, scheduler: clock });
  const reader = RedisPresenceStore.open(url, { prefix, nodeId: 'reader', ttlMs, scheduler: clock });
  t.teardown(async () => {
    await Promise.all([live.close(), reader.close()]);
    crashing.disconnect();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    await admin.quit();
  });
  // A store's writes go down its connection before its ping: once the ping answers they have landed
  // (a ping refuses at once while the connection is still being made; writes wait and go first).
  const answered = (store: { ping(): Promise<void> }) => store.ping().then(() => true, () => false);
  const landed = async (...stores: Array<{ ping(): Promise<void> }>) => {
    const all = async () => (await Promise.all(stores.map(answered))).every(Boolean);
    if (!(await waitFor(all))) throw new Error('the presence stores never answered a ping');
  };

  live.connected(1);
  live.connected(1);
  live.connected(2);
  dying.connected(3);
  await landed(live, dying);
  // Three ttls: without the heartbeat every entry would have expired twice over.
  clock.advance(3 * ttlMs);
  await landed(live, dying);
  t.same(await reader.presenceOf([1, 2]), new Map([[1, { online: true, lastSeen: null }], [2, { online: true, lastSeen: null }]]), 'the live node\'s users stay online');
  t.match(await admin.hget(`${prefix}u:1`, 'live'), new RegExp(`^2:${clock.now() + ttlMs}$`), 'the heartbeat keeps each user\'s socket count, valid a ttl from its last beat');
  t.ok((await admin.pttl(`${prefix}u:2`)) > 0, 'and renews the key\'s expiry');
  t.equal(await reader.isOnline(3), true, 'the other node\'s user is online while it beats');

  // A crash: the node stops writing without removing its entries.
  crashing.disconnect();
  clock.advance(ttlMs - 1);
  await landed(live);
  t.equal(await reader.isOnline(3), true, 'a node that stopped beating still counts until its last entry runs out');
  clock.advance(1);
  await landed(live);
  t.equal(await reader.isOnline(3), false, 'a node that stopped beating stops counting within the ttl');
  t.equal(await reader.isOnline(1), true, 'while the live node\'s users stay online');
});
