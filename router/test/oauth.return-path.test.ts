/**
 * Where a browser goes after OAuth sign-in: only a path on this site, judged after normalisation
 * (dot segments, percent-encoding), so `/.//evil.example` cannot come back as `Location:
 * //evil.example`. The rule itself, then the whole flow against a real local OpenID Connect provider.
 */
import t from 'tap';
import { localPath } from '../../protocol/local-path.ts';
import { call, Jar } from '../../test/support/http.client.ts';
import { startOidc } from '../../test/support/oidc.provider.ts';
import { startNode, TEST_ORIGIN } from '../../test/support/router.harness.ts';

/** Forms that normalise, decode or get stripped into another host, or are not paths at all. */
const FOREIGN = [
  '/.//evil.example',
  '/..//evil.example',
  '/a/..//evil.example',
  '/a/b/../..//evil.example',
  '/./\\evil.example',
  '/%2e%2e//evil.example',
  '/%2E//evil.example',
  '/.%2e//evil.example',
  '/%2F%2Fevil.example',
  '/%2f/evil.example',
  '/%5Cevil.example',
  '/%252F%252Fevil.example',
  '/\\evil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '/\u0000/evil.example',
  '/\u0085/evil.example',
  '/%09/evil.example',
  '//evil.example',
  '///evil.example',
  '\\\\evil.example',
  ' /evil.example',
  'https://evil.example/',
  'http:/evil.example',
  'evil.example',
  'javascript:alert(1)',
  '',
  `/${'a'.repeat(512)}`,
];

const sameOrigin = (location: string) => new URL(location, TEST_ORIGIN).origin === TEST_ORIGIN;

t.test('localPath', async (t) => {
  t.test('refuses every form that could send the browser to another host', async (t) => {
    for (const value of FOREIGN) t.equal(localPath(value), null, `${JSON.stringify(value)} is refused`);
  });

  t.test('returns only paths that are still on this site once normalised', async (t) => {
    for (const value of FOREIGN) {
      const path = localPath(value);
      t.ok(path === null || (sameOrigin(path) && !path.startsWith('//')), `${JSON.stringify(value)} gives a same-origin path or nothing`);
    }
  });

  t.test('keeps ordinary local paths, normalised', async (t) => {
    t.equal(localPath('/'), '/', 'the root');
    t.equal(localPath('/settings'), '/settings', 'a page');
    t.equal(localPath('/chats?x=1#top'), '/chats?x=1#top', 'with query and fragment');
    t.equal(localPath('/a/./b/../c'), '/a/c', 'dot segments are resolved, and what is returned is the resolved path');
    t.equal(localPath('/..'), '/', 'climbing above the root stays at the root');
    t.equal(localPath('/search?q=100%25'), '/search?q=100%25', 'an encoded percent sign is fine');
    t.equal(localPath('/chat/é'), '/chat/%C3%A9', 'non-ASCII is percent-encoded as a browser would');
  });
});

t.test('OAuth sign-in with a foreign returnTo, end to end', async (t) => {
  const idp = await startOidc(t, `${TEST_ORIGIN}/api/auth/oidc/callback`);
  const h = await startNode(t, { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret });

  /** Start, the provider's login, our callback: the Locations the browser is sent to, in order. */
  const signIn = async (account: string, returnTo: string, tamper?: (state: string) => Promise<void>) => {
    const jar = new Jar();
    const start = jar.update(await call(h.httpUrl, `/api/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`, { cookie: jar.header() }));
    if (start.status !== 303) return { start, jar, location: undefined };
    const back = new URL(await idp.authorize(String(start.headers.location), account));
    await tamper?.(back.searchParams.get('state') ?? '');
    const done = jar.update(await call(h.httpUrl, back.pathname + back.search, { cookie: jar.header() }));
    return { start, jar, done, location: String(done.headers.location) };
  };

  t.test('returnTo=/.//evil.example never ends at another origin', async (t) => {
    for (const returnTo of ['/.//evil.example', '/..//evil.example', '/a/..//evil.example', '/%2e%2e//evil.example']) {
      const { start, location } = await signIn('mallory', returnTo);
      if (location !== undefined) t.ok(sameOrigin(location), `after signing in with ${returnTo} the browser is sent to ${location}, on this site`);
      t.match(start, { status: 400, body: { error: { code: 'invalid_request' } } }, `the sign-in with returnTo ${returnTo} is refused before the provider`);
    }
  });

  t.test('an attempt holding a foreign path (stored before the rule was tightened) lands on /', async (t) => {
    const { done, jar, location } = await signIn('trudy', '/settings', async (state) => {
      const attempt = await h.stores.attempts.take<Record<string, unknown>>(`oauth:${state}`);
      t.ok(attempt, 'the attempt is stored under its state');
      await h.stores.attempts.put(`oauth:${state}`, { ...attempt, returnTo: '//evil.example' }, 60_000);
    });
    t.equal(done?.status, 303, 'the callback redirects');
    t.equal(location, '/', 'to the root of this site, not to the stored foreign path');
    t.ok(jar.values.get('sid'), 'and the sign-in itself succeeded');
  });

  t.test('a local returnTo is still followed after sign-in', async (t) => {
    const { location } = await signIn('alice', '/a/../settings?tab=1');
    t.equal(location, '/settings?tab=1', 'the normalised local path is the Location');
  });
});
