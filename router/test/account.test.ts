/**
 * Deleting an account and exporting its data (docs/http-api.md), over real HTTP and WebSockets, on
 * the embedded default and the full stack; on the full stack also with two nodes, the deleted
 * user's socket on the other one. The handle's grace runs on a clock the test moves.
 */
import t, { type Test } from 'tap';
import { systemScheduler, type Scheduler } from '../../db/clock.ts';
import { CLOSE_CODES } from '../../protocol/errors.ts';
import type { AccountDeleteResponse, AccountExport } from '../../protocol/http.ts';
import { LIMITS, type Message } from '../../protocol/frames.ts';
import { createLogger } from '../../kit/logger.ts';
import { loadConfig } from '../src/config.ts';
import { ExportBusy, ExportService } from '../src/account/export.service.ts';
import { openStores } from '../src/stores.ts';
import { call } from '../../test/support/http.client.ts';
import { done, entry } from '../../test/support/group.requests.ts';
import { modes, startNode, TEST_ORIGIN, TestClient, testNodeEnv, type Harness, type TestUser } from '../../test/support/router.harness.ts';
import { uniqueName } from '../../test/support/services.ts';

const DAY = 24 * 3600_000;
const cookie = (u: TestUser | string) => `sid=${typeof u === 'string' ? u : u.sessionId}`;

/** The whole log of a room as a client reads it. */
async function history(c: TestClient, room: string): Promise<Message[]> {
  const ref = `h${Math.random()}`;
  c.send({ type: 'history.get', room, after: 0, limit: LIMITS.historyPageMax, ref });
  return (await c.next('history.page', (p) => p.ref === ref)).messages;
}

/** What a fresh sync of `user` says about `room`'s members. */
async function membersSeenBy(user: TestUser, room: string) {
  const c = await user.connect();
  c.send({ type: 'sync', ref: 'members', rooms: [] });
  const sync = await c.next('sync.done', (f) => f.ref === 'members');
  await c.close();
  return sync.rooms.find((r) => r.room === room)?.members ?? [];
}

for (const mode of modes(t, 'account deletion and export')) {
  t.test(`deleting and exporting an account on the ${mode.name}`, async (t) => {
    // The stores' clock runs `shift` ms ahead of real time: the handle's grace is tested by moving it.
    const clock = { shift: 0 };
    const scheduler: Scheduler = { ...systemScheduler, now: () => Date.now() + clock.shift };
    // Export budgets are counted in the rate-limit store (Redis on the full stack) by user id: a prefix of this run's own.
    const env = { ...(await mode.env(t)), EXPORT_RATE_LIMIT: '4', REDIS_KEY_PREFIX: `${uniqueName('account')}:` };
    const config = loadConfig(testNodeEnv(env));
    const stores = await openStores(config, createLogger(config.logLevel), { scheduler });
    t.teardown(() => stores.close());
    const h = await startNode(t, env, stores, { scheduler });
    const other = mode.name === 'full stack' ? await startNode(t, env) : undefined;
    await account(t, h, other, clock);
  });
}

