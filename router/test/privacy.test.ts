/**
 * Blocking and privacy settings at the protocol level (docs/protocol.md, "Blocking" and "Privacy
 * settings"), on the embedded default and the full stack: what a blocked user can still do and
 * what never reaches the blocker (live, sync, history, push, search), and presence and read marks
 * as each setting shows them, in every place they leave the server.
 *
 * "Never arrives live" is checked without waiting for a duration: a later event from the same
 * node reaches the same socket after it (the bus keeps one node's events in order), so once that
 * marker is in, anything published before it would be too.
 */
import t, { type Test } from 'tap';
import type { Message, ServerFrame } from '../../protocol/frames.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../../kit/logger.ts';
import { openStores, type Stores } from '../src/stores.ts';
import { generateVapidKeys } from '../../workers/tasks/vapid.ts';
import type { Task } from '../../workers/tasks/task.types.ts';
import { deleteQueues } from '../../test/support/amqp.queues.ts';
import { call } from '../../test/support/http.client.ts';
import { override } from '../../test/support/override.ts';
import { done, request } from '../../test/support/group.requests.ts';
import { uniqueName } from '../../test/support/services.ts';
import { until } from '../../test/support/wait.ts';
import { modes, startNode, testNodeEnv, TEST_ORIGIN, type Harness, type TestClient, type TestUser } from '../../test/support/router.harness.ts';

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

const roomOf = (a: number, b: number) => `${Math.min(a, b)}-${Math.max(a, b)}`;
let refs = 0;

for (const mode of modes(t, 'privacy')) {
  t.test(`blocking and privacy on the ${mode.name}`, async (t) => {
    const vapid = generateVapidKeys();
    const env: Record<string, string> = { ...(await mode.env(t)), VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, TASK_QUEUE: uniqueName('tasks') };
    if (env.AMQP_URL) t.teardown(() => deleteQueues(env.AMQP_URL!, env.TASK_QUEUE!, []));
    const stores: Stores = await openStores(loadConfig(testNodeEnv(env)), createLogger('silent'));
    t.teardown(() => stores.close());
    // Every push task the node enqueues, recorded.
    const tasks: Task[] = [];
    const recording = override(stores.tasks, {
      publish: async (task: Task) => {
        tasks.push(task);
        await stores.tasks.publish(task);
      },
    });
    const h = await startNode(t, env, { ...stores, tasks: recording });
    await blocking(t, h, tasks);
    await settings(t, h);
  });
}

/** An HTTP call as `user`, from our origin. */
function api(h: Harness, user: TestUser, method: string, path: string, body?: unknown) {
  return call(h.httpUrl, path, { method, cookie: `sid=${user.sessionId}`, origin: TEST_ORIGIN, ...(body !== undefined ? { body } : {}) });
}

/** Sends `frame` with a fresh ref and resolves with its answer or error. */
function ask<F extends ServerFrame>(c: TestClient, frame: Record<string, unknown>, types: ServerFrame['type'][]): Promise<F | FrameOf<'error'>> {
  const ref = `p${++refs}`;
  c.send({ ...frame, ref });
  return c.nextWhere((f): f is F | FrameOf<'error'> => 'ref' in f && f.ref === ref && (types.includes(f.type) || f.type === 'error'), 10_000, String(frame.type));
}

/** The room's log as `c` reads it with history.get. */
async function historyOf(c: TestClient, room: string): Promise<Message[]> {
  const page = await ask<FrameOf<'history.page'>>(c, { type: 'history.get', room, after: 0, limit: 100 }, ['history.page']);
  if (page.type !== 'history.page') throw new Error(`history refused: ${page.code}`);
  return page.messages;
}

/** What a fresh device of `user` syncing `rooms` gets (the socket is closed after): its pages and its sync.done. */
async function synced(user: TestUser, rooms: Array<{ room: string; lastSeq: number }>) {
  const c = await user.connect();
  const doneFrame = await ask<FrameOf<'sync.done'>>(c, { type: 'sync', rooms }, ['sync.done']);
  if (doneFrame.type !== 'sync.done') throw new Error('sync refused');
  await c.close();
  return { done: doneFrame, entries: c.all('history.page').flatMap((p) => p.messages) };
}

/** Sends a message from `from` to `to` and waits for `to` to get it live: every earlier event of this node for `to` is in by then. */
async function marker(from: TestClient, to: TestClient, toUser: number, body = 'marker'): Promise<void> {
  const sent = await from.sendMessage({ to: toUser }, body);
  if (sent.type !== 'message.sent') throw new Error('marker refused');
  await to.next('message.new', (f) => f.message.id === sent.id);
}

