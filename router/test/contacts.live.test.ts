/**
 * What contacts learn of each other live (docs/protocol.md, "Presence" and "Profiles"), on the
 * embedded default and the full stack (there also across two nodes): a display name changed with
 * `PATCH /api/me` reaches every member of the user's rooms and the user's other devices as
 * `user.updated`, never a stranger, and a device that missed it reads it in its next `sync.done`;
 * the first message of a 1:1 room tells both members where the other stands, the later ones never.
 */
import t, { type Test } from 'tap';
import { call } from '../../test/support/http.client.ts';
import { uniqueName } from '../../test/support/services.ts';
import { modes, startNode, TEST_ORIGIN, TestClient, type Harness, type TestUser } from '../../test/support/router.harness.ts';
import { deleteQueues } from '../../test/support/amqp.queues.ts';
import { waitFor } from '../../test/support/wait.ts';

/** Changes a user's display name through the HTTP API, as the app's settings do. */
async function rename(t: Test, h: Harness, user: TestUser, displayName: string): Promise<void> {
  const answer = await call(h.httpUrl, '/api/me', { method: 'PATCH', body: { displayName }, origin: TEST_ORIGIN, cookie: `sid=${user.sessionId}` });
  t.equal(answer.status, 200, `${user.handle} is renamed ${displayName}`);
}

/** A sync from nothing, answered by `sync.done`. */
async function synced(client: TestClient, ref: string) {
  client.send({ type: 'sync', ref, rooms: [] });
  return client.next('sync.done', (f) => f.ref === ref);
}

/** Frames a client got so far that carry a type, for "never" checks made after a later frame proved the earlier ones arrived. */
const count = (client: TestClient, type: 'user.updated' | 'presence') => client.all(type).length;

