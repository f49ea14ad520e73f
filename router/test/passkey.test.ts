/**
 * Passkeys through the HTTP API with a software authenticator (real crypto, real verification):
 * sign-up, sign-in, adding and removing passkeys, and every abuse case the issue lists. The same
 * flow in a real browser is passkey.browser.test.ts.
 */
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { ManualScheduler } from '../../test/support/clock.ts';
import { call, Jar, type Answer } from '../../test/support/http.client.ts';
import { uniqueName } from '../../test/support/services.ts';
import { modes, startNode, TEST_ORIGIN, TestClient, type Harness } from '../../test/support/router.harness.ts';
import { waitFor } from '../../test/support/wait.ts';
import { SoftCredential } from '../../test/support/webauthn.authenticator.ts';

const origin = TEST_ORIGIN;
let n = 0;
const handle = () => `pk_${process.pid}_${++n}`;

/** A browser: a cookie jar and our Origin on every request. */
function browser(h: Harness) {
  const jar = new Jar();
  return {
    jar,
    async req(path: string, body?: unknown, method?: string): Promise<Answer> {
      return jar.update(await call(h.httpUrl, path, { body, method, origin, cookie: jar.header() }));
    },
  };
}

async function signUp(t: Test, h: Harness, name = handle()) {
  const b = browser(h);
  const cred = new SoftCredential(origin);
  const options = await b.req('/api/passkeys/signup/options', { handle: name, displayName: `Name ${name}` });
  t.equal(options.status, 200, 'sign-up options are issued');
  const verify = await b.req('/api/passkeys/signup/verify', cred.attest(options.body));
  t.equal(verify.status, 200, `sign-up verifies: ${JSON.stringify(verify.body)}`);
  return { b, cred, user: verify.body.user as { id: number; handle: string } };
}

async function signInWith(h: Harness, cred: SoftCredential, b = browser(h), o: Parameters<SoftCredential['assert']>[1] = {}) {
  const options = await b.req('/api/passkeys/signin/options', {});
  return { b, options, answer: await b.req('/api/passkeys/signin/verify', cred.assert(options.body, o)) };
}