async function blocking(t: Test, h: Harness, tasks: Task[]): Promise<void> {
  const [ann, ben, cat, dan] = await Promise.all([h.user(), h.user(), h.user(), h.user()]);
  const room = roomOf(ann.id, ben.id);
  const [a, b, b2, c] = await Promise.all([ann.connect(), ben.connect(), ben.connect(), cat.connect()]);
  let before = 0;
  let withheld = 0;

  await t.test('blocking over HTTP: errors, idempotency, the list, same origin', async (t) => {
    t.match(await b.sendMessage({ to: ann.id }, 'hi ann'), { type: 'message.sent', seq: 1 }, 'ben and ann chat before');
    await a.next('message.new', (f) => f.message.room === room);
    before = 1;
    t.match((await api(h, ann, 'PUT', `/api/blocks/${ann.id}`)).body, { error: { code: 'cannot_block_self' } }, 'blocking yourself: cannot_block_self');
    t.equal((await api(h, ann, 'PUT', `/api/blocks/${ann.id}`)).status, 400, 'a 400');
    const ghost = await api(h, ann, 'PUT', '/api/blocks/2147483647');
    t.match([ghost.status, ghost.body], [404, { error: { code: 'user_not_found' } }], 'a user that does not exist: 404 user_not_found');
    t.match((await api(h, ann, 'PUT', '/api/blocks/abc')).body, { error: { code: 'invalid_request' } }, 'a user id that is not one: invalid_request');
    const foreign = await call(h.httpUrl, `/api/blocks/${ben.id}`, { method: 'PUT', cookie: `sid=${ann.sessionId}`, origin: 'https://evil.example' });
    t.match([foreign.status, foreign.body], [403, { error: { code: 'forbidden_origin' } }], 'from another origin: forbidden_origin');
    t.equal((await api(h, ann, 'DELETE', `/api/blocks/${cat.id}`)).status, 204, 'unblocking someone not blocked: 204');
    const first = await api(h, ann, 'PUT', `/api/blocks/${ben.id}`);
    t.match([first.status, first.body], [200, { user: { id: ben.id, handle: ben.handle }, since: String }], 'ann blocks ben');
    const again = await api(h, ann, 'PUT', `/api/blocks/${ben.id}`);
    t.same(again.body, first.body, 'blocking again answers the same, since unchanged');
    t.same((await api(h, ann, 'GET', '/api/blocks')).body, { blocks: [first.body] }, 'the list holds ben once');
    t.same((await api(h, ben, 'GET', '/api/blocks')).body, { blocks: [] }, 'ben\'s own list is empty');
    // An earlier "online" frame of ann's (her connecting) may still be on its way under load: wait for the offline one.
    t.match(await b.next('presence', (f) => f.user === ann.id && !f.online), { online: false }, 'ben stops seeing ann online at once');
    t.notOk((await b.next('presence', (f) => f.user === ann.id)).lastSeen, 'with no last seen');
  });

  await t.test('the blocked user\'s message is "sent" for them and never reaches the blocker', async (t) => {
    const sent = await b.sendMessage({ room }, 'can you hear me', 'withheld-1');
    t.match(sent, { type: 'message.sent', duplicate: false }, 'ben gets an ordinary ack');
    withheld = (sent as FrameOf<'message.sent'>).seq;
    t.match((await b2.next('message.new', (f) => f.message.seq === withheld)).message, { body: 'can you hear me' }, 'his other device gets it as any message');
    t.match(await b.sendMessage({ room }, 'can you hear me', 'withheld-1'), { duplicate: true, seq: withheld }, 'a retry is a duplicate, as ever');
    await marker(c, a, ann.id, 'cat after');
    t.notOk(a.all('message.new').some((f) => f.message.room === room && f.message.seq === withheld), 'ann got nothing live');
    const { done: summary, entries } = await synced(ann, [{ room, lastSeq: before }]);
    t.same(entries.filter((m) => m.room === room), [{ id: entries.find((m) => m.seq === withheld)?.id, room, seq: withheld, sender: ben.id, body: '', clientMsgId: '', ts: entries.find((m) => m.seq === withheld)?.ts, withheld: true }], 'her sync brings a stub without the content');
    t.same(summary.rooms.find((r) => r.room === room)?.hidden, [withheld], 'listed hidden for her');
    const log = await historyOf(a, room);
    t.match(log.at(-1), { seq: withheld, body: '', withheld: true }, 'history.get gives her the stub too');
    t.notOk(JSON.stringify(log).includes('can you hear me'), 'the text is in nothing she reads');
    t.match(await historyOf(b, room), [{ seq: 1 }, { seq: withheld, body: 'can you hear me' }], 'ben reads his message whole');
    const found = await api(h, ann, 'GET', '/api/search?q=hear');
    t.same(found.body.results, [], 'ann\'s search does not find it');
    t.equal((await api(h, ben, 'GET', '/api/search?q=hear')).body.results.length, 1, 'ben\'s does');
  });

  await t.test('no push for the blocker', async (t) => {
    await a.close();
    await until(async () => !h.node.registry.ofUser(ann.id) && !(await h.stores.presence.presenceOf([ann.id])).get(ann.id)?.online, 10_000, 'ann offline');
    const sent = (await b.sendMessage({ room }, 'are you there')) as FrameOf<'message.sent'>;
    const fromCat = (await c.sendMessage({ to: ann.id }, 'ping from cat')) as FrameOf<'message.sent'>;
    await until(() => tasks.some((k) => k.kind === 'push.message' && k.recipient === ann.id && k.room === roomOf(ann.id, cat.id) && k.seq === fromCat.seq), 10_000, 'cat\'s push');
    t.notOk(tasks.some((k) => k.kind === 'push.message' && k.room === room && k.seq === sent.seq), 'cat\'s push came, ben\'s never did');
  });

  await t.test('typing, receipts and presence stop both ways; replies and forwards cannot reach withheld text', async (t) => {
    const a2 = await ann.connect();
    const seen = await synced(ben, [{ room, lastSeq: 0 }]);
    const annAsBenSees = seen.done.rooms.find((r) => r.room === room);
    t.match(annAsBenSees?.members.find((m) => m.id === ann.id), { online: false }, 'ben\'s sync shows ann offline');
    t.notOk(annAsBenSees?.members.find((m) => m.id === ann.id)?.lastSeen, 'without a last seen');
    t.notOk(String(ann.id) in (annAsBenSees?.read ?? {}) || String(ann.id) in (annAsBenSees?.delivered ?? {}), 'and none of her receipts');
    b.send({ type: 'typing', room, active: true });
    a2.send({ type: 'typing', room, active: true });
    a2.send({ type: 'message.read', room, seq: withheld });
    await marker(c, a2, ann.id, 'after ben typed');
    t.equal(a2.all('typing').length, 0, 'ann does not see ben typing');
    await marker(a2, b, ben.id, 'ann writes to ben');
    t.equal(b.all('typing').filter((f) => f.user === ann.id).length, 0, 'ben does not see ann typing');
    t.equal(b.all('receipt').filter((f) => f.user === ann.id && f.seq >= withheld).length, 0, 'nor her read mark');
    t.match(await ask(a2, { type: 'message.send', room, clientMsgId: 'reply-w', body: 'what?', replyTo: withheld }, ['message.sent']), { type: 'error', code: 'message_not_found' }, 'ann cannot reply to what she never got');
    t.match(await ask(a2, { type: 'message.forward', to: cat.id, clientMsgId: 'fwd-w', from: { room, seq: withheld } }, ['message.sent']), { type: 'error', code: 'message_not_found' }, 'nor forward it');
    const react = await ask<FrameOf<'message.changed'>>(b, { type: 'message.react', room, seq: 1, emoji: '👍', on: true }, ['message.changed']);
    t.match(react, { type: 'message.changed' }, 'ben\'s reaction is answered as ever');
    await marker(c, a2, ann.id, 'after the reaction');
    t.notOk(a2.all('message.new').some((f) => f.message.room === room && f.message.sender === ben.id), 'and ann gets none of it');
  });

  await t.test('a new 1:1 room from someone blocked: as if sent, nothing for the blocker', async (t) => {
    t.equal((await api(h, ann, 'PUT', `/api/blocks/${dan.id}`)).status, 200, 'ann blocks dan, with whom she never chatted');
    const d = await dan.connect();
    const sent = await d.sendMessage({ to: ann.id }, 'hello stranger');
    t.match(sent, { type: 'message.sent', seq: 1 }, 'dan is answered "sent"');
    const { entries } = await synced(ann, []);
    t.same(entries.filter((m) => m.room === roomOf(ann.id, dan.id)).map((m) => [m.body, m.withheld]), [['', true]], 'ann holds a stub at most');
  });

  await t.test('unblocking: what comes next arrives, what was withheld stays so', async (t) => {
    const a3 = await ann.connect();
    t.equal((await api(h, ann, 'DELETE', `/api/blocks/${ben.id}`)).status, 204, 'ann unblocks ben');
    t.equal((await api(h, ann, 'DELETE', `/api/blocks/${ben.id}`)).status, 204, 'twice is fine');
    t.same((await api(h, ann, 'GET', '/api/blocks')).body.blocks.map((x: { user: { id: number } }) => x.user.id), [dan.id], 'only dan is left');
    const sent = (await ask<FrameOf<'message.sent'>>(b, { type: 'message.send', room, clientMsgId: 'after-unblock', body: 'better now?', replyTo: withheld }, ['message.sent'])) as FrameOf<'message.sent'>;
    const live = await a3.next('message.new', (f) => f.message.seq === sent.seq);
    t.match(live.message, { body: 'better now?' }, 'ann gets ben\'s new message live');
    t.notOk(live.message.replyTo, 'without a quote of the withheld one');
    b.send({ type: 'typing', room, active: true });
    t.match(await a3.next('typing'), { user: ben.id, active: true }, 'typing comes through again');
    a3.send({ type: 'message.read', room, seq: sent.seq });
    t.match(await b.next('receipt', (f) => f.user === ann.id && f.kind === 'read'), { seq: sent.seq }, 'and read marks');
    t.match((await historyOf(a3, room)).find((m) => m.seq === withheld), { body: '', withheld: true }, 'the message sent while blocked stays withheld');
  });
}

