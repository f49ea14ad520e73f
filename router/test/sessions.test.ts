/**
 * The user's sessions through the HTTP API (docs/http-api.md, "Sessions"), on the embedded default
 * and the full stack: the list (device from the User-Agent, way in, times, this one marked, never a
 * secret id), signing out the others and one other (their sockets close with 4001, on another node
 * too), ending the current one, refusals, and activity kept coarse (at most one store write a
 * minute, whatever the requests and frames).
 */
import t, { type Test } from 'tap';
import { ManualScheduler } from '../../test/support/clock.ts';
import { call, Jar, type Answer } from '../../test/support/http.client.ts';
import { uniqueName } from '../../test/support/services.ts';
import { modes, startNode, TEST_ORIGIN, TestClient, type Harness } from '../../test/support/router.harness.ts';
import { SoftCredential } from '../../test/support/webauthn.authenticator.ts';
import type { SessionJson } from '../../protocol/http.ts';

const PIXEL = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
const WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const MINUTE = 60_000;

let n = 0;

/** A browser with its own cookies and User-Agent, speaking to `h` (or another node of the same stack). */
function browser(h: Harness, userAgent: string) {
  const jar = new Jar();
  let base = h.httpUrl;
  return {
    jar,
    /** Talks to another node from now on (same stores, same cookie). */
    use(other: Harness) {
      base = other.httpUrl;
    },
    get sid(): string {
      return jar.values.get('sid')!;
    },
    async req(path: string, body?: unknown, method?: string): Promise<Answer> {
      return jar.update(await call(base, path, { body, method, origin: TEST_ORIGIN, cookie: jar.header(), headers: { 'user-agent': userAgent } }));
    },
  };
}
type Browser = ReturnType<typeof browser>;

async function signUp(t: Test, h: Harness, userAgent: string) {
  const b = browser(h, userAgent);
  const cred = new SoftCredential(TEST_ORIGIN);
  const handle = `ses_${process.pid}_${++n}`;
  const options = await b.req('/api/passkeys/signup/options', { handle, displayName: `Name ${handle}` });
  const verify = await b.req('/api/passkeys/signup/verify', cred.attest(options.body));
  t.equal(verify.status, 200, 'signed up');
  return { b, cred, user: verify.body.user as { id: number } };
}

async function signIn(t: Test, h: Harness, cred: SoftCredential, userAgent: string): Promise<Browser> {
  const b = browser(h, userAgent);
  const options = await b.req('/api/passkeys/signin/options', {});
  t.equal((await b.req('/api/passkeys/signin/verify', cred.assert(options.body))).status, 200, 'signed in on another device');
  return b;
}

const list = async (b: Browser): Promise<SessionJson[]> => (await b.req('/api/sessions')).body.sessions;