for (const mode of modes(t, 'passkeys')) {
  t.test(`passkeys on the ${mode.name}`, async (t) => {
    // Own Redis keys: sign-out-everywhere must not meet sessions of other test files' user ids.
    // The node's stores read the time from this clock: challenges expire when the test says so.
    const clock = new ManualScheduler();
    const h = await startNode(t, { ...(await mode.env(t)), REDIS_KEY_PREFIX: `${uniqueName('pk')}:` }, undefined, { scheduler: clock });

    /** Lets the challenge of sign-in options expire: past its TTL by the node's clock, and by Redis's, which keeps time of its own. */
    async function expireChallenge(t: Test, options: Answer): Promise<void> {
      const { config } = h.node;
      clock.advance(config.authAttemptTtlMs);
      if (!config.redisUrl) return;
      const redis = new Redis(config.redisUrl);
      t.teardown(() => redis.quit());
      const key = `${config.redisKeyPrefix}attempt:passkey:${(options.body as { challenge: string }).challenge}`;
      t.equal(await redis.pexpire(key, 1), 1, 'the challenge was stored in Redis');
      t.ok(await waitFor(async () => (await redis.exists(key)) === 0), 'and Redis has expired it');
    }

    t.test('a new user signs up, is signed in, signs out and signs back in', async (t) => {
      const name = handle();
      const { b, cred, user } = await signUp(t, h, name);
      t.equal(user.handle, name, 'the account has the chosen handle');
      t.same([...b.jar.values.keys()], ['sid'], 'a session cookie was set');
      const me = await b.req('/api/me');
      t.equal(me.status, 200, 'the session works');
      t.match(me.body.user, { id: user.id, handle: name, displayName: `Name ${name}`, avatarUrl: null }, '/api/me is the new user');
      t.equal((await b.req('/api/signout', {})).status, 204, 'sign-out answers 204');
      t.equal((await b.req('/api/me')).status, 401, 'after sign-out the browser is anonymous');
      const { answer } = await signInWith(h, cred, b);
      t.equal(answer.status, 200, 'signing in with the passkey works');
      t.equal(answer.body.user.id, user.id, 'it signs in to the same user');
      t.equal((await b.req('/api/me')).body.user.id, user.id, 'and the new session is that user');
    });

    t.test('sign-up options check the handle', async (t) => {
      const { user } = await signUp(t, h);
      const b = browser(h);
      const taken = await b.req('/api/passkeys/signup/options', { handle: user.handle.toUpperCase(), displayName: 'X' });
      t.match(taken, { status: 409, body: { error: { code: 'handle_taken' } } }, 'a taken handle (any case) is refused');
      for (const bad of ['ab', 'a'.repeat(33), 'with space', 'dash-y', 'ünï']) {
        const r = await b.req('/api/passkeys/signup/options', { handle: bad, displayName: 'X' });
        t.match(r, { status: 400, body: { error: { code: 'invalid_request' } } }, `handle ${JSON.stringify(bad)} is invalid`);
      }
      const extra = await b.req('/api/passkeys/signup/options', { handle: handle(), displayName: 'X', admin: true });
      t.equal(extra.status, 400, 'unknown fields are refused');
    });

    t.test('two sign-ups racing for one handle: one wins, the other gets handle_taken', async (t) => {
      const name = handle();
      const [b1, b2] = [browser(h), browser(h)];
      const [o1, o2] = [await b1.req('/api/passkeys/signup/options', { handle: name, displayName: 'A' }), await b2.req('/api/passkeys/signup/options', { handle: name, displayName: 'B' })];
      const r1 = await b1.req('/api/passkeys/signup/verify', new SoftCredential(origin).attest(o1.body));
      const r2 = await b2.req('/api/passkeys/signup/verify', new SoftCredential(origin).attest(o2.body));
      t.equal(r1.status, 200, 'the first verify creates the user');
      t.match(r2, { status: 409, body: { error: { code: 'handle_taken' } } }, 'the second is handle_taken');
    });

    t.test('a challenge is single use: a replayed response is challenge_expired', async (t) => {
      const b = browser(h);
      const options = await b.req('/api/passkeys/signup/options', { handle: handle(), displayName: 'R' });
      const response = new SoftCredential(origin).attest(options.body);
      t.equal((await b.req('/api/passkeys/signup/verify', response)).status, 200, 'the first use works');
      const again = await browser(h).req('/api/passkeys/signup/verify', response);
      t.match(again, { status: 400, body: { error: { code: 'challenge_expired' } } }, 'the replay is refused');

      const { cred } = await signUp(t, h);
      const so = await b.req('/api/passkeys/signin/options', {});
      const assertion = cred.assert(so.body);
      t.equal((await browser(h).req('/api/passkeys/signin/verify', assertion)).status, 200, 'a sign-in assertion works once');
      t.match(await browser(h).req('/api/passkeys/signin/verify', assertion), { status: 400, body: { error: { code: 'challenge_expired' } } }, 'a replayed sign-in assertion is refused');
    });

    t.test('a failed attempt consumes its challenge too', async (t) => {
      const { cred } = await signUp(t, h);
      const b = browser(h);
      const so = await b.req('/api/passkeys/signin/options', {});
      const bad = await b.req('/api/passkeys/signin/verify', cred.assert(so.body, { origin: 'https://evil.example' }));
      t.match(bad, { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'the bad attempt is refused');
      const retry = await b.req('/api/passkeys/signin/verify', cred.assert(so.body));
      t.match(retry, { status: 400, body: { error: { code: 'challenge_expired' } } }, 'a correct retry with the same challenge is refused');
    });

    t.test('an expired challenge is refused', async (t) => {
      const { cred } = await signUp(t, h);
      const b = browser(h);
      const so = await b.req('/api/passkeys/signin/options', {});
      await expireChallenge(t, so);
      t.match(await b.req('/api/passkeys/signin/verify', cred.assert(so.body)), { status: 400, body: { error: { code: 'challenge_expired' } } }, 'after the TTL the challenge is gone');
    });

    t.test('origin and RP ID must match exactly', async (t) => {
      for (const [what, o] of [
        ['a foreign origin', { origin: 'https://evil.example' }],
        ['another port', { origin: 'http://localhost:3001' }],
        ['https instead of http', { origin: 'https://localhost:3000' }],
        ['another RP ID', { rpId: 'evil.example' }],
      ] as const) {
        const b = browser(h);
        const options = await b.req('/api/passkeys/signup/options', { handle: handle(), displayName: 'O' });
        const r = await b.req('/api/passkeys/signup/verify', new SoftCredential(origin).attest(options.body, o));
        t.match(r, { status: 400, body: { error: { code: 'passkey_rejected' } } }, `sign-up from ${what} is refused`);
        t.notOk(r.cookies.sid, `${what}: no session`);
      }
      const { cred } = await signUp(t, h);
      const { answer } = await signInWith(h, cred, browser(h), { origin: 'https://evil.example' });
      t.match(answer, { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'sign-in from a foreign origin is refused');
    });

    t.test('user verification is required', async (t) => {
      const b = browser(h);
      const options = await b.req('/api/passkeys/signup/options', { handle: handle(), displayName: 'U' });
      t.equal(options.body.authenticatorSelection.userVerification, 'required', 'options ask for user verification');
      t.equal(options.body.authenticatorSelection.residentKey, 'required', 'options ask for a discoverable credential');
      const r = await b.req('/api/passkeys/signup/verify', new SoftCredential(origin).attest(options.body, { flags: 0x41 }));
      t.match(r, { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'a registration without UV is refused');
      const { cred } = await signUp(t, h);
      const { answer } = await signInWith(h, cred, browser(h), { flags: 0x01 });
      t.match(answer, { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'an assertion without UV is refused');
    });

    t.test('a signature counter that goes back is refused (cloned authenticator)', async (t) => {
      const { cred } = await signUp(t, h);
      t.equal((await signInWith(h, cred, browser(h), { counter: 5 })).answer.status, 200, 'counter 5 is accepted');
      const same = await signInWith(h, cred, browser(h), { counter: 5 });
      t.match(same.answer, { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'counter 5 again is refused');
      const back = await signInWith(h, cred, browser(h), { counter: 3 });
      t.match(back.answer, { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'counter 3 is refused');
      t.equal((await signInWith(h, cred, browser(h), { counter: 6 })).answer.status, 200, 'counter 6 is accepted');
    });

    t.test("another user's credential cannot be used", async (t) => {
      const alice = await signUp(t, h);
      const bob = await signUp(t, h);
      // Bob's key signs for Alice's credential id: the signature does not verify against Alice's key.
      const forged = new SoftCredential(origin);
      Object.assign(forged, { privateKey: bob.cred.privateKey });
      (forged as { id: Buffer }).id.set(alice.cred.id);
      forged.userHandle = alice.cred.userHandle;
      const r1 = await signInWith(h, forged, browser(h), { counter: 100 });
      t.match(r1.answer, { status: 400, body: { error: { code: 'passkey_rejected' } } }, "Alice's credential id signed with Bob's key is refused");
      const r2 = await signInWith(h, alice.cred, browser(h), { userHandle: bob.cred.userHandle });
      t.match(r2.answer, { status: 400, body: { error: { code: 'passkey_rejected' } } }, "Alice's credential claiming Bob's user handle is refused");
      const unknown = await signInWith(h, new SoftCredential(origin), browser(h));
      t.match(unknown.answer, { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'an unknown credential is refused');
      // Bob tries to add Alice's credential to his account.
      const addOptions = await bob.b.req('/api/passkeys/options', {});
      const r3 = await bob.b.req('/api/passkeys', alice.cred.attest(addOptions.body));
      t.match(r3, { status: 409, body: { error: { code: 'passkey_taken' } } }, "adding a credential that is someone else's is refused as a taken passkey");
      const del = await bob.b.req(`/api/passkeys/${alice.cred.idB64}`, undefined, 'DELETE');
      t.match(del, { status: 404, body: { error: { code: 'passkey_not_found' } } }, "Bob cannot remove Alice's passkey");
      // An add challenge of Alice's cannot be finished by Bob.
      const aliceAdd = await alice.b.req('/api/passkeys/options', {});
      const r4 = await bob.b.req('/api/passkeys', new SoftCredential(origin).attest(aliceAdd.body));
      t.match(r4, { status: 400, body: { error: { code: 'passkey_rejected' } } }, "Bob cannot complete Alice's add-passkey challenge");
    });

    t.test('passkeys can be added, listed and removed, but never the last way in', async (t) => {
      const { b, cred, user } = await signUp(t, h);
      const list1 = await b.req('/api/passkeys');
      t.equal(list1.body.passkeys.length, 1, 'one passkey after sign-up');
      const options = await b.req('/api/passkeys/options', { name: 'Laptop' });
      t.same(options.body.excludeCredentials.map((c: { id: string }) => c.id), [cred.idB64], 'existing passkeys are excluded');
      t.equal(options.body.user.id, cred.userHandle, 'the same WebAuthn user handle is used');
      const second = new SoftCredential(origin);
      const added = await b.req('/api/passkeys', second.attest(options.body));
      t.equal(added.status, 201, 'the second passkey is added');
      t.same(added.body.passkeys.map((p: { name: string }) => p.name), ['Passkey', 'Laptop'], 'both are listed with names');
      t.equal((await signInWith(h, second)).answer.body.user.id, user.id, 'the new passkey signs in to the same user');
      t.equal((await b.req(`/api/passkeys/${cred.idB64}`, undefined, 'DELETE')).status, 204, 'the first passkey is removed');
      t.match(await signInWith(h, cred).then((r) => r.answer), { status: 400, body: { error: { code: 'passkey_rejected' } } }, 'the removed passkey no longer signs in');
      const last = await b.req(`/api/passkeys/${second.idB64}`, undefined, 'DELETE');
      t.match(last, { status: 409, body: { error: { code: 'last_credential' } } }, 'the last passkey cannot be removed');
    });

    t.test('a passkey nobody named is named after its authenticator, else its device; its owner renames it', async (t) => {
      const { b } = await signUp(t, h);
      const add = async (credential: SoftCredential, userAgent?: string) => {
        const options = await b.req('/api/passkeys/options', {});
        const headers = userAgent ? { 'user-agent': userAgent } : undefined;
        const added = await call(h.httpUrl, '/api/passkeys', { body: credential.attest(options.body), origin, cookie: b.jar.header(), headers });
        t.equal(added.status, 201, 'added');
        return added.body.passkeys.find((p: { id: string }) => p.id === credential.idB64) as { id: string; name: string };
      };
      const pixel = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
      t.equal((await add(new SoftCredential(origin, { aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd' }), pixel)).name, 'iCloud Keychain', 'a known AAGUID names it');
      t.equal((await add(new SoftCredential(origin, { aaguid: 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4' }))).name, 'Google Password Manager', 'whatever the browser');
      const phone = await add(new SoftCredential(origin), pixel);
      t.equal(phone.name, 'Chrome on Android', 'without one, the device it was added on names it');
      t.equal((await add(new SoftCredential(origin, { aaguid: '12345678-1234-1234-1234-123456789abc' }))).name, 'Passkey', 'an unknown authenticator on an unknown device is "Passkey"');

      const renamed = await b.req(`/api/passkeys/${encodeURIComponent(phone.id)}`, { name: '  My Pixel\u0301 ' }, 'PATCH');
      t.equal(renamed.status, 200, 'renamed');
      t.equal(renamed.body.passkey.name, 'My Pixel\u0301'.normalize('NFC').trim(), 'the name is stored NFC and trimmed, and answered');
      t.equal((await b.req('/api/passkeys')).body.passkeys.find((p: { id: string }) => p.id === phone.id).name, renamed.body.passkey.name, 'the list has it');
      for (const name of ['', '   ', 'a\u0000b', '\u202Eevil', 'x'.repeat(65)]) {
        const r = await b.req(`/api/passkeys/${encodeURIComponent(phone.id)}`, { name }, 'PATCH');
        t.match(r, { status: 400, body: { error: { code: 'invalid_request' } } }, `name ${JSON.stringify(name.slice(0, 6))} is invalid_request`);
      }
      t.match(await b.req(`/api/passkeys/${encodeURIComponent(phone.id)}`, {}, 'PATCH'), { status: 400 }, 'a missing name is invalid_request');
      t.match(await b.req(`/api/passkeys/${encodeURIComponent(phone.id)}`, { name: 'x', extra: 1 }, 'PATCH'), { status: 400 }, 'unknown fields are refused');
      const other = await signUp(t, h);
      t.match(await other.b.req(`/api/passkeys/${encodeURIComponent(phone.id)}`, { name: 'Mine' }, 'PATCH'), { status: 404, body: { error: { code: 'passkey_not_found' } } }, 'someone else\'s passkey is passkey_not_found');
      t.match(await b.req('/api/passkeys/nope', { name: 'x' }, 'PATCH'), { status: 404, body: { error: { code: 'passkey_not_found' } } }, 'an unknown one too');
    });

    t.test('session fixation: the pre-login session id does not survive sign-in', async (t) => {
      const { cred } = await signUp(t, h);
      const planted = await h.user(); // a session an attacker holds and plants in the victim's browser
      const b = browser(h);
      b.jar.values.set('sid', planted.sessionId);
      const { answer } = await signInWith(h, cred, b);
      t.equal(answer.status, 200, 'sign-in works');
      t.ok(answer.cookies.sid && answer.cookies.sid !== planted.sessionId, 'a new session id is issued');
      const old = await call(h.httpUrl, '/api/me', { cookie: `sid=${planted.sessionId}` });
      t.equal(old.status, 401, 'the planted session id is dead');
      const again = await signInWith(h, cred, b);
      t.not(again.answer.cookies.sid, answer.cookies.sid, 'every sign-in mints a new id');
      t.equal((await call(h.httpUrl, '/api/me', { cookie: `sid=${answer.cookies.sid}` })).status, 401, 'the previous id of this browser is dead');
    });

    t.test('a session is unusable after sign-out, over HTTP and WebSocket', async (t) => {
      const { b } = await signUp(t, h);
      const sid = b.jar.values.get('sid')!;
      const ws = await TestClient.open(t, h.wsUrl, sid);
      t.equal((await b.req('/api/signout', {})).status, 204, 'signed out');
      t.equal((await ws.closed).code, 4001, 'the open socket of that session closes with 4001');
      t.equal((await call(h.httpUrl, '/api/me', { cookie: `sid=${sid}` })).status, 401, 'the id no longer works over HTTP');
      await t.rejects(TestClient.open(t, h.wsUrl, sid), /401/, 'nor for a WebSocket upgrade');
    });

    t.test('sign out everywhere ends every session of the user and only theirs', async (t) => {
      const { b, cred } = await signUp(t, h);
      const other = await signInWith(h, cred);
      const sidA = b.jar.values.get('sid')!;
      const sidB = other.b.jar.values.get('sid')!;
      const stranger = await h.user();
      const [wsA, wsB, wsS] = await Promise.all([TestClient.open(t, h.wsUrl, sidA), TestClient.open(t, h.wsUrl, sidB), TestClient.open(t, h.wsUrl, stranger.sessionId)]);
      const r = await b.req('/api/signout/everywhere', {});
      t.match(r, { status: 200, body: { ended: 2 } }, 'both sessions ended');
      t.equal((await wsA.closed).code, 4001, 'this browser\'s socket closes');
      t.equal((await wsB.closed).code, 4001, 'the other browser\'s socket closes');
      t.equal((await call(h.httpUrl, '/api/me', { cookie: `sid=${sidB}` })).status, 401, 'the other session is dead');
      t.equal((await call(h.httpUrl, '/api/me', { cookie: `sid=${stranger.sessionId}` })).status, 200, "another user's session lives");
      t.equal(wsS.ws.readyState, wsS.ws.OPEN, "another user's socket stays open");
    });

    t.test('cross-site POSTs are refused before anything happens', async (t) => {
      const { b } = await signUp(t, h);
      const cookie = b.jar.header();
      for (const [path, body] of [
        ['/api/passkeys/signup/options', { handle: handle(), displayName: 'X' }],
        ['/api/passkeys/signin/options', {}],
        ['/api/passkeys/options', {}],
        ['/api/signout', {}],
        ['/api/signout/everywhere', {}],
      ] as const) {
        for (const o of ['https://evil.example', undefined, 'null']) {
          const r = await call(h.httpUrl, path, { body, cookie, origin: o });
          t.match(r, { status: 403, body: { error: { code: 'forbidden_origin' } } }, `POST ${path} with Origin ${o ?? '(none)'} is 403`);
        }
      }
      const patch = await call(h.httpUrl, '/api/me', { method: 'PATCH', body: { displayName: 'pwned' }, cookie, origin: 'https://evil.example' });
      t.equal(patch.status, 403, 'a cross-site PATCH is refused');
      t.equal((await b.req('/api/me')).status, 200, 'the session survived every cross-site attempt');
    });

    t.test('the directory and the profile', async (t) => {
      const alice = await signUp(t, h);
      const bob = await signUp(t, h);
      const found = await alice.b.req(`/api/users?handle=${bob.user.handle.toUpperCase()}`);
      t.match(found, { status: 200, body: { user: { id: bob.user.id, handle: bob.user.handle } } }, 'a user is found by handle, any case');
      t.match(await alice.b.req('/api/users?handle=nobody_here'), { status: 404, body: { error: { code: 'user_not_found' } } }, 'an unknown handle is 404');
      t.match(await alice.b.req(`/api/users/${bob.user.id}`), { status: 200, body: { user: { id: bob.user.id } } }, 'a user is read by id');
      t.equal((await call(h.httpUrl, `/api/users/${bob.user.id}`)).status, 401, 'the directory needs a session');
      const patched = await alice.b.req('/api/me', { displayName: '  Alice A.  ', avatarUrl: 'https://example.com/a.png' }, 'PATCH');
      t.match(patched.body.user, { displayName: 'Alice A.', avatarUrl: 'https://example.com/a.png' }, 'the profile is updated');
      const bad = await alice.b.req('/api/me', { avatarUrl: 'javascript:alert(1)' }, 'PATCH');
      t.match(bad, { status: 400, body: { error: { code: 'invalid_request' } } }, 'a non-https avatar is refused');
      t.match((await bob.b.req(`/api/users/${alice.user.id}`)).body.user, { displayName: 'Alice A.', avatarUrl: 'https://example.com/a.png' }, 'others see the new profile');
    });
  });
}
