/**
 * OAuth sign-in end to end against a real local OpenID Connect provider (oidc-provider): our
 * authorize redirect, its login, our callback, the token exchange with PKCE, the session. Then
 * every abuse case: missing, mismatched or reused state, a replayed code, a foreign returnTo, a
 * callback in another browser, and linking.
 */
import t from 'tap';
import { call, Jar, type Answer } from '../../test/support/http.client.ts';
import { startOidc } from '../../test/support/oidc.provider.ts';
import { modes, startNode, TEST_ORIGIN, type Harness } from '../../test/support/router.harness.ts';
import { uniqueName } from '../../test/support/services.ts';

const redirectUri = `${TEST_ORIGIN}/api/auth/oidc/callback`;

for (const mode of modes(t, 'OAuth sign-in')) {
  t.test(`OAuth with a local OpenID Connect provider on the ${mode.name}`, async (t) => {
    const idp = await startOidc(t, redirectUri);
    const h = await startNode(t, {
      ...(await mode.env(t)),
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: idp.clientId,
      OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_NAME: 'Test SSO',
      REDIS_KEY_PREFIX: `${uniqueName('oauth')}:`,
    });

    /** A browser on our site: its cookies, and our answers to its navigations. */
    const browser = () => {
      const jar = new Jar();
      return {
        jar,
        get: async (path: string) => jar.update(await call(h.httpUrl, path, { cookie: jar.header() })),
        post: async (path: string, body: unknown = {}) => jar.update(await call(h.httpUrl, path, { body, origin: TEST_ORIGIN, cookie: jar.header() })),
      };
    };
    type Browser = ReturnType<typeof browser>;
    /** Our start, then the provider's login: the provider's redirect back to our callback (not followed). */
    const throughProvider = async (b: Browser, account: string, query = '') => {
      const start = await b.get(`/api/auth/oidc/start${query}`);
      t.equal(start.status, 303, 'start redirects to the provider');
      const back = await idp.authorize(String(start.headers.location), account);
      const url = new URL(back);
      return { start, callbackPath: url.pathname + url.search, params: url.searchParams };
    };

    t.test('the provider is listed only because it is configured', async (t) => {
      const r = await call(h.httpUrl, '/api/auth/providers');
      t.same(r.body, { providers: [{ id: 'oidc', name: 'Test SSO', start: '/api/auth/oidc/start' }] }, 'only oidc is listed');
      const google = await call(h.httpUrl, '/api/auth/google/start');
      t.match(google, { status: 404, body: { error: { code: 'provider_not_configured' } } }, 'an unconfigured provider cannot be started');
    });

    t.test('the full code flow signs a new user in and back in', async (t) => {
      const b = browser();
      const { start, callbackPath, params } = await throughProvider(b, 'alice', '?returnTo=/chats%3Fx%3D1');
      const authorize = new URL(String(start.headers.location));
      t.equal(authorize.origin, idp.issuer, 'the authorize URL is the discovered endpoint');
      t.equal(authorize.searchParams.get('redirect_uri'), redirectUri, 'the redirect URI is exact');
      t.equal(authorize.searchParams.get('code_challenge_method'), 'S256', 'PKCE S256 is used');
      t.ok((authorize.searchParams.get('state') ?? '').length >= 43, 'the state carries >= 256 bits');
      t.ok(b.jar.values.get('oauth'), 'the attempt is bound to this browser by a cookie');
      t.ok(params.get('code'), 'the provider sent a code back');

      const done = await b.get(callbackPath);
      t.equal(done.status, 303, 'the callback redirects');
      t.equal(done.headers.location, '/chats?x=1', 'to the local return path');
      t.ok(b.jar.values.get('sid'), 'a session cookie is set');
      t.notOk(b.jar.values.get('oauth'), 'the binding cookie is cleared');
      const me = await b.get('/api/me');
      t.match(me.body.user, { handle: 'alice', displayName: 'Person alice', avatarUrl: 'https://img.example.org/alice.png' }, 'the new user has the mapped profile');
      const ids = await b.get('/api/identities');
      t.match(ids.body.identities, [{ provider: 'oidc', email: 'alice@example.org' }], 'the identity is linked');

      const again = browser();
      const second = await throughProvider(again, 'alice');
      const done2 = await again.get(second.callbackPath);
      t.equal(done2.headers.location, '/', 'without returnTo the browser goes to /');
      t.equal((await again.get('/api/me')).body.user.id, me.body.user.id, 'the same provider account signs in to the same user');
    });

    t.test('an e-mail never merges accounts: same e-mail, other subject, other user', async (t) => {
      const first = browser();
      await first.get((await throughProvider(first, 'carol')).callbackPath);
      const carol = (await first.get('/api/me')).body.user;
      // The provider account "carol" and a user who signed up with a passkey and the same handle are different people.
      t.equal(carol.handle, 'carol', 'carol got the handle from the login');
      const b = browser();
      await b.get((await throughProvider(b, 'CAROL')).callbackPath);
      const other = (await b.get('/api/me')).body.user;
      t.not(other.id, carol.id, 'another subject is another user, even with a handle that collides');
      t.match(other.handle, /^carol_[0-9a-f]{6}$/, 'the colliding handle got a suffix');
    });

    t.test('missing, mismatched and reused state are refused', async (t) => {
      const refused = (r: Answer, what: string) => {
        t.equal(r.status, 303, `${what}: redirected`);
        t.equal(r.headers.location, '/?auth_error=oauth_failed', `${what}: back to the app with oauth_failed`);
        t.notOk(r.cookies.sid, `${what}: no session`);
      };
      for (const [what, mangle] of [
        ['no state', (p: URLSearchParams) => p.delete('state')],
        ['an unknown state', (p: URLSearchParams) => p.set('state', 'A'.repeat(43))],
        ['a state of another attempt', null],
      ] as const) {
        const b = browser();
        const { params } = await throughProvider(b, 'dave');
        if (mangle) mangle(params);
        else params.set('state', new URL(String((await browser().get('/api/auth/oidc/start')).headers.location)).searchParams.get('state')!);
        refused(await b.get(`/api/auth/oidc/callback?${params}`), what);
      }
      const b = browser();
      const { callbackPath } = await throughProvider(b, 'dave');
      const binding = b.jar.values.get('oauth')!;
      t.equal((await b.get(callbackPath)).headers.location, '/', 'the real state works once');
      b.jar.values.set('oauth', binding);
      refused(await b.get(callbackPath), 'the reused state (same browser, same binding)');
    });

    t.test('the state is bound to the browser that started', async (t) => {
      const victim = browser();
      const attacker = browser();
      const { callbackPath } = await throughProvider(attacker, 'mallory');
      // Login CSRF: the attacker makes the victim's browser open the attacker's callback URL.
      const r = await victim.get(callbackPath);
      t.equal(r.headers.location, '/?auth_error=oauth_failed', "the attacker's code does not sign the victim in");
      t.notOk(victim.jar.values.get('sid'), 'the victim has no session');
      const late = await attacker.get(callbackPath);
      t.equal(late.headers.location, '/?auth_error=oauth_failed', 'and the attempt is consumed: it fails for the attacker too');
    });

    t.test('a replayed code is refused', async (t) => {
      const b = browser();
      const { callbackPath, params } = await throughProvider(b, 'erin');
      t.equal((await b.get(callbackPath)).headers.location, '/', 'the first use works');
      // A new attempt in the same browser, but the old code: the provider refuses it (and the PKCE verifier differs).
      const b2 = browser();
      const fresh = await b2.get('/api/auth/oidc/start');
      const state = new URL(String(fresh.headers.location)).searchParams.get('state');
      const r = await b2.get(`/api/auth/oidc/callback?code=${params.get('code')}&state=${state}`);
      t.equal(r.headers.location, '/?auth_error=oauth_failed', 'the replayed code does not sign in');
      t.notOk(b2.jar.values.get('sid'), 'no session');
    });

    t.test('a provider error is refused', async (t) => {
      const b = browser();
      const start = await b.get('/api/auth/oidc/start');
      const state = new URL(String(start.headers.location)).searchParams.get('state');
      const r = await b.get(`/api/auth/oidc/callback?error=access_denied&state=${state}`);
      t.equal(r.headers.location, '/?auth_error=oauth_failed', 'access_denied ends the attempt');
    });

    t.test('only local return paths are accepted', async (t) => {
      for (const bad of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'evil.example', 'javascript:alert(1)', '/%0d%0aSet-Cookie:x=1'.replace('%0d%0a', '\r\n'), 'http:/evil.example']) {
        const r = await call(h.httpUrl, `/api/auth/oidc/start?returnTo=${encodeURIComponent(bad)}`);
        t.match(r, { status: 400, body: { error: { code: 'invalid_request' } } }, `returnTo ${JSON.stringify(bad)} is refused`);
      }
      const ok = await call(h.httpUrl, `/api/auth/oidc/start?returnTo=${encodeURIComponent('/settings#x')}`);
      t.equal(ok.status, 303, 'a local path is accepted');
    });

    t.test('a signed-in user links the provider to their account', async (t) => {
      // A user who signed in with the provider "frank" links nothing; a user of another provider account links "grace".
      const b = browser();
      await b.get((await throughProvider(b, 'frank')).callbackPath);
      const frank = (await b.get('/api/me')).body.user;
      const sidBefore = b.jar.values.get('sid');
      const unauth = await call(h.httpUrl, '/api/auth/oidc/start?link=1');
      t.match(unauth, { status: 401, body: { error: { code: 'unauthenticated' } } }, 'linking needs a session');

      const linked = await throughProvider(b, 'grace', '?link=1&returnTo=/settings');
      const r = await b.get(linked.callbackPath);
      t.equal(r.headers.location, '/settings', 'linking returns to settings');
      t.equal(b.jar.values.get('sid'), sidBefore, 'linking keeps the session');
      const ids = (await b.get('/api/identities')).body.identities;
      t.same(ids.map((i: { email: string }) => i.email).sort(), ['frank@example.org', 'grace@example.org'], 'both provider accounts belong to frank');

      // grace now signs in to frank's account.
      const g = browser();
      await g.get((await throughProvider(g, 'grace')).callbackPath);
      t.equal((await g.get('/api/me')).body.user.id, frank.id, 'the linked account signs in to the same user');

      // Linking an account someone else holds is refused.
      const h2 = browser();
      await h2.get((await throughProvider(h2, 'heidi')).callbackPath);
      const steal = await throughProvider(h2, 'grace', '?link=1');
      t.equal((await h2.get(steal.callbackPath)).headers.location, '/?auth_error=identity_taken', "grace cannot be linked to heidi's account");

      // Unlinking: one yes, the last one no.
      const [first, second] = ids as Array<{ id: number }>;
      t.equal((await call(h.httpUrl, `/api/identities/${first!.id}`, { method: 'DELETE', origin: TEST_ORIGIN, cookie: b.jar.header() })).status, 204, 'one identity is unlinked');
      const last = await call(h.httpUrl, `/api/identities/${second!.id}`, { method: 'DELETE', origin: TEST_ORIGIN, cookie: b.jar.header() });
      t.match(last, { status: 409, body: { error: { code: 'last_credential' } } }, 'the last way in cannot be unlinked');
    });
  });
}