for (const mode of modes(t, 'sessions')) {
  t.test(`sessions on the ${mode.name}`, async (t) => {
    const env: Record<string, string> = { ...(await mode.env(t)), REDIS_KEY_PREFIX: `${uniqueName('ses')}:` };
    const clock = new ManualScheduler();
    const h = await startNode(t, env, undefined, { scheduler: clock });

    t.test('the list names each device and way in, marks this one, and never shows a secret id', async (t) => {
      const { b: phone, cred } = await signUp(t, h, PIXEL);
      clock.advance(MINUTE);
      const pc = await signIn(t, h, cred, WINDOWS);
      const seen = await list(phone);
      t.equal(seen.length, 2, 'two sessions');
      t.match(seen[0], { device: 'Chrome on Android', method: 'passkey', current: true }, 'this device first, named from its User-Agent');
      t.match(seen[1], { device: 'Firefox on Windows', method: 'passkey', current: false }, 'then the other');
      t.equal(Date.parse(seen[1]!.createdAt) - Date.parse(seen[0]!.createdAt), MINUTE, 'each with when it was created');
      t.equal(seen[1]!.lastActiveAt, seen[1]!.createdAt, 'and when it was last active');
      t.same(Object.keys(seen[0]!).sort(), ['createdAt', 'current', 'device', 'id', 'lastActiveAt', 'method'], 'nothing else is said');
      for (const s of seen) t.notOk([phone.sid, pc.sid].includes(s.id), 'an id is a public handle, not the session cookie');
      const fromPc = await list(pc);
      t.same(fromPc.map((s) => s.current), [true, false], 'the other device sees itself first');
      t.same(new Set(fromPc.map((s) => s.id)), new Set(seen.map((s) => s.id)), 'the same two sessions');
    });

    t.test('signing out the others keeps this one and closes the others\' sockets', async (t) => {
      const { b: phone, cred } = await signUp(t, h, PIXEL);
      const pc = await signIn(t, h, cred, WINDOWS);
      const tablet = await signIn(t, h, cred, IPHONE);
      const here = await TestClient.open(t, h.wsUrl, phone.sid);
      const there = await TestClient.open(t, h.wsUrl, pc.sid);
      const ended = await phone.req('/api/signout/others', {});
      t.match(ended, { status: 200, body: { ended: 2 } }, 'two sessions ended');
      t.equal((await there.closed).code, 4001, 'the other device\'s socket closes with 4001');
      here.send({ type: 'ping', ref: 'still' });
      t.match(await here.next('pong'), { ref: 'still' }, 'this device\'s socket stays open');
      t.equal((await pc.req('/api/me')).status, 401, 'the other device is signed out');
      t.equal((await tablet.req('/api/me')).status, 401, 'and so is the third');
      t.equal((await phone.req('/api/me')).status, 200, 'this one is still signed in');
      t.equal((await list(phone)).length, 1, 'one session is left');
      t.match(await phone.req('/api/signout/others', {}), { status: 200, body: { ended: 0 } }, 'a second time ends nothing');
    });

    t.test('one other session can be signed out by its id', async (t) => {
      const { b: phone, cred } = await signUp(t, h, PIXEL);
      const pc = await signIn(t, h, cred, WINDOWS);
      const tablet = await signIn(t, h, cred, IPHONE);
      const there = await TestClient.open(t, h.wsUrl, pc.sid);
      const target = (await list(phone)).find((s) => s.device === 'Firefox on Windows')!;
      t.equal((await phone.req(`/api/sessions/${target.id}`, undefined, 'DELETE')).status, 204, 'ended');
      t.equal((await there.closed).code, 4001, 'its socket closes with 4001');
      t.equal((await pc.req('/api/me')).status, 401, 'that device is signed out');
      t.equal((await tablet.req('/api/me')).status, 200, 'the third device is not');
      t.same((await list(phone)).map((s) => s.device), ['Chrome on Android', 'Safari on iOS'], 'the list has the two left');
      t.match(await phone.req(`/api/sessions/${target.id}`, undefined, 'DELETE'), { status: 404, body: { error: { code: 'session_not_found' } } }, 'ending it again is session_not_found');
    });

    t.test('nobody ends someone else\'s session, and a malformed id is refused', async (t) => {
      const { b: mine } = await signUp(t, h, PIXEL);
      const { b: theirs } = await signUp(t, h, WINDOWS);
      const [victim] = await list(theirs);
      t.match(await mine.req(`/api/sessions/${victim!.id}`, undefined, 'DELETE'), { status: 404, body: { error: { code: 'session_not_found' } } }, 'another user\'s session is not found');
      t.equal((await theirs.req('/api/me')).status, 200, 'and lives on');
      for (const bad of ['short', 'x'.repeat(23), encodeURIComponent('a/b+c=d$e%f&g*h(i)j-k_')]) {
        const r = await mine.req(`/api/sessions/${bad}`, undefined, 'DELETE');
        t.match(r, { status: 400, body: { error: { code: 'invalid_request' } } }, `id ${bad.slice(0, 12)}… is invalid_request`);
      }
      t.match(await call(h.httpUrl, `/api/sessions/${victim!.id}`, { method: 'DELETE', cookie: `sid=${theirs.sid}`, origin: 'https://evil.example' }), { status: 403 }, 'from another origin: forbidden_origin');
      t.match(await call(h.httpUrl, '/api/sessions'), { status: 401, body: { error: { code: 'unauthenticated' } } }, 'signed out: unauthenticated');
    });

    t.test('ending the current session by its id signs this device out', async (t) => {
      const { b: phone } = await signUp(t, h, PIXEL);
      const [me] = await list(phone);
      const answer = await phone.req(`/api/sessions/${me!.id}`, undefined, 'DELETE');
      t.equal(answer.status, 204, 'ended');
      t.equal(answer.cookies.sid, '', 'the cookie is cleared');
      t.equal((await call(h.httpUrl, '/api/me', { cookie: `sid=${me!.id}` })).status, 401, 'the public id is no cookie');
      t.equal((await phone.req('/api/me')).status, 401, 'the device is signed out');
    });

    t.test('activity is written at most once a minute, by requests and socket frames alike', async (t) => {
      const { b: phone } = await signUp(t, h, PIXEL);
      const sessions = h.stores.sessions;
      const touch = sessions.touch.bind(sessions);
      let touches = 0;
      sessions.touch = (id, ttl) => (touches++, touch(id, ttl));
      t.teardown(() => void (sessions.touch = touch));
      const socket = await TestClient.open(t, h.wsUrl, phone.sid);
      const start = clock.now();
      for (let i = 1; i <= 10; i++) {
        clock.advance(5_000);
        t.equal((await phone.req('/api/me')).status, 200, `request ${i} within the minute`);
        socket.send({ type: 'ping', ref: `p${i}` });
        await socket.next('pong', (f) => f.ref === `p${i}`);
      }
      t.equal(touches, 0, 'twenty uses within a minute write nothing');
      t.equal((await list(phone))[0]!.lastActiveAt, new Date(start).toISOString(), 'and the list still says when it was created');
      clock.advance(10_000);
      socket.send({ type: 'ping', ref: 'after' });
      await socket.next('pong', (f) => f.ref === 'after');
      t.equal(touches, 1, 'a frame a minute later writes once');
      t.equal((await list(phone))[0]!.lastActiveAt, new Date(clock.now()).toISOString(), 'the list shows the socket\'s use');
      clock.advance(MINUTE);
      await phone.req('/api/me');
      t.equal(touches, 2, 'a request a minute after that writes once more');
      t.equal((await list(phone))[0]!.lastActiveAt, new Date(clock.now()).toISOString(), 'the list shows the request');
      t.equal((await phone.req('/api/me')).body.session.expiresAt, clock.now() + h.node.config.sessionTtlMs, '/api/me says when the session ends as the store has it');
    });

    if (!env.REDIS_URL) return;
    t.test('signing out the others on one node closes their sockets on another', async (t) => {
      const other = await startNode(t, env, undefined, { scheduler: clock });
      const { b: phone, cred } = await signUp(t, h, PIXEL);
      const pc = await signIn(t, h, cred, WINDOWS);
      pc.use(other);
      t.equal((await list(pc)).length, 2, 'the other node lists the same sessions');
      const there = await TestClient.open(t, other.wsUrl, pc.sid);
      t.match(await phone.req('/api/signout/others', {}), { body: { ended: 1 } }, 'signed out on node one');
      t.equal((await there.closed).code, 4001, 'the socket on node two closes with 4001');
    });
  });
}
