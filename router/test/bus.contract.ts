/**
 * What every Bus must do, run against each transport by bus.test.ts. Cross-node cases need two
 * nodes on one transport; a transport that is a single node (the in-process bus) skips them.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { Test } from 'tap';

import { waitFor } from '../../test/support/wait.ts';
import { until } from '../../test/support/wait.ts';
import type { Bus, BusEvent } from '../src/live/bus.port.ts';

/** Two nodes for one case; the factory closes both (and cleans up) in `t.teardown`. */
export interface BusPair {
  a: Bus;
  b: Bus;
  /** Everything either node reported through its onError option. */
  errors: Error[];
  /** Puts raw bytes on the wire as if some peer had published them; only when `wire` is true. */
  publishRaw?: (content: Buffer) => Promise<void>;
  /** Cuts node `a` off the broker and lets it back; only when `cuttable` is true. */
  cut?: { sever(): void; restore(): void };
}

export interface BusPairFactory {
  /** True when `a` and `b` are two nodes; false when they are one and the same node. */
  multiNode: boolean;
  /** True when there is a wire to put malformed bytes on (publishRaw is given). */
  wire: boolean;
  /** True when node `a`'s link to the broker can be cut (cut is given). */
  cuttable?: boolean;
  open(t: Test): Promise<BusPair>;
}

/** How long a case waits for expected events before it fails, in ms. */
const PATIENCE_MS = 15_000;
/** How long a case waits for unexpected extra deliveries before counting, in ms. */
const SETTLE_MS = 200;

const receipt = (seq: number): BusEvent => ({ kind: 'receipt', room: '1-2', members: [1, 2], user: 2, receipt: 'delivered', seq });
const typing = (user: number): BusEvent => ({ kind: 'typing', room: '1-2', members: [1, 2], origin: 'c1', user, active: true });

