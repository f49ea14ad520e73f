/** The visibility rules and each node's record of its users' privacy, without a server. */
import t from 'tap';
import type { PrivacyRecord } from '../../db/privacy.port.ts';
import { PrivacyCache } from '../src/privacy/privacy.cache.ts';
import { seesPresence, visibleMarks, type Viewer } from '../src/privacy/privacy.rules.ts';

const viewer = (over: Partial<Viewer> = {}): Viewer => ({ id: 1, blocks: new Set(), contacts: new Set([2]), seesReads: true, ...over });

t.test('presence: everyone, contacts (1:1 partners), nobody; never across a block; always oneself', async (t) => {
  t.ok(seesPresence(viewer(), 3, { lastSeen: 'everyone', readReceipts: true }), 'everyone: a group-only acquaintance sees it');
  t.ok(seesPresence(viewer(), 2, { lastSeen: 'contacts', readReceipts: true }), 'contacts: a 1:1 partner sees it');
  t.notOk(seesPresence(viewer(), 3, { lastSeen: 'contacts', readReceipts: true }), 'contacts: a group-only acquaintance does not');
  t.notOk(seesPresence(viewer(), 2, { lastSeen: 'nobody', readReceipts: true }), 'nobody: not even a contact');
  t.notOk(seesPresence(viewer({ blocks: new Set([2]) }), 2), 'a block hides it under the defaults');
  t.ok(seesPresence(viewer(), 1, { lastSeen: 'nobody', readReceipts: true }), 'one\'s own is always shown');
});

t.test('marks: a block hides both, receipts off on either side make read count as delivered, own marks stay', async (t) => {
  const marks = { delivered: { 1: 5, 2: 4, 3: 4, 4: 4 }, read: { 1: 5, 2: 3, 3: 3, 4: 3 } };
  const settings = new Map([[3, { lastSeen: 'everyone' as const, readReceipts: false }]]);
  t.same(visibleMarks(viewer({ blocks: new Set([4]) }), marks, settings), { delivered: { 1: 5, 2: 4, 3: 4 }, read: { 1: 5, 2: 3 } }, 'user 3 has them off, user 4 is blocked');
  t.same(visibleMarks(viewer({ seesReads: false }), marks, settings), { delivered: { 1: 5, 2: 4, 3: 4, 4: 4 }, read: { 1: 5 } }, 'a viewer with them off sees only their own read mark');
});

t.test('the cache: loaded once, events applied on top of a load in flight, both sides of a block', async (t) => {
  let release!: (r: PrivacyRecord) => void;
  let loads = 0;
  const cache = new PrivacyCache(() => {
    loads++;
    return new Promise((resolve) => (release = resolve));
  });
  const loading = cache.ensure(1);
  t.equal(cache.get(1), undefined, 'nothing before the load');
  cache.onEvent({ kind: 'privacy', user: 1, block: { user: 7, on: true } });
  cache.onEvent({ kind: 'privacy', user: 8, block: { user: 1, on: true } });
  cache.onEvent({ kind: 'privacy', user: 1, settings: { lastSeen: 'nobody', readReceipts: false } });
  release({ settings: { lastSeen: 'everyone', readReceipts: true }, blocked: [5], blockedBy: [] });
  const live = await loading;
  t.same([...live.blocked].sort(), [5, 7], 'a block made while loading is kept');
  t.same([...live.blockedBy], [8], 'so is one of the user');
  t.same(live.settings, { lastSeen: 'nobody', readReceipts: false }, 'and a change of settings');
  t.equal(cache.seesReads(1), false, 'read receipts off');
  t.same(cache.hideFrom(1)?.sort(), [5, 7, 8], 'typing and receipts skip both sides of every block');
  await cache.ensure(1);
  t.equal(loads, 1, 'loaded once');
  cache.onEvent({ kind: 'privacy', user: 1, block: { user: 7, on: false } });
  cache.onEvent({ kind: 'privacy', user: 1, block: { user: 7, on: false } });
  t.same([...cache.get(1)!.blocked], [5], 'an unblock, twice, changes it once');
  cache.forget(1);
  t.equal(cache.get(1), undefined, 'forgotten when the last socket closes');
  t.equal(cache.seesReads(1), true, 'and an unknown user sees reads');
});
