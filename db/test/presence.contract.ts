/**
 * What every PresenceStore must do, run against each implementation by presence.test.ts. A pair
 * is two nodes' views of one presence (the memory store is one process: both are the same store).
 */
import type { Test } from 'tap';
import { ManualScheduler } from '../../test/support/clock.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { PresenceStore } from '../presence.port.ts';

export interface PresencePair {
  one: PresenceStore;
  two: PresenceStore;
}

/**
 * Writes are fire-and-forget. A store's ping goes down the same connection after them and is
 * answered after them, so once both nodes' pings are back, every write so far has landed. A ping
 * refuses at once while its connection is still being made (readiness must not wait); writes made
 * meanwhile are queued and sent first once it is up, so a ping that then answers comes after them.
 */
async function settle({ one, two }: PresencePair): Promise<void> {
  const answered = (store: PresenceStore) => store.ping().then(() => true, () => false);
  if (!(await waitFor(async () => (await answered(one)) && (await answered(two))))) throw new Error('the presence stores never answered a ping');
}

/** `open` makes a pair whose stores read the time from `clock`. */
export async function presenceContract(t: Test, open: (t: Test, clock: ManualScheduler) => Promise<PresencePair>): Promise<void> {
  t.test('a user with a socket is online, on every node', async (t) => {
    const pair = await open(t, new ManualScheduler());
    const { one, two } = pair;
    one.connected(1);
    await settle(pair);
    t.equal(await one.isOnline(1), true, 'online on the node holding the socket');
    t.equal(await two.isOnline(1), true, 'and seen online from the other node');
    t.equal(await two.isOnline(2), false, 'a user never seen is offline');
  });

  t.test('presenceOf answers for many users in one call', async (t) => {
    const clock = new ManualScheduler();
    const pair = await open(t, clock);
    const { one, two } = pair;
    one.connected(1);
    one.connected(2);
    two.connected(3);
    await settle(pair);
    clock.advance(1_000);
    const closedAt = clock.now();
    one.disconnected(2);
    await settle(pair);
    clock.advance(1_000);
    const got = await two.presenceOf([1, 2, 3, 4]);
    t.same(got.get(1), { online: true, lastSeen: null }, 'user 1 is online (a socket on the other node)');
    t.same(got.get(3), { online: true, lastSeen: null }, 'user 3 is online (a socket on this node)');
    t.equal(got.get(2)?.online, false, 'user 2 went offline');
    t.equal(got.get(2)?.lastSeen, closedAt, 'user 2 was last seen when their socket closed');
    t.equal(await two.lastSeen(2), closedAt, 'lastSeen agrees');
    t.same(got.get(4), { online: false, lastSeen: null }, 'user 4 was never seen');
    t.same((await one.presenceOf([])).size, 0, 'no ids, no answers');
  });

  t.test('a user stays online until their last socket on the last node closes', async (t) => {
    const pair = await open(t, new ManualScheduler());
    const { one, two } = pair;
    one.connected(5);
    one.connected(5);
    two.connected(5);
    one.disconnected(5);
    await settle(pair);
    t.equal(await two.isOnline(5), true, 'one of two sockets on a node closed: still online');
    one.disconnected(5);
    await settle(pair);
    t.equal(await one.isOnline(5), true, 'no socket left on node one, one on node two: still online');
    two.disconnected(5);
    await settle(pair);
    t.equal(await one.isOnline(5), false, 'the last socket closed: offline');
    t.equal((await one.presenceOf([5])).get(5)?.online, false, 'presenceOf agrees');
  });
}
