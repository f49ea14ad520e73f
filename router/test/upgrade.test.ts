/**
 * The WebSocket upgrade: every refusal is a plain HTTP answer with a documented JSON error, given
 * before any WebSocket exists; a valid upgrade negotiates `messenger.v1` and says hello; a session
 * that ends closes exactly its own sockets.
 */
import t, { type Test } from 'tap';
import { waitFor } from '../../test/support/wait.ts';
import { SUBPROTOCOL } from '../../protocol/frames.ts';
import { modes, rawUpgrade, startNode, TEST_ORIGIN, TestClient, type Harness } from '../../test/support/router.harness.ts';

/** The headers of a valid upgrade for a session; override one to break it, or set it undefined to drop it. */
const valid = (sessionId: string | undefined, override: Record<string, string | undefined> = {}) => ({
  origin: TEST_ORIGIN,
  'sec-websocket-protocol': SUBPROTOCOL,
  cookie: sessionId === undefined ? undefined : `sid=${sessionId}`,
  ...override,
});

/**
 * Sends an upgrade and asserts its refusal: the status, a JSON body `{error: {code}}`, and no
 * socket adopted by the node (the registry, empty before, is still empty).
 */
async function refused(
  t: Test,
  h: Harness,
  request: { headers: Record<string, string | undefined>; path?: string },
  status: number,
  code: string,
  what: string,
): Promise<void> {
  // Sockets of earlier cases may still be closing; the check below needs a quiet registry.
  t.ok(await waitFor(() => h.node.registry.size === 0), `${what}: no socket is open before`, { diagnostic: false });
  const answer = await rawUpgrade(h.wsUrl, request.headers, request.path);
  t.equal(answer.status, status, `${what}: HTTP ${status}`);
  t.match(answer.headers['content-type'], /^application\/json/, `${what}: the body is JSON`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    body = answer.body;
  }
  t.match(body, { error: { code, message: String } }, `${what}: the body is {error: {code: ${code}}}`);
  t.equal(h.node.registry.size, 0, `${what}: no socket was adopted`);
}

