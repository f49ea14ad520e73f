/**
 * The benchmark's group mode (router/bench, `--groups GxM`): the layout it deals, its options, and
 * the load generator against the bare fan-out forwarder, a real child process on loopback: every
 * member gets every message of its groups once, in order, and nobody else does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseOptions } from '../bench/bench.options.ts';
import { groupLayout } from '../bench/group.layout.ts';
import { LoadClient } from '../bench/load.client.ts';
import { newRunId, startBare } from '../bench/targets.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('the layout: G groups of M distinct members, every user in as many groups as the others (give or take one), the same every time', async (t) => {
  for (const [users, groups, members] of [
    [1000, 100, 50],
    [10, 7, 9],
    [100, 50, 3],
    [30, 1, 30],
  ] as const) {
    const layout = groupLayout(users, groups, members);
    t.equal(layout.length, groups, `${groups} groups`);
    t.ok(
      layout.every((g) => g.length === members && new Set(g).size === members && g.every((u) => u >= 0 && u < users)),
      `${groups}x${members} over ${users}: each group has ${members} distinct users`,
    );
    const counts = new Array<number>(users).fill(0);
    for (const g of layout) for (const u of g) counts[u]!++;
    t.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${groups}x${members} over ${users}: groups per user ${Math.min(...counts)}..${Math.max(...counts)}`);
    t.same(groupLayout(users, groups, members), layout, 'the same layout on every run, for every target');
  }
  t.throws(() => groupLayout(10, 1, 11), /members/);
});

t.test('the options: --groups GxM, its own default rates, and what it refuses', async (t) => {
  const o = parseOptions(['--groups', '100x50'], {});
  t.same(o.groups, { groups: 100, members: 50 });
  t.same(o.rates, [250, 500, 1000, 2000], 'group rates are messages/s, each delivered M-1 times');
  t.equal(o.groupAcks, false);
  t.same(parseOptions(['--groups=4x3', '--rates', '10', '--group-acks'], {}).rates, [10], 'given rates stay');
  t.equal(parseOptions([], {}).groups, undefined, 'the 1:1 mode by default');
  t.throws(() => parseOptions(['--groups', '100by50'], {}), /--groups: expected GxM/);
  t.throws(() => parseOptions(['--groups', '2x20', '--connections', '10'], {}), /20 members per group, but only 10 connections/);
  t.throws(() => parseOptions(['--group-acks'], {}), /only with --groups/);
});

t.test('the group mode against the bare fan-out forwarder: every member once, in order, nobody else', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'bench-groups-'));
  t.teardown(() => rm(tmp, { recursive: true, force: true }));
  const options = parseOptions(['--connections', '24', '--groups', '6x5'], {});
  const bare = await startBare({ options, root: ROOT, tmp, runId: newRunId() });
  t.teardown(() => bare.close());
  const load = await LoadClient.connect(bare.users, bare.endpoint, { bodyBytes: 64 });
  t.teardown(() => load.close());
  t.equal(load.fanout, 1, 'pairs until the groups exist');

  await load.createGroups(groupLayout(load.size, 6, 5), { name: 'test' });
  t.equal(load.fanout, 4, 'each message goes to the 4 other members');
  const step = await load.runStep({ id: 1, rate: 200, warmupMs: 0, windowMs: 300, drainMaxMs: 20_000, quietMs: 10_000 });
  t.equal(step.sent, 60, 'sent on the open-loop schedule');
  t.equal(step.expected, step.sent * 4);
  t.equal(step.delivered, step.expected, 'every member got every message of its groups');
  t.equal(step.duplicates, 0);
  t.equal(step.orderViolations, 0);
  t.equal(step.strays, 0, 'no member got a message of a group it is not in');
  t.equal(step.errors, 0);
  t.equal(step.acks, step.sent, 'every sender got its message.sent');
  t.equal(step.receipts, 0, 'members do not acknowledge without --group-acks');
  t.ok(Number.isFinite(step.p99) && step.p99 >= step.p50, 'latency of every copy measured');
  t.same(load.totals().expected, step.expected);
});