/** Subscribes to a bus and records what arrives. */
function collect(bus: Bus) {
  const events: BusEvent[] = [];
  let want = Number.POSITIVE_INFINITY;
  let wake = (): void => {};
  bus.subscribe((event) => {
    events.push(event);
    if (events.length >= want) wake();
  });
  return {
    events,
    /** Resolves once `n` events arrived in total; rejects after PATIENCE_MS. */
    async waitFor(n: number): Promise<void> {
      if (events.length >= n) return;
      want = n;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${n} events arrived in ${PATIENCE_MS} ms`)), PATIENCE_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}

function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

/** Runs the bus contract as nested tests of `t`. */
export async function busContract(t: Test, makePair: BusPairFactory): Promise<void> {
  const single = !makePair.multiNode;

  t.test('an event published on a node reaches its own subscriber exactly once', async (t) => {
    const { a } = await makePair.open(t);
    const got = collect(a);
    a.publish(typing(1));
    await got.waitFor(1);
    await sleep(SETTLE_MS);
    t.same(got.events, [typing(1)], 'the publishing node got the event once');
  });

  // A single-node transport has no second node to reach: the case does not apply, so it is not defined.
  if (!single) t.test('an event published on one node reaches both nodes exactly once', async (t) => {
    const { a, b } = await makePair.open(t);
    const onA = collect(a);
    const onB = collect(b);
    a.publish(typing(1));
    b.publish(typing(2));
    await Promise.all([onA.waitFor(2), onB.waitFor(2)]);
    await sleep(SETTLE_MS);
    const users = (events: BusEvent[]) => events.map((e) => (e.kind === 'typing' ? e.user : -1)).sort();
    t.same(users(onA.events), [1, 2], 'node A got its own event and B\'s, once each');
    t.same(users(onB.events), [1, 2], 'node B got its own event and A\'s, once each');
  });

  t.test('a burst of 5,000 events arrives complete and in publish order on every node', async (t) => {
    const { a, b } = await makePair.open(t);
    const receivers = makePair.multiNode ? [collect(a), collect(b)] : [collect(a)];
    const started = performance.now();
    for (let seq = 0; seq < 5000; seq++) a.publish(receipt(seq));
    await Promise.all(receivers.map((r) => r.waitFor(5000)));
    const ms = performance.now() - started;
    t.comment(`5,000 events reached ${receivers.length} node(s) in ${ms.toFixed(0)} ms (${Math.round(5000 / (ms / 1000))} events/s)`);
    await sleep(SETTLE_MS);
    receivers.forEach((r, node) => {
      const seqs = r.events.map((e) => (e.kind === 'receipt' ? e.seq : -1));
      t.equal(seqs.length, 5000, `node ${node} got exactly 5,000 events`);
      t.ok(seqs.every((seq, i) => seq === i), `node ${node} got them in publish order`);
    });
  });

  t.test('flush resolves once everything published so far has gone out', async (t) => {
    const { a } = await makePair.open(t);
    const got = collect(a);
    await t.resolves(a.flush(), 'flush with nothing published resolves');
    for (let seq = 0; seq < 10; seq++) a.publish(receipt(seq));
    await t.resolves(a.flush(), 'flush after publishing resolves');
    t.equal(got.events.length, 10, 'the local subscriber has all ten by then');
  });

  t.test('a throwing subscriber does not stop delivery', async (t) => {
    const { a, errors } = await makePair.open(t);
    const seen: number[] = [];
    a.subscribe((event) => {
      if (event.kind !== 'receipt') return;
      seen.push(event.seq);
      if (event.seq === 0) throw new Error('handler bug');
    });
    a.publish(receipt(0));
    a.publish(receipt(1));
    await a.flush();
    // flush means sent, not yet delivered back through the broker: wait for the delivery itself.
    await waitFor(() => seen.length >= 2);
    t.same(seen, [0, 1], 'the event after the throwing one was still delivered');
    t.ok(errors.some((e) => e.message === 'handler bug'), 'the handler\'s error was reported through onError');
  });

  // Likewise a transport without a wire cannot receive a malformed message.
  if (makePair.wire) t.test('a malformed message on the wire is dropped and the next event still arrives', async (t) => {
    const { a, b, errors, publishRaw } = await makePair.open(t);
    const onB = collect(b);
    const junk = ['', 'not json', '{"kind":"typing"}', '[null, 42, {"kind":"nope"}]', '[{"kind":"typing","room":"1-2"}]'];
    for (const raw of junk) await publishRaw!(Buffer.from(raw));
    await publishRaw!(Buffer.from(JSON.stringify([typing(7), { kind: 'bogus' }])));
    a.publish(typing(1));
    await onB.waitFor(2);
    await sleep(SETTLE_MS);
    t.same(onB.events, [typing(7), typing(1)], 'only the valid events arrived, in order');
    t.ok(errors.length >= junk.length + 1, `every malformed message was reported (${errors.length} reports)`);
  });

  // A transport without a broker has no link to lose.
  if (makePair.cuttable) t.test('a node cut off from the broker is unready, keeps local delivery, and comes back by itself', async (t) => {
    const { a, b, cut } = await makePair.open(t);
    const onA = collect(a);
    const onB = collect(b);
    let dropped = 0;
    a.onDrop?.((n) => (dropped += n));
    const ready = (bus: Bus) => bus.ping().then(() => true, () => false);
    a.publish(typing(1));
    await onB.waitFor(1);
    cut!.sever();
    await until(async () => !(await ready(a)), PATIENCE_MS, 'node A to report itself unready');
    t.pass('node A is unready while the broker is out of reach');
    t.ok(await ready(b), 'node B, still connected, stays ready');
    a.publish(typing(2));
    await onA.waitFor(2);
    t.same(onA.events, [typing(1), typing(2)], 'node A still delivers its own events to its own subscriber');
    cut!.restore();
    await until(() => ready(a), PATIENCE_MS, 'node A to be ready again');
    t.pass('node A is ready again by itself');
    a.publish(typing(3));
    await onB.waitFor(2);
    await sleep(SETTLE_MS);
    t.same(onB.events, [typing(1), typing(3)], 'node B gets A\'s events again; the one published during the outage was dropped');
    if (a.onDrop) t.ok(dropped >= 1, `the dropped event was counted (${dropped})`);
  });

  t.test('close is clean', async (t) => {
    const baseline = tcpSockets();
    const { a, b } = await makePair.open(t);
    const got = collect(a);
    a.publish(typing(1));
    await a.close();
    await b.close();
    t.same(got.events, [typing(1)], 'an event published before close was delivered');
    t.doesNotThrow(() => a.publish(typing(2)), 'publishing after close does not throw');
    await t.resolves(a.flush(), 'flush after close resolves');
    await t.rejects(a.ping(), 'ping after close rejects (not ready)');
    await t.resolves(a.close(), 'closing again resolves');
    await waitFor(() => tcpSockets() <= baseline);
    t.equal(tcpSockets(), baseline, 'no socket of the bus is left open');
  });
}
