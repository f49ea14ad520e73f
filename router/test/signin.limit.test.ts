/**
 * Sign-up and sign-in attempts are limited per client address (429 `too_many_attempts` with
 * Retry-After), X-Forwarded-For counts only from a trusted proxy, and on the full stack the nodes
 * share one budget through Redis. The limiter's clock is the test's, so a window never ends
 * mid-test however slow the machine.
 */
import { request } from 'node:http';
import t, { type Test } from 'tap';
import { MemoryRateLimitStore } from '../../db/ratelimit.memory.ts';
import type { RateLimitStore } from '../../db/ratelimit.port.ts';
import { RedisRateLimitStore } from '../../db/ratelimit.redis.ts';
import { freshRedisPrefix } from '../../test/support/redis.keys.ts';
import { need, uniqueName } from '../../test/support/services.ts';
import { TEST_ORIGIN, testNodeEnv } from '../../test/support/router.harness.ts';
import { addressKey, ClientAddresses } from '../src/http/client.address.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../../kit/logger.ts';
import { startRouter } from '../src/node.ts';
import { openStores } from '../src/stores.ts';

/** 15 s into a one-minute window (and into an hour). */
const START = Date.UTC(2030, 0, 1, 12, 0, 15);
const LIMITS = { SIGNUP_RATE_LIMIT: '3', SIGNUP_RATE_WINDOW_MS: '60000', SIGNIN_RATE_LIMIT: '4', SIGNIN_RATE_WINDOW_MS: '60000' };

interface Answer {
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
}