for (const mode of modes(t, 'profiles and presence of contacts')) {
  t.test(`on the ${mode.name}`, async (t) => {
    const base = await mode.env(t);
    // Presence keys in Redis are named after TASK_QUEUE; user ids restart in every fresh database.
    const taskQueue = uniqueName('tasks');
    if (base.AMQP_URL) t.teardown(() => deleteQueues(base.AMQP_URL!, taskQueue, []));
    const env: Record<string, string> = { ...base, TASK_QUEUE: taskQueue, REDIS_KEY_PREFIX: `${uniqueName('contacts')}:` };
    const h = await startNode(t, env);
    // On the full stack a second node shares every store: what one node publishes the other delivers.
    const h2 = env.AMQP_URL ? await startNode(t, env) : h;
    const where = h2 === h ? 'on the same node' : 'on another node';

    t.test(`a new display name reaches contacts and the user's other devices live, ${where}`, async (t) => {
      const alice = await h.user();
      const bob = await h.user();
      const stranger = await h.user();
      const a = await alice.connect();
      const aliceElsewhere = await TestClient.open(t, h2.wsUrl, alice.sessionId);
      const b = await TestClient.open(t, h2.wsUrl, bob.sessionId);
      const s = await stranger.connect();
      await b.sendMessage({ to: alice.id }, 'hi');
      await a.next('message.new');

      await rename(t, h, alice, 'Alice Liddell');
      t.same((await b.next('user.updated')).user, { id: alice.id, handle: alice.handle, displayName: 'Alice Liddell' }, 'Bob gets the new name');
      t.same((await aliceElsewhere.next('user.updated')).user.displayName, 'Alice Liddell', 'so does Alice\'s other device');
      t.same((await a.next('user.updated')).user.displayName, 'Alice Liddell', 'and the device that renamed (it applies it like any other)');
      // A frame after the rename reaches the stranger too, so anything before it would have arrived.
      s.send({ type: 'ping', ref: 'after' });
      await s.next('pong');
      t.equal(count(s, 'user.updated'), 0, 'a stranger is told nothing');

      const done = await synced(b, 'after-rename');
      const room = done.rooms.find((r) => r.members.some((m) => m.id === alice.id));
      t.equal(room?.members.find((m) => m.id === alice.id)?.displayName, 'Alice Liddell', 'Bob\'s next sync.done carries the new name');
    });

    t.test('a device offline during the rename reads it in its next sync', async (t) => {
      const carol = await h.user();
      const dan = await h.user();
      const c = await carol.connect();
      await c.sendMessage({ to: dan.id }, 'hello dan');
      await c.close();
      await rename(t, h, dan, 'Daniel');
      const back = await TestClient.open(t, h2.wsUrl, carol.sessionId);
      const done = await synced(back, 'back');
      t.equal(done.rooms[0]?.members.find((m) => m.id === dan.id)?.displayName, 'Daniel', 'the members carry the current profile');
    });

    t.test('an invalid name is refused at the edge and announced to nobody', async (t) => {
      const erin = await h.user();
      const fay = await h.user();
      const f = await fay.connect();
      const e = await erin.connect();
      await e.sendMessage({ to: fay.id }, 'hey');
      await f.next('message.new');
      for (const displayName of ['bad\u0000name', '   ', 'x'.repeat(65), '\u202Eevil']) {
        const answer = await call(h.httpUrl, '/api/me', { method: 'PATCH', body: { displayName }, origin: TEST_ORIGIN, cookie: `sid=${erin.sessionId}` });
        t.match(answer, { status: 400, body: { error: { code: 'invalid_request' } } }, `${JSON.stringify(displayName.slice(0, 8))} is invalid_request`);
      }
      f.send({ type: 'ping', ref: 'after' });
      await f.next('pong');
      t.equal(count(f, 'user.updated'), 0, 'nothing was announced');
    });

    t.test(`the first message of a new chat tells both members where the other stands, ${where}`, async (t) => {
      const gil = await h.user();
      const hal = await h.user();
      const ida = await h.user();
      const g = await gil.connect();
      const hh = await TestClient.open(t, h2.wsUrl, hal.sessionId);
      const ack = await g.sendMessage({ to: hal.id }, 'first');
      t.match(ack, { type: 'message.sent', seq: 1 }, 'the room starts');
      t.match(await g.next('presence', (f) => f.user === hal.id), { online: true }, 'Gil learns that Hal is online');
      t.match(await hh.next('presence', (f) => f.user === gil.id), { online: true }, 'Hal learns that Gil is online');

      const before = count(g, 'presence');
      await g.sendMessage({ to: hal.id }, 'second');
      await hh.next('message.new', (f) => f.message.seq === 2);
      g.send({ type: 'ping', ref: 'after' });
      await g.next('pong');
      t.equal(count(g, 'presence'), before, 'a later message says nothing about presence');

      // Ida was online once and is offline now: Gil learns when she was last seen.
      const i = await ida.connect();
      await i.close();
      t.ok(await waitFor(async () => (await h.stores.presence.presenceOf([ida.id])).get(ida.id)?.lastSeen != null), 'the store knows Ida left');
      await g.sendMessage({ to: ida.id }, 'are you there?');
      const seen = await g.next('presence', (f) => f.user === ida.id);
      t.equal(seen.online, false, 'Gil learns that Ida is offline');
      t.type(seen.lastSeen, 'number', 'and when she was last seen');
    });

    t.test('a new chat introduces nobody who hides their last seen, nor across a block', async (t) => {
      const jo = await h.user();
      const kim = await h.user();
      const lee = await h.user();
      const setting = await call(h.httpUrl, '/api/me/privacy', { method: 'PUT', cookie: `sid=${jo.sessionId}`, origin: TEST_ORIGIN, body: { lastSeen: 'nobody' } });
      t.equal(setting.status, 200, 'Jo shows her last seen to nobody');
      const block = await call(h.httpUrl, `/api/blocks/${kim.id}`, { method: 'PUT', cookie: `sid=${lee.sessionId}`, origin: TEST_ORIGIN });
      t.equal(block.status, 200, 'Lee blocks Kim');
      const j = await jo.connect();
      const k = await TestClient.open(t, h2.wsUrl, kim.sessionId);
      const l = await lee.connect();
      t.match(await j.sendMessage({ to: kim.id }, 'hi kim'), { type: 'message.sent', seq: 1 }, 'Jo starts a chat with Kim');
      t.match(await j.next('presence', (f) => f.user === kim.id), { online: true }, 'Jo still learns where Kim stands');
      t.match(await k.sendMessage({ to: lee.id }, 'hi lee'), { type: 'message.sent', seq: 1 }, 'Kim writes to Lee, who blocked him');
      // Every frame of these rooms' starts is in once a later exchange went through both nodes.
      t.match(await k.sendMessage({ to: jo.id }, 'later'), { type: 'message.sent', seq: 2 }, 'Kim answers Jo');
      await j.next('message.new', (f) => f.message.body === 'later');
      k.send({ type: 'ping', ref: 'k' });
      await k.next('pong');
      l.send({ type: 'ping', ref: 'l' });
      await l.next('pong');
      t.equal(k.all('presence').filter((f) => f.user === jo.id).length, 0, 'Kim is never told where Jo stands');
      t.equal(k.all('presence').filter((f) => f.user === lee.id && f.online).length, 0, 'Kim is never told Lee is online');
      t.equal(l.all('presence').filter((f) => f.user === kim.id && f.online).length, 0, 'nor Lee that Kim is');
    });
  });
}
