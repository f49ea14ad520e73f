/**
 * The HTTP edge's guards as polka middleware: a route group checks Origin before anything else
 * and the session before its handler, answering with the same codes the handlers' own checks did
 * (403 `forbidden_origin`, 401 `unauthenticated`), and hands the handler a typed `req.caller`.
 * A real app (httpApp) on port 0 with real stores (the embedded default) and a route module of
 * the test's own; the cookie parser both the session and the OAuth binding use, as a pure function.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { ERROR_CODES } from '../../protocol/errors.ts';
import { call } from '../../test/support/http.client.ts';
import { TEST_ORIGIN, testNodeEnv } from '../../test/support/router.harness.ts';
import { createLogger } from '../../kit/logger.ts';
import { cookieValue, sessionIdFrom } from '../src/auth/cookies.ts';
import { SessionActivity } from '../src/auth/session.activity.ts';
import { httpApp } from '../src/http/app.ts';
import { callerOf, edgeGuards } from '../src/http/caller.ts';
import type { RouteModule } from '../src/http/route.ts';
import { loadConfig } from '../src/config.ts';
import { openStores } from '../src/stores.ts';

const EVIL = 'https://evil.example';

t.test('route groups guard their routes', async (t) => {
  const config = loadConfig(testNodeEnv());
  const log = createLogger(config.logLevel);
  const stores = await openStores(config, log);
  t.teardown(() => stores.close());
  const activity = new SessionActivity({ sessions: stores.sessions, config, log });
  const callers = { sessions: stores.sessions, relational: stores.relational, activity, config, log };
  /** Every handler that runs says so, so a test can tell a refusal by a guard from one by a handler. */
  const ran: string[] = [];
  const probe: RouteModule = ({ anyone, sameOrigin, signedIn }) => {
    anyone.post('/api/probe/anyone', (_req, res) => void (ran.push('anyone'), res.writeHead(204).end()));
    sameOrigin.post('/api/probe/origin', (_req, res) => void (ran.push('origin'), res.writeHead(204).end()));
    signedIn.get('/api/probe/me', (req, res) => {
      ran.push('me');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: req.caller.user.id, session: req.caller.session.id }));
    });
    signedIn.post('/api/probe/me', (req, res) => {
      ran.push('me');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: req.caller.user.id }));
    });
  };
  const app = httpApp({ config, log, guards: edgeGuards(callers), routes: [probe], ready: async () => [], draining: () => false });
  const server = createServer(app.handler as unknown as RequestListener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const user = await stores.relational.createUser(`edge_${Date.now().toString(36)}`, 'Edge');
  const session = await stores.sessions.create(user.id, 3600_000);
  const cookie = `sid=${session.id}`;

  t.test('a cross-origin POST to a signed-in route is 403 forbidden_origin, session or not, and no handler runs', async (t) => {
    ran.length = 0;
    for (const c of [{ cookie }, {}]) {
      for (const origin of [EVIL, undefined, 'null']) {
        const r = await call(base, '/api/probe/me', { method: 'POST', origin, ...c });
        t.match(r, { status: 403, body: { error: { code: 'forbidden_origin', message: ERROR_CODES.forbidden_origin.text } } }, `Origin ${origin ?? '(none)'} ${c.cookie ? 'with' : 'without'} a session is refused`);
      }
    }
    t.same(ran, [], 'the handler never ran');
  });

  t.test('without a live session a signed-in route is 401 unauthenticated', async (t) => {
    ran.length = 0;
    for (const c of [undefined, 'sid=garbage', '__Host-sid=', 'other=1']) {
      const r = await call(base, '/api/probe/me', { cookie: c });
      t.match(r, { status: 401, body: { error: { code: 'unauthenticated', message: ERROR_CODES.unauthenticated.text } } }, `Cookie ${c ?? '(none)'} is refused`);
    }
    const post = await call(base, '/api/probe/me', { method: 'POST', origin: TEST_ORIGIN });
    t.match(post, { status: 401, body: { error: { code: 'unauthenticated' } } }, 'a same-origin POST without a session is refused too');
    t.same(ran, [], 'the handler never ran');
  });

  t.test('with a live session the handler gets the caller', async (t) => {
    const get = await call(base, '/api/probe/me', { cookie });
    t.same(get.body, { id: user.id, session: session.id }, 'req.caller is the session and its user');
    const cross = await call(base, '/api/probe/me', { cookie, origin: EVIL });
    t.equal(cross.status, 200, 'a read from another origin passes: only state changes are checked');
    const post = await call(base, '/api/probe/me', { method: 'POST', cookie, origin: TEST_ORIGIN });
    t.same(post.body, { id: user.id }, 'a same-origin POST with a session reaches the handler');
  });

  t.test('the same-origin group needs no session, and the open group no origin', async (t) => {
    t.equal((await call(base, '/api/probe/origin', { method: 'POST', origin: TEST_ORIGIN })).status, 204, 'same origin, no session: passes');
    t.match(await call(base, '/api/probe/origin', { method: 'POST', origin: EVIL }), { status: 403, body: { error: { code: 'forbidden_origin' } } }, 'another origin is refused');
    t.equal((await call(base, '/api/probe/anyone', { method: 'POST', origin: EVIL })).status, 204, 'the open group takes any origin');
  });

  t.test('callerOf is the user of the session cookie', async (t) => {
    const req = { headers: { cookie: `a=b; ${cookie}` } } as Parameters<typeof callerOf>[0];
    t.match(await callerOf(req, callers), { user: { id: user.id }, session: { id: session.id } }, 'the caller of the cookie');
    t.equal(await callerOf({ headers: {} } as Parameters<typeof callerOf>[0], callers), null, 'no cookie, no caller');
  });
});

t.test('one cookie parser', async (t) => {
  t.equal(cookieValue('a=1; oauth=xyz; b=2', 'oauth'), 'xyz', 'a named cookie among others');
  t.equal(cookieValue(' oauth = xyz ', 'oauth'), 'xyz', 'spaces around name and value are trimmed');
  t.equal(cookieValue('oauth=first; oauth=second', 'oauth'), 'first', 'a cookie sent twice: the first');
  t.equal(cookieValue('xoauth=1; oauthx=2', 'oauth'), undefined, 'names match whole, not as a part');
  t.equal(cookieValue(undefined, 'oauth'), undefined, 'no header, no cookie');
  t.equal(cookieValue('oauth=', 'oauth'), '', 'an empty value is empty, not absent');
  t.equal(sessionIdFrom('sid=plain; __Host-sid=secure'), 'secure', 'the __Host- session cookie wins wherever it is');
  t.equal(sessionIdFrom('x=1; sid=plain'), 'plain', 'the plain session cookie when there is no __Host- one');
  t.equal(sessionIdFrom('x=1'), undefined, 'no session cookie');
});