/** One request from source address `from` (any 127.x address reaches a node on 127.0.0.1). */
function attempt(port: number, path: string, o: { from?: string; xff?: string } = {}): Promise<Answer> {
  const post = path.startsWith('/api/passkeys');
  const body = path.includes('signup') ? JSON.stringify({ handle: uniqueName('lim').toLowerCase(), displayName: 'Limit' }) : post ? '{}' : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: post ? 'POST' : 'GET',
        localAddress: o.from ?? '127.0.0.1',
        agent: false,
        headers: { origin: TEST_ORIGIN, ...(body ? { 'content-type': 'application/json' } : {}), ...(o.xff ? { 'x-forwarded-for': o.xff } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = JSON.parse(text)?.error?.code;
          } catch {}
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A node whose sign-in limiter counts in `rateLimits` (the test's clock). */
async function nodeWith(t: Test, rateLimits: RateLimitStore, env: Record<string, string> = {}): Promise<number> {
  const config = loadConfig(testNodeEnv({ ...LIMITS, ...env }));
  const log = createLogger(config.logLevel);
  const stores = await openStores(config, log);
  await stores.rateLimits.close();
  stores.rateLimits = rateLimits;
  const node = await startRouter(config, stores, log);
  t.teardown(async () => {
    await node.close();
    await stores.close();
    await rateLimits.close();
  });
  return node.port;
}

t.test('the client address', async (t) => {
  const req = (remoteAddress: string | undefined, xff?: string | string[]) => ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;

  t.test('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', async (t) => {
    const nobody = new ClientAddresses([]);
    t.equal(nobody.of(req('203.0.113.7', '198.51.100.1')), '203.0.113.7', 'the forged header is ignored');
    t.equal(nobody.of(req('::ffff:203.0.113.7')), '203.0.113.7', 'an IPv4-mapped peer is its IPv4 address');
    t.equal(nobody.of(req(undefined)), 'unknown', 'a socket already gone has no address');
  });

  t.test('is the right-most address no trusted proxy vouches for, behind a trusted proxy', async (t) => {
    const proxies = new ClientAddresses(['10.0.0.0/8', '2001:db8:ffff::1']);
    t.equal(proxies.of(req('10.1.2.3', '198.51.100.1')), '198.51.100.1', 'the proxy names the client');
    t.equal(proxies.of(req('10.1.2.3', 'forged, 198.51.100.1, 10.9.9.9')), '198.51.100.1', 'trusted hops are skipped, entries left of the client are not believed');
    t.equal(proxies.of(req('10.1.2.3', ['192.0.2.1', '198.51.100.1'])), '198.51.100.1', 'repeated headers are read as one list');
    t.equal(proxies.of(req('10.1.2.3', '[2001:db8::5]:443, 198.51.100.1:8080')), '198.51.100.1', 'a port on an entry is dropped');
    t.equal(proxies.of(req('2001:db8:ffff::1', '2001:db8::5')), '2001:db8::5', 'an IPv6 proxy is trusted by address');
    t.equal(proxies.of(req('10.1.2.3', '10.0.0.2')), '10.0.0.2', 'all hops trusted: the left-most');
    t.equal(proxies.of(req('10.1.2.3', '198.51.100.1, garbage')), '10.1.2.3', 'garbage from a proxy: the proxy that passed it');
    t.equal(proxies.of(req('10.1.2.3')), '10.1.2.3', 'no header: the proxy itself');
    t.equal(proxies.of(req('203.0.113.7', '198.51.100.1')), '203.0.113.7', 'the header of an untrusted peer is ignored');
  });

  t.test('counts an IPv6 client by its /64', async (t) => {
    t.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::', 'the interface half is dropped');
    t.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::', 'so every address of the /64 shares one key');
    t.equal(addressKey('::ffff:1.2.3.4'), '0:0:0:0::', 'an embedded IPv4 tail is expanded');
    t.equal(addressKey('198.51.100.1'), '198.51.100.1', 'IPv4 is kept whole');
  });

  t.test('refuses a TRUST_PROXY entry that is not an address or range', async (t) => {
    t.throws(() => loadConfig({ TRUST_PROXY: '10.0.0.0/8, proxy.local, 1.2.3.4/33' }), { message: /proxy\.local[\s\S]*1\.2\.3\.4\/33/ }, 'both bad entries are named');
    t.same(loadConfig({}).edge.trustProxy, [], 'nobody is trusted by default');
  });
});

t.test('sign-up and sign-in attempts are limited per address', async (t) => {
  const clock = { now: START };
  // 127.0.0.5 plays a reverse proxy in front of this node; every other peer is a client.
  const port = await nodeWith(t, new MemoryRateLimitStore({ clock: { now: () => clock.now } }), { TRUST_PROXY: '127.0.0.5' });

  t.test('attempts within the limit pass; the next is 429 too_many_attempts with Retry-After', async (t) => {
    for (let i = 1; i <= 3; i++) t.equal((await attempt(port, '/api/passkeys/signup/options')).status, 200, `sign-up ${i} of 3 gets options`);
    const refused = await attempt(port, '/api/passkeys/signup/options');
    t.match(refused, { status: 429, code: 'too_many_attempts', retryAfter: '45' }, 'the fourth is refused until the window ends, 45 s later');
  });

  t.test('a forged X-Forwarded-For from an untrusted peer does not get a fresh budget', async (t) => {
    t.match(await attempt(port, '/api/passkeys/signup/options', { xff: '203.0.113.50' }), { status: 429, code: 'too_many_attempts' }, 'still refused');
  });

  t.test('another address has its own budget', async (t) => {
    t.equal((await attempt(port, '/api/passkeys/signup/options', { from: '127.0.0.2' })).status, 200, '127.0.0.2 may sign up');
  });

  t.test('passkey sign-ins and OAuth starts share the sign-in budget, apart from sign-ups', async (t) => {
    const from = '127.0.0.3';
    t.equal((await attempt(port, '/api/passkeys/signin/options', { from })).status, 200, 'a passkey sign-in');
    t.equal((await attempt(port, '/api/passkeys/signin/options', { from })).status, 200, 'another one');
    t.equal((await attempt(port, '/api/auth/github/start', { from })).code, 'provider_not_configured', 'an OAuth start counts before anything else');
    t.equal((await attempt(port, '/api/auth/github/start', { from })).code, 'provider_not_configured', 'a second one');
    t.match(await attempt(port, '/api/auth/oidc/start', { from }), { status: 429, code: 'too_many_attempts' }, 'the fifth start of either kind is refused');
    t.match(await attempt(port, '/api/passkeys/signin/options', { from }), { status: 429, code: 'too_many_attempts' }, 'passkey sign-in too');
    t.equal((await attempt(port, '/api/passkeys/signup/options', { from })).status, 200, 'sign-up has its own budget');
  });

  t.test('behind a trusted proxy the forwarded client is counted', async (t) => {
    const proxy = '127.0.0.5';
    for (let i = 1; i <= 3; i++) t.equal((await attempt(port, '/api/passkeys/signup/options', { from: proxy, xff: `forged-${i}, 198.51.100.1` })).status, 200, `forwarded sign-up ${i} of 3 passes`);
    t.match(await attempt(port, '/api/passkeys/signup/options', { from: proxy, xff: '198.51.100.1' }), { status: 429 }, 'the forwarded client spent its budget');
    t.match(await attempt(port, '/api/passkeys/signup/options', { from: proxy, xff: '198.51.100.77, 198.51.100.1' }), { status: 429 }, 'a forged entry left of it changes nothing');
    t.equal((await attempt(port, '/api/passkeys/signup/options', { from: proxy, xff: '198.51.100.2' })).status, 200, 'another client behind the proxy has its own budget');
  });

  t.test('the next window allows attempts again', async (t) => {
    clock.now += 45_000;
    t.equal((await attempt(port, '/api/passkeys/signup/options')).status, 200, 'the spent address signs up again');
  });
});

t.test('on Redis the router nodes share one budget', async (t) => {
  const url = need(t, 'REDIS_URL', 'the shared sign-in limit');
  if (!url) return;
  const { prefix } = freshRedisPrefix(t, url, 'signin');
  const store = () => RedisRateLimitStore.open(url, { prefix, clock: { now: () => START } });
  const [a, b] = [await nodeWith(t, store()), await nodeWith(t, store())];
  for (const [i, port] of [a, b, a].entries()) t.equal((await attempt(port, '/api/passkeys/signup/options')).status, 200, `sign-up ${i + 1} passes on node ${port === a ? 'A' : 'B'}`);
  t.match(await attempt(b, '/api/passkeys/signup/options'), { status: 429, code: 'too_many_attempts', retryAfter: '45' }, 'the fourth is refused on node B');
});
