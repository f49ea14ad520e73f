/**
 * What every PresenceStore must do, run against each implementation by presence.test.ts. A pair
 * is two nodes' views of one presence (the memory store is one process: both are the same store).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import type { PresenceStore } from '../presence.port.ts';

export interface PresencePair {
  one: PresenceStore;
  two: PresenceStore;
}

/** Writes are fire-and-forget; give them a moment to land before reading from another node. */
const SETTLE_MS = 50;

export async function presenceContract(t: Test, open: (t: Test) => Promise<PresencePair>): Promise<void> {
  t.test('a user with a socket is online, on every node', async (t) => {
    const { one, two } = await open(t);
    one.connected(1);
    await sleep(SETTLE_MS);
    t.equal(await one.isOnline(1), true, 'online on the node holding the socket');
    t.equal(await two.isOnline(1), true, 'and seen online from the other node');
    t.equal(await two.isOnline(2), false, 'a user never seen is offline');
  });

  t.test('presenceOf answers for many users in one call', async (t) => {
    const { one, two } = await open(t);
    one.connected(1);
    one.connected(2);
    two.connected(3);
    await sleep(SETTLE_MS);
    const before = Date.now();
    one.disconnected(2);
    await sleep(SETTLE_MS);
    const got = await two.presenceOf([1, 2, 3, 4]);
    t.same(got.get(1), { online: true, lastSeen: null }, 'user 1 is online (a socket on the other node)');
    t.same(got.get(3), { online: true, lastSeen: null }, 'user 3 is online (a socket on this node)');
    t.equal(got.get(2)?.online, false, 'user 2 went offline');
    t.ok((got.get(2)?.lastSeen ?? 0) >= before - 5, 'user 2 was last seen when their socket closed');
    t.same(got.get(4), { online: false, lastSeen: null }, 'user 4 was never seen');
    t.same((await one.presenceOf([])).size, 0, 'no ids, no answers');
  });

  t.test('a user stays online until their last socket on the last node closes', async (t) => {
    const { one, two } = await open(t);
    one.connected(5);
    one.connected(5);
    two.connected(5);
    one.disconnected(5);
    await sleep(SETTLE_MS);
    t.equal(await two.isOnline(5), true, 'one of two sockets on a node closed: still online');
    one.disconnected(5);
    await sleep(SETTLE_MS);
    t.equal(await one.isOnline(5), true, 'no socket left on node one, one on node two: still online');
    two.disconnected(5);
    await sleep(SETTLE_MS);
    t.equal(await one.isOnline(5), false, 'the last socket closed: offline');
    t.equal((await one.presenceOf([5])).get(5)?.online, false, 'presenceOf agrees');
  });
}