async function settings(t: Test, h: Harness): Promise<void> {
  const [eve, fay, gus] = await Promise.all([h.user(), h.user(), h.user()]);
  const e = await eve.connect();
  const f = await fay.connect();
  const g = await gus.connect();
  const direct = roomOf(eve.id, fay.id);
  // Eve and fay share a 1:1 room (contacts); eve and gus only a group.
  await e.sendMessage({ to: fay.id }, 'hi fay');
  const group = (await done(e, { type: 'group.create', name: 'Trio', members: [fay.id, gus.id] })).room;

  await t.test('settings over HTTP', async (t) => {
    t.same((await api(h, eve, 'GET', '/api/me/privacy')).body, { lastSeen: 'everyone', readReceipts: true }, 'the defaults');
    t.match((await api(h, eve, 'PUT', '/api/me/privacy', { lastSeen: 'sometimes' })).body, { error: { code: 'invalid_request' } }, 'an unknown value: invalid_request');
    t.match((await api(h, eve, 'PUT', '/api/me/privacy', {})).body, { error: { code: 'invalid_request' } }, 'nothing to change: invalid_request');
    t.match((await api(h, eve, 'PUT', '/api/me/privacy', { readReceipts: true, extra: 1 })).body, { error: { code: 'invalid_request' } }, 'an unknown field: invalid_request');
    t.same((await api(h, eve, 'PUT', '/api/me/privacy', { lastSeen: 'contacts' })).body, { lastSeen: 'contacts', readReceipts: true }, 'a change answers all settings');
  });

  const presenceOf = async (viewer: TestUser, of: number) => {
    const { done: summary } = await synced(viewer, []);
    return summary.rooms.flatMap((r) => r.members).find((m) => m.id === of);
  };

  await t.test('last seen and online, per setting, in sync.done', async (t) => {
    t.match(await presenceOf(fay, eve.id), { online: true }, 'contacts: fay (a 1:1 chat) sees eve online');
    t.match(await presenceOf(gus, eve.id), { online: false }, 'contacts: gus (a group only) does not');
    await api(h, eve, 'PUT', '/api/me/privacy', { lastSeen: 'nobody' });
    t.match(await presenceOf(fay, eve.id), { online: false }, 'nobody: not even fay');
    await api(h, eve, 'PUT', '/api/me/privacy', { lastSeen: 'everyone' });
    t.match(await presenceOf(gus, eve.id), { online: true }, 'everyone: gus too');
  });

  await t.test('live presence follows the setting', async (t) => {
    await api(h, eve, 'PUT', '/api/me/privacy', { lastSeen: 'nobody' });
    const quiet = await eve.connect();
    await quiet.close();
    await e.close();
    await api(h, eve, 'PUT', '/api/me/privacy', { lastSeen: 'everyone' });
    const back = await eve.connect();
    // Announcements of one user go out in order: the first fay hears is of this last connect.
    t.match(await f.next('presence', (p) => p.user === eve.id), { online: true }, 'nothing while "nobody"; online again under "everyone"');
    await back.close();
    // The online of a connect made under "nobody" may be judged after the switch back (announcements
    // read the setting when they go out): skip any online to the offline that follows the close.
    t.match(await f.next('presence', (p) => p.user === eve.id && !p.online), { online: false, lastSeen: Number }, 'and offline with last seen');
  });

  await t.test('read receipts off: others see "delivered", and the user sees no read marks', async (t) => {
    const e2 = await eve.connect();
    const e3 = await eve.connect();
    t.same((await api(h, eve, 'PUT', '/api/me/privacy', { readReceipts: false })).body, { lastSeen: 'everyone', readReceipts: false }, 'eve turns them off');
    const fromFay = (await f.sendMessage({ room: direct }, 'did you read this?')) as FrameOf<'message.sent'>;
    await e2.next('message.new', (x) => x.message.seq === fromFay.seq);
    e2.send({ type: 'message.read', room: direct, seq: fromFay.seq });
    t.match(await f.next('receipt', (x) => x.user === eve.id && x.seq === fromFay.seq), { kind: 'delivered' }, 'fay gets "delivered" for eve\'s read');
    t.match(await e3.next('receipt', (x) => x.user === eve.id && x.seq === fromFay.seq), { kind: 'read' }, 'eve\'s other device gets her read position');
    await h.node.watermarks.flush();
    const { done: summary } = await synced(fay, []);
    const seenByFay = summary.rooms.find((r) => r.room === direct)!;
    t.notOk(String(eve.id) in seenByFay.read, 'fay\'s sync has no read mark of eve');
    t.ok((seenByFay.delivered[String(eve.id)] ?? 0) >= fromFay.seq, 'only delivered');
    const own = (await synced(eve, [])).done.rooms.find((r) => r.room === direct)!;
    t.ok((own.read[String(eve.id)] ?? 0) >= fromFay.seq, 'eve\'s own devices keep her read position');
    const fromEve = (await e2.sendMessage({ room: direct }, 'and this?')) as FrameOf<'message.sent'>;
    f.send({ type: 'message.read', room: direct, seq: fromEve.seq });
    t.match(await e2.next('receipt', (x) => x.user === fay.id && x.seq === fromEve.seq), { kind: 'delivered' }, 'eve sees fay\'s read only as delivered');
    t.notOk(String(fay.id) in own.read, 'nor in her sync');
    // In the group: gus reads; eve's group.members shows his read as delivered only.
    const m = (await g.sendMessage({ room: group }, 'group hello')) as FrameOf<'message.sent'>;
    g.send({ type: 'message.read', room: group, seq: m.seq });
    await f.next('receipt', (x) => x.room === group && x.user === gus.id && x.kind === 'read');
    const list = await request(e2, { type: 'group.members', room: group });
    t.match(list.type === 'group.members' && list.members.find((x) => x.id === gus.id), { read: 0, delivered: m.seq }, 'group.members: gus has delivered, no read, for eve');
    const forFay = await request(f, { type: 'group.members', room: group });
    t.match(forFay.type === 'group.members' && forFay.members.find((x) => x.id === gus.id), { read: m.seq }, 'fay still sees his read');
    t.match(forFay.type === 'group.members' && forFay.members.find((x) => x.id === eve.id), { read: 0 }, 'and no read of eve');
  });

  await t.test('a block hides typing and receipts in a group too, from the blocked only', async (t) => {
    await api(h, fay, 'PUT', `/api/blocks/${gus.id}`);
    g.send({ type: 'typing', room: group, active: true });
    const e4 = await eve.connect();
    await e4.sendMessage({ room: group }, 'marker in the group');
    await g.next('message.new', (x) => x.message.body === 'marker in the group');
    const eveGets = await f.next('message.new', (x) => x.message.body === 'marker in the group');
    t.ok(eveGets, 'fay got the marker');
    t.equal(f.all('typing').filter((x) => x.user === gus.id && x.room === group).length, 0, 'fay does not see gus typing');
    const list = await request(g, { type: 'group.members', room: group });
    t.match(list.type === 'group.members' && list.members.find((x) => x.id === fay.id), { read: 0, delivered: 0 }, 'gus sees no receipts of fay');
    await t.resolves(e4.close(), 'closed');
  });
}