for (const mode of modes(t, 'the WebSocket upgrade')) {
  t.test(`on the ${mode.name}`, async (t) => {
    const h = await startNode(t, await mode.env(t));
    const alice = await h.user('alice_u');

    t.test('an upgrade without a session cookie is refused with 401 unauthenticated', async (t) => {
      await refused(t, h, { headers: valid(undefined) }, 401, 'unauthenticated', 'no cookie');
      await refused(t, h, { headers: valid(undefined, { cookie: 'theme=dark' }) }, 401, 'unauthenticated', 'other cookies only');
      await refused(t, h, { headers: valid(undefined, { cookie: `session=${alice.sessionId}` }) }, 401, 'unauthenticated', 'a valid id under another cookie name');
    });

    t.test('an unknown or garbage session id is refused with 401 unauthenticated', async (t) => {
      const garbage: Array<[string, string]> = [
        ['an empty id', ''],
        ['an unknown id of the right shape', 'A'.repeat(43)],
        ['a short id', 'nope'],
        ['a 10k-character id', 'x'.repeat(10_000)],
        ['a MongoDB operator', '{"$ne":null}'],
        ['an encoded MongoDB operator', encodeURIComponent('{"$ne":null}')],
        ['a Redis glob', '*'],
        ['a Redis key of another shape', 'user:1'],
        ['a user id', String(alice.id)],
        ['the id with a suffix', `${alice.sessionId}x`],
        ['the id in another case', alice.sessionId.toUpperCase() === alice.sessionId ? alice.sessionId.toLowerCase() : alice.sessionId.toUpperCase()],
      ];
      for (const [what, id] of garbage) {
        await refused(t, h, { headers: valid(id) }, 401, 'unauthenticated', what);
      }
      await refused(t, h, { headers: valid(undefined, { cookie: '__Host-sid=garbage' }) }, 401, 'unauthenticated', 'a garbage __Host-sid');
    });

    t.test('a deleted session is refused with 401 unauthenticated', async (t) => {
      const bob = await h.user();
      t.equal((await rawUpgrade(h.wsUrl, valid(bob.sessionId))).status, 101, 'the session works before it is deleted');
      await h.stores.sessions.delete(bob.sessionId);
      await refused(t, h, { headers: valid(bob.sessionId) }, 401, 'unauthenticated', 'deleted session');
      await t.rejects(bob.connect(), /upgrade refused: 401/, 'a real client is refused too');
    });

    t.test('a missing or foreign Origin is refused with 403 forbidden_origin', async (t) => {
      await refused(t, h, { headers: valid(alice.sessionId, { origin: undefined }) }, 403, 'forbidden_origin', 'no Origin');
      const foreign = [
        'https://evil.example',
        'null',
        '',
        'https://localhost:3000',
        'http://localhost:3001',
        'http://localhost:3000.evil.example',
        'http://evil.example/http://localhost:3000',
        `${TEST_ORIGIN}, https://evil.example`,
      ];
      for (const origin of foreign) {
        await refused(t, h, { headers: valid(alice.sessionId, { origin }) }, 403, 'forbidden_origin', `Origin ${JSON.stringify(origin)}`);
      }
    });

    t.test('a path other than /ws is refused with 404 not_found', async (t) => {
      for (const path of ['/', '/wss', '/ws/', '/WS', '/api/ws', '/ws/../ws2', '/healthz']) {
        await refused(t, h, { headers: valid(alice.sessionId), path }, 404, 'not_found', path);
      }
      // Not a store outage: a request target no URL parser accepts is the client's mistake.
      for (const path of ['//[', '//host:99999/ws']) {
        await refused(t, h, { headers: valid(alice.sessionId), path }, 404, 'not_found', `unparsable ${path}`);
      }
      t.equal((await rawUpgrade(h.wsUrl, valid(alice.sessionId), '/ws?v=1')).status, 101, 'a query string does not change the path');
      await t.rejects(
        TestClient.open(t, h.wsUrl.replace(/\/ws$/, '/nowhere'), alice.sessionId),
        /upgrade refused: 404/,
        'a real client sees the refusal as an HTTP status',
      );
    });

    t.test('a missing or unsupported subprotocol is refused with 400 bad_subprotocol', async (t) => {
      const header = 'sec-websocket-protocol';
      await refused(t, h, { headers: valid(alice.sessionId, { [header]: undefined }) }, 400, 'bad_subprotocol', 'no subprotocol');
      for (const offered of ['messenger.v2', 'messenger', 'messenger.v1x', 'MESSENGER.V1', 'chat, superchat']) {
        await refused(t, h, { headers: valid(alice.sessionId, { [header]: offered }) }, 400, 'bad_subprotocol', `offered ${offered}`);
      }
    });

    t.test('a valid upgrade answers 101 with messenger.v1 and a hello naming the user', async (t) => {
      const raw = await rawUpgrade(h.wsUrl, valid(alice.sessionId, { 'sec-websocket-protocol': `chat.v9, ${SUBPROTOCOL}` }));
      t.equal(raw.status, 101, 'HTTP 101');
      t.equal(raw.headers['sec-websocket-protocol'], SUBPROTOCOL, 'messenger.v1 is chosen among the offered subprotocols');
      const c = await alice.connect();
      t.equal(c.ws.protocol, SUBPROTOCOL, 'the client negotiated messenger.v1');
      const [hello] = c.all('hello');
      t.match(
        hello,
        { type: 'hello', v: 1, user: { id: alice.id, handle: alice.handle, displayName: alice.displayName }, connectionId: String },
        'the hello frame names the user',
      );
      t.same(Object.keys(hello?.user ?? {}).sort(), ['displayName', 'handle', 'id'], 'the hello carries only the public user');
      const viaHost = await rawUpgrade(h.wsUrl, valid(undefined, { cookie: `theme=dark; __Host-sid=${alice.sessionId}` }));
      t.equal(viaHost.status, 101, 'the __Host-sid cookie is accepted too');
      await c.close();
    });

    t.test('an origin listed in ALLOWED_ORIGINS may connect, others still may not', async (t) => {
      const extra = 'https://app.example.com';
      const h2 = await startNode(t, { ...(await mode.env(t)), ALLOWED_ORIGINS: `${extra}, http://127.0.0.1:5173` });
      const carol = await h2.user();
      const c = await carol.connect({ origin: extra });
      t.match(c.all('hello')[0], { user: { id: carol.id } }, `a client from ${extra} is greeted`);
      const other = await carol.connect({ origin: 'http://127.0.0.1:5173' });
      t.equal(other.ws.readyState, other.ws.OPEN, 'the second listed origin may connect');
      const home = await carol.connect();
      t.equal(home.ws.readyState, home.ws.OPEN, 'PUBLIC_ORIGIN may still connect');
      const answer = await rawUpgrade(h2.wsUrl, valid(carol.sessionId, { origin: 'https://app.example.org' }));
      t.equal(answer.status, 403, 'an origin that is not listed is still refused');
      t.match(JSON.parse(answer.body), { error: { code: 'forbidden_origin' } }, 'with forbidden_origin');
    });

    t.test('a session that ends while connected closes its own sockets with 4001, no others', async (t) => {
      const dave = await h.user();
      const other = await h.stores.sessions.create(dave.id, 3600_000);
      const ended1 = await dave.connect();
      const ended2 = await dave.connect();
      const kept = await TestClient.open(t, h.wsUrl, other.id);
      const bystander = await alice.connect();
      await h.stores.sessions.delete(dave.sessionId);
      h.stores.bus.publish({ kind: 'session.ended', user: dave.id, sessions: [dave.sessionId] });
      const [c1, c2] = await Promise.all([ended1.closed, ended2.closed]);
      t.equal(c1.code, 4001, 'the first socket of the session closes with 4001');
      t.equal(c2.code, 4001, 'the second socket of the session closes with 4001');
      kept.send({ type: 'ping', ref: 'still' });
      await kept.next('pong', (f) => f.ref === 'still');
      t.equal(kept.ws.readyState, kept.ws.OPEN, 'the same user’s other session keeps its socket');
      bystander.send({ type: 'ping', ref: 'by' });
      await bystander.next('pong', (f) => f.ref === 'by');
      t.pass('another user is untouched');
      t.equal(h.node.registry.ofSession(other.id)?.size, 1, 'the registry still holds the other session’s socket');
      await t.rejects(dave.connect(), /upgrade refused: 401/, 'the ended session cannot connect again');
      await kept.close();
      await bystander.close();
    });
  });
}