async function account(t: Test, h: Harness, other: Harness | undefined, clock: { shift: number }): Promise<void> {
  const [ann, ben, cat] = await Promise.all([h.user(), h.user(), h.user()]);
  const [a, b, c] = await Promise.all([ann.connect(), ben.connect(), cat.connect()]);
  const direct = [ann.id, ben.id].sort((x, y) => x - y).join('-');
  const benCat = [ben.id, cat.id].sort((x, y) => x - y).join('-');
  const api = (path: string, init: Parameters<typeof call>[2] = {}) => call(h.httpUrl, path, { origin: TEST_ORIGIN, ...init });

  for (const body of ['one from ann', 'two from ann', 'three from ann']) t.match(await a.sendMessage({ to: ben.id }, body), { type: 'message.sent' }, 'ann writes to ben');
  t.match(await b.sendMessage({ room: direct }, 'one from ben'), { type: 'message.sent' }, 'ben answers');
  t.match(await b.sendMessage({ to: cat.id }, 'ben to cat, private'), { type: 'message.sent' }, 'ben writes to cat');
  const { room: group } = await done(a, { type: 'group.create', name: 'Walks', members: [ben.id, cat.id] });
  t.match(await a.sendMessage({ room: group }, 'ann in the group'), { type: 'message.sent' }, 'ann writes in the group she owns');
  await h.stores.auth.addPasskey(ann.id, { id: 'ann-credential-id', publicKey: new Uint8Array([1, 2, 3]), counter: 0, transports: ['internal'], deviceType: 'singleDevice', backedUp: false, name: 'Laptop' });
  await h.stores.auth.linkIdentity(ann.id, { provider: 'github', subject: 'gh-ann', email: 'ann@example.com', displayName: 'Ann' });
  await h.stores.notify.setEmail(ann.id, 'ann@example.com');
  await h.stores.notify.addSubscription(ann.id, { endpoint: 'https://push.example.com/ann', keys: { p256dh: 'p', auth: 'a' } });

  await t.test('the export is a JSON download of the caller\'s data and every message they sent, nobody else\'s', async (t) => {
    const res = await api('/api/me/export', { cookie: cookie(ann) });
    t.equal(res.status, 200, 'answered');
    t.match(res.headers['content-disposition'], /^attachment; filename="messenger-.+\.json"$/, 'as a download');
    t.match(res.headers['content-type'], /^application\/json/, 'of JSON');
    const doc = res.body as AccountExport;
    t.match(doc, { format: 'messenger.export.v1', profile: { id: ann.id, handle: ann.handle, email: 'ann@example.com' } }, 'the profile with its e-mail settings');
    t.same(doc.passkeys.map((p) => p.name), ['Laptop'], 'the passkey by name');
    t.notOk(JSON.stringify(doc.passkeys).includes('ann-credential-id'), 'never its credential id');
    t.same(doc.identities, [{ provider: 'github', email: 'ann@example.com', displayName: 'Ann', createdAt: doc.identities[0]!.createdAt }], 'the identity: provider and e-mail, no subject');
    t.same(doc.rooms.map((r) => r.id).sort(), [direct, group].sort(), 'her two rooms');
    t.match(doc.rooms.find((r) => r.id === group), { kind: 'group', name: 'Walks', leftSeq: null }, 'the group by name');
    t.same(doc.messages.map((m) => m.body).sort(), ['ann in the group', 'one from ann', 'three from ann', 'two from ann'], 'exactly the messages she sent');
    t.same(doc.messages.filter((m) => m.room === direct).map((m) => m.seq), [1, 2, 3], 'with their seqs, in order');
    const bens = (await api('/api/me/export', { cookie: cookie(ben) })).body as AccountExport;
    t.same(bens.messages.map((m) => m.body).sort(), ['ben to cat, private', 'one from ben'], 'ben\'s export: his own messages only');
    t.notOk(JSON.stringify(bens).includes('from ann'), 'nothing ann sent');
  });

  await t.test('exports are refused when over the per-user budget, with Retry-After', async (t) => {
    // One export of hers above, the budget is 4 per hour: three more pass, the fifth is refused.
    for (let i = 2; i <= 4; i++) t.equal((await api('/api/me/export', { cookie: cookie(ann) })).status, 200, `export ${i} passes`);
    const refused = await api('/api/me/export', { cookie: cookie(ann) });
    t.match(refused, { status: 429, body: { error: { code: 'export_busy' } } }, 'the next is export_busy');
    t.ok(Number(refused.headers['retry-after']) >= 1, 'with Retry-After');
    t.equal((await api('/api/me/export')).status, 401, 'and nobody exports without a session');
  });

  await t.test('deleting asks for the handle and refuses another', async (t) => {
    t.match(await api('/api/me', { method: 'DELETE', cookie: cookie(ann), body: { handle: ben.handle } }), { status: 400, body: { error: { code: 'confirmation_mismatch' } } }, 'someone else\'s handle is refused');
    t.match(await api('/api/me', { method: 'DELETE', cookie: cookie(ann), body: {} }), { status: 400, body: { error: { code: 'invalid_request' } } }, 'no handle is an invalid request');
    t.match(await call(h.httpUrl, '/api/me', { method: 'DELETE', cookie: cookie(ann), origin: 'https://evil.example', body: { handle: ann.handle } }), { status: 403 }, 'another origin is refused');
    t.match(await api('/api/me', { cookie: cookie(ann) }), { status: 200, body: { user: { handle: ann.handle } } }, 'and the account is untouched');
  });

  // On the full stack, ann is also connected to a second node.
  const aOther = other ? await TestClient.open(t, other.wsUrl, ann.sessionId) : undefined;

  let deleted: AccountDeleteResponse;
  await t.test('deleting closes every socket with 4003, leaves the group in its log and hands ownership on', async (t) => {
    const before = Date.now();
    const res = await api('/api/me', { method: 'DELETE', cookie: cookie(ann), body: { handle: ann.handle.toUpperCase() } });
    t.equal(res.status, 200, 'deleted (the handle is compared as typed in any case)');
    deleted = res.body as AccountDeleteResponse;
    t.match(deleted, { groupsLeft: 1, sessionsEnded: 1 }, 'one group left, one session ended');
    const freeAt = Date.parse(deleted.handleFreeAt);
    t.ok(freeAt >= before + 30 * DAY && freeAt <= Date.now() + 30 * DAY, 'the handle is free 30 days (the default grace) after the deletion');
    t.equal(res.cookies.sid, '', 'the cookie is cleared');
    t.same(await a.closed, { code: CLOSE_CODES.account_deleted.code, reason: CLOSE_CODES.account_deleted.text }, 'her socket closed with 4003');
    if (aOther) t.equal((await aOther.closed).code, 4003, 'and her socket on the other node too');
    const left = await entry(b, group, 3);
    t.match(left, { kind: 'event', sender: ann.id, event: { type: 'member.left', user: ann.id } }, 'ben sees her leave in the group\'s log');
    const owner = await entry(c, group, 4);
    t.match(owner, { event: { type: 'member.role', user: Math.min(ben.id, cat.id), role: 'owner' } }, 'the member who joined first (then the lower id) becomes owner');
  });

  await t.test('the others keep her messages, under a deleted account', async (t) => {
    t.same((await history(b, direct)).map((m) => [m.sender, m.body]), [[ann.id, 'one from ann'], [ann.id, 'two from ann'], [ann.id, 'three from ann'], [ben.id, 'one from ben']], 'ben still has the whole chat');
    const members = await membersSeenBy(ben, direct);
    t.match(members.find((m) => m.id === ann.id), { id: ann.id, handle: '', displayName: '', deleted: true }, 'his sync names her a deleted account, nothing else');
    t.match(await api(`/api/users/${ann.id}`, { cookie: cookie(ben) }), { status: 200, body: { user: { id: ann.id, handle: '', displayName: '', avatarUrl: null, deleted: true } } }, 'her profile by id');
    t.match(await api(`/api/users?handle=${ann.handle}`, { cookie: cookie(ben) }), { status: 404, body: { error: { code: 'user_not_found' } } }, 'her handle finds nobody');
    t.match(await b.sendMessage({ room: benCat }, 'still fine'), { type: 'message.sent' }, 'ben and cat chat on');
    const { room: newGroup } = await done(b, { type: 'group.create', name: 'New', members: [cat.id] });
    b.send({ type: 'group.add', room: newGroup, users: [ann.id], ref: 'add-ann' });
    t.match(await b.next('error', (f) => f.ref === 'add-ann'), { code: 'user_not_found' }, 'nobody can add her to a group');
    t.match(await c.sendMessage({ to: ann.id }, 'hello?'), { type: 'error', code: 'user_not_found' }, 'nor start a chat with her');
  });

  await t.test('her ways in and settings are gone, and her sessions with them', async (t) => {
    t.same(await h.stores.auth.listPasskeys(ann.id), [], 'no passkey');
    t.same(await h.stores.auth.listIdentities(ann.id), [], 'no identity');
    t.equal(await h.stores.auth.findIdentity('github', 'gh-ann'), null, 'the provider account signs up anew next time');
    t.same(await h.stores.notify.subscriptionsOf(ann.id), [], 'no push subscription');
    t.match(await h.stores.accounts.emailSettings(ann.id), { email: null }, 'no e-mail address');
    t.match(await api('/api/me', { cookie: cookie(ann) }), { status: 401, body: { error: { code: 'unauthenticated' } } }, 'her old cookie is signed out');
    t.match(await api('/api/me', { method: 'DELETE', cookie: cookie(ann), body: { handle: ann.handle } }), { status: 401 }, 'deleting again with it: unauthenticated');
    const stale = await h.stores.sessions.create(ann.id, 3600_000);
    t.match(await api('/api/me', { cookie: cookie(stale.id) }), { status: 410, body: { error: { code: 'account_deleted' } } }, 'a session that outlived the account: account_deleted');
    t.equal(await h.stores.sessions.get(stale.id), null, 'and it is ended');
    const again = await h.stores.sessions.create(ann.id, 3600_000);
    await t.rejects(TestClient.open(t, h.wsUrl, again.id), /upgrade refused: 401/, 'no socket opens for it');
    t.match(await h.stores.accounts.erase(ann.id, Date.now()), { kind: 'already_deleted' }, 'erasing twice is told, not done twice');
  });

  await t.test('her handle is free for someone else only after the grace', async (t) => {
    const signup = () => api('/api/passkeys/signup/options', { body: { handle: ann.handle, displayName: 'Someone new' } });
    t.match(await signup(), { status: 409, body: { error: { code: 'handle_taken' } } }, 'at once: taken');
    await t.rejects(h.stores.relational.createUser(ann.handle, 'X'), { name: 'HandleTakenError' }, 'and no store write takes it');
    const freeAt = Date.parse(deleted.handleFreeAt);
    clock.shift = freeAt - Date.now() - 60_000;
    t.match(await signup(), { status: 409 }, 'a minute before the grace ends: still taken');
    clock.shift = freeAt - Date.now() + 1000;
    t.equal((await signup()).status, 200, 'once it ended: sign-up may start with it');
    const heir = await h.stores.relational.createUser(ann.handle, 'Heir');
    t.match(heir, { handle: ann.handle, displayName: 'Heir' }, 'and a new account takes it');
    t.not(heir.id, ann.id, 'a different user');
    t.match(await h.stores.relational.getUser(ann.id), { id: ann.id, deleted: true }, 'while her messages keep their deleted sender');
  });
}

t.test('exports are one at a time per user and bounded per node', async (t) => {
  const service = new ExportService({
    auth: {} as never,
    accounts: {} as never,
    relational: {} as never,
    history: {} as never,
    rateLimits: { hit: async () => ({ allowed: true, remaining: 1, retryAfterMs: 0 }) },
    clock: systemScheduler,
    config: { exportLimit: { limit: 10, windowMs: 60_000 }, exportsConcurrentMax: 2 },
    log: createLogger('silent'),
  });
  const release = await service.admit(1);
  await t.rejects(service.admit(1), { code: 'export_busy' }, 'a second export of the same user waits for the first');
  const other = await service.admit(2);
  await t.rejects(service.admit(3), { code: 'export_busy' }, 'a third user waits while the node runs two');
  release();
  t.type(await service.admit(1), 'function', 'the first user may export again once theirs ended');
  other();
});
