/**
 * The WebSocket heartbeat, on a node whose timers run on a manual clock: the test moves time one
 * heartbeat tick at a time and, between ticks, waits for what the tick caused (pings received,
 * pongs back at the server), so the outcome never depends on how fast the machine is.
 */
import t, { type Test } from 'tap';
import { HEARTBEAT_SLICES } from '../src/socket/gateway.ts';
import { ManualScheduler } from '../../test/support/clock.ts';
import { modes, startNode, type Harness } from '../../test/support/router.harness.ts';
import { waitFor } from '../../test/support/wait.ts';

const HEARTBEAT_MS = 30_000;
const TICK_MS = HEARTBEAT_MS / HEARTBEAT_SLICES;

async function node(t: Test, env: Record<string, string>): Promise<{ h: Harness; clock: ManualScheduler }> {
  const clock = new ManualScheduler();
  const h = await startNode(t, { ...env, HEARTBEAT_MS: String(HEARTBEAT_MS) }, undefined, { scheduler: clock });
  return { h, clock };
}

/**
 * Runs `ticks` heartbeat ticks; after each, waits until every socket that answers pings has had
 * its pong back at the server, as it would between two ticks on a real clock.
 */
async function beat(t: Test, h: Harness, clock: ManualScheduler, ticks: number, silent: ReadonlySet<number> = new Set()): Promise<void> {
  const answered = () => [...h.node.registry.all()].every((c) => c.alive || silent.has(c.user.id));
  for (let i = 0; i < ticks; i++) {
    clock.advance(TICK_MS);
    if (!(await waitFor(answered))) return void t.fail(`tick ${i + 1}: a socket that answers pings had no pong back`);
  }
}

for (const mode of modes(t, 'the heartbeat')) {
  t.test(`on the ${mode.name}`, async (t) => {
    t.test('the heartbeat pings every socket once per interval, spread over it rather than all at once', async (t) => {
      const { h, clock } = await node(t, await mode.env(t));
      const pings: number[] = [];
      for (let i = 0; i < 10; i++) {
        const c = await (await h.user()).connect();
        pings.push(0);
        c.ws.on('ping', () => pings[i]!++);
      }
      const perTick: number[] = [];
      let before = 0;
      for (let tick = 0; tick < 3 * HEARTBEAT_SLICES; tick++) {
        await beat(t, h, clock, 1);
        const total = pings.reduce((a, b) => a + b, 0);
        perTick.push(total - before);
        before = total;
      }
      t.same(pings, Array(10).fill(3), 'in three intervals every socket was pinged three times');
      t.ok(Math.max(...perTick) <= Math.ceil(10 / HEARTBEAT_SLICES), `no tick pinged more than its slice of the sockets (pings per tick: ${perTick.join(' ')})`);
      const ticksWithPings = perTick.slice(0, HEARTBEAT_SLICES).filter((n) => n > 0).length;
      t.ok(ticksWithPings >= 5, `the first interval's pings went out on ${ticksWithPings} of its ${HEARTBEAT_SLICES} ticks`);
    });

    t.test('a client that does not answer pings is cut within two heartbeats, and one that answers stays', async (t) => {
      const { h, clock } = await node(t, await mode.env(t));
      const observer = await h.user();
      const o = await observer.connect();
      const ghost = await h.user();
      const g = await ghost.connect({ autoPong: false });
      const silent = new Set([ghost.id]);
      // One interval: the ghost is pinged once and does not answer.
      await beat(t, h, clock, HEARTBEAT_SLICES, silent);
      t.equal(h.node.registry.ofUser(ghost.id)?.size, 1, 'after one interval the silent client is still connected (pinged, unanswered)');
      // The next tick of its slice finds the ping unanswered and cuts it.
      await beat(t, h, clock, HEARTBEAT_SLICES, silent);
      if (!(await waitFor(() => g.ws.readyState === g.ws.CLOSED))) return void t.fail('the silent client was not cut in the second interval');
      const closed = await g.closed;
      t.equal(closed.code, 1006, 'the TCP connection was cut without a close frame (1006)');
      t.ok(await waitFor(() => !h.node.registry.ofUser(ghost.id)), 'the registry no longer holds the socket');
      await beat(t, h, clock, 3 * HEARTBEAT_SLICES);
      t.equal(o.ws.readyState, o.ws.OPEN, 'a client that answers pings stays connected');
      t.equal(h.node.registry.ofUser(observer.id)?.size, 1, 'and stays in the registry');
      const sender = await (await h.user()).connect();
      await sender.sendMessage({ to: observer.id }, 'still here');
      await o.next('message.new', (f) => f.message.body === 'still here');
      t.pass('and still receives messages');
    });
  });
}
