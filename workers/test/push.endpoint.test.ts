/**
 * The push endpoint policy without any network: every form of a loopback, private, link-local,
 * metadata or otherwise internal host (literal, embedded, or behind a name) is refused, with an
 * injected resolver standing in for DNS. The send-time agent and the subscribe route have their
 * own tests (push.job.test.ts, router/test/push.subscribe.test.ts).
 */
import { request } from 'node:https';
import t from 'tap';
import { addressProblem } from '../tasks/push.address.ts';
import { checkedLookup, pushAgent } from '../src/push.agent.ts';
import { checkedAddresses, pushEndpointProblem, PushEndpointRefused, type ResolveHost } from '../tasks/push.endpoint.ts';
import { REPORTED_BYPASSES, tableResolver } from '../../test/support/push.resolver.ts';

/** A resolver that says every name is public: what is refused with it is refused by the host alone. */
const everythingPublic: ResolveHost = async () => [{ address: '8.8.8.8', family: 4 }];

const strict = (resolve: ResolveHost = everythingPublic) => ({ allowPrivate: false, resolve });

t.test('the string check bypasses from the report are refused', async (t) => {
  for (const url of REPORTED_BYPASSES) {
    t.ok(await pushEndpointProblem(url, strict()), `${url} is refused, even when its name would resolve to a public address`);
  }
});

t.test('every other spelling of an internal host is refused', async (t) => {
  t.test('IPv4 in every form the URL parser accepts', async (t) => {
    for (const host of ['127.0.0.1', '127.1', '0x7f.1', '0x7f000001', '2130706433', '0177.0.0.1', '017700000001', '127.0.0.1.', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '0xa9.0xfe.0xa9.0xfe', '100.64.0.1', '100.100.100.200', '0.0.0.0', '0', '255.255.255.255', '224.0.0.1', '240.0.0.1', '198.18.0.1', '192.0.2.1', '198.51.100.1', '203.0.113.1', '192.0.0.192']) {
      t.ok(await pushEndpointProblem(`https://${host}/x`, strict()), `https://${host}/ is refused`);
    }
  });

  t.test('IPv6, including every form that embeds an IPv4 address', async (t) => {
    for (const host of [
      '::1',
      '::',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '::127.0.0.1',
      '::a00:1',
      '::ffff:0:7f00:1',
      '64:ff9b::127.0.0.1',
      '64:ff9b::a00:1',
      '64:ff9b:1::a00:1',
      '2002:7f00:1::1',
      '2002:a9fe:a9fe::',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '2001:db8::1',
      '3fff::1',
      'fc00::1',
      'fd00::1',
      'fd00:ec2::254',
      'fe80::1',
      'fec0::1',
      'ff02::1',
      '100::1',
    ]) {
      t.ok(await pushEndpointProblem(`https://[${host}]/x`, strict()), `https://[${host}]/ is refused`);
    }
  });

  t.test('names: case, trailing dots, encodings and special-use suffixes', async (t) => {
    for (const host of ['LOCALHOST', 'LocalHost.', '%6c%6f%63%61%6c%68%6f%73%74', 'ｌｏｃａｌｈｏｓｔ', 'a.b.localhost', 'intranet', 'metadata', 'metadata.goog', 'instance-data.ec2.internal', 'db.internal', 'nas.home.arpa', 'router.lan', 'push.test', 'push.invalid', 'x.example', 'x.onion']) {
      t.ok(await pushEndpointProblem(`https://${host}/x`, strict()), `https://${host}/ is refused`);
    }
  });

  t.test('and the shape: https only, no credentials, not too long', async (t) => {
    t.match(await pushEndpointProblem('http://push.example.com/x', strict()), /https/, 'http is refused');
    t.match(await pushEndpointProblem('https://u:p@push.example.com/x', strict()), /credentials/, 'credentials are refused');
    t.match(await pushEndpointProblem(`https://push.example.com/${'x'.repeat(2048)}`, strict()), /too long/, 'an overlong endpoint is refused');
    t.match(await pushEndpointProblem('not a url', strict()), /not a URL/, 'a non-URL is refused');
  });
});

t.test('a name is judged by every address it resolves to', async (t) => {
  const dns = tableResolver({
    'push.example.com': ['142.250.74.10', '2a00:1450:4001:82b::200a'],
    'private.example.com': ['10.0.0.7'],
    'loopback6.example.com': ['::1'],
    'mapped.example.com': ['::ffff:127.0.0.1'],
    'nat64.example.com': ['64:ff9b::a9fe:a9fe'],
    'metadata6.example.com': ['fd00:ec2::254'],
    'mixed.example.com': ['142.250.74.10', '192.168.1.1'],
    'empty.example.com': [],
  });
  t.equal(await pushEndpointProblem('https://push.example.com/fcm/send/abc', strict(dns)), null, 'a name with only public addresses is accepted');
  t.equal(await pushEndpointProblem('https://Push.Example.COM./x', strict(dns)), null, 'its host is normalised (case, trailing dot) before resolving');
  t.same(dns.asked.slice(-1), ['push.example.com'], 'and the resolver is asked for the normalised name');
  for (const [name, why] of [
    ['private.example.com', /10\.0\.0\.7.*private/],
    ['loopback6.example.com', /::1.*loopback/],
    ['mapped.example.com', /IPv4-mapped.*127\.0\.0\.1.*loopback/],
    ['nat64.example.com', /NAT64.*169\.254\.169\.254.*metadata/],
    ['metadata6.example.com', /metadata/],
    ['mixed.example.com', /192\.168\.1\.1.*private/],
    ['empty.example.com', /does not resolve/],
    ['nowhere.example.com', /does not resolve/],
  ] as const) {
    t.match(await pushEndpointProblem(`https://${name}/x`, strict(dns)), why, `${name} is refused: ${why}`);
  }

  t.test('a resolver failure other than "no such name" is refused at subscribe, and passed on at send', async (t) => {
    const flaky: ResolveHost = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
    };
    t.match(await pushEndpointProblem('https://push.example.com/x', strict(flaky)), /could not be resolved/, 'the subscription is refused');
    await t.rejects(checkedAddresses('push.example.com', strict(flaky)), { code: 'EAI_AGAIN' }, 'the send sees a transient error, to retry');
    await t.rejects(checkedAddresses('nowhere.example.com', strict(dns)), { code: 'push_endpoint_refused', message: /does not resolve/ }, 'while a name that does not exist is refused');
  });
});

t.test('allowing private endpoints (tests, private deployments) still refuses cloud metadata', async (t) => {
  const dns = tableResolver({ localhost: ['127.0.0.1', '::1'], 'meta.example.com': ['169.254.169.254'] });
  const lax = { allowPrivate: true, resolve: dns };
  t.equal(await pushEndpointProblem('https://localhost:8443/x', lax), null, 'localhost is accepted');
  t.equal(await pushEndpointProblem('https://127.0.0.1:8443/x', lax), null, 'a loopback literal is accepted');
  t.equal(await pushEndpointProblem('https://[fd12::1]/x', lax), null, 'a unique local address is accepted');
  for (const url of ['https://169.254.169.254/x', 'https://[fd00:ec2::254]/x', 'https://[::ffff:a9fe:a9fe]/x', 'https://metadata.google.internal/x', 'https://meta.example.com/x', 'https://0.0.0.0/x']) {
    t.ok(await pushEndpointProblem(url, lax), `${url} is still refused`);
  }
});

t.test('addresses that are public stay accepted', async (t) => {
  for (const address of ['8.8.8.8', '142.250.74.10', '2a00:1450:4001:82b::200a', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '2606:4700::1111']) {
    t.equal(addressProblem(address, false), null, `${address} is public`);
  }
});

t.test("the send-time lookup returns only checked addresses, in the socket's requested shape", async (t) => {
  const dns = tableResolver({ 'push.example.com': ['142.250.74.10', '2a00:1450:4001:82b::200a'], 'mixed.example.com': ['142.250.74.10', '10.0.0.1'] });
  const lookup = checkedLookup(strict(dns));
  const ask = (name: string, options: { family?: number; all?: boolean }) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number | undefined }>((resolve) => lookup(name, options, (err, address, family) => resolve({ err, address, family })));

  t.same((await ask('push.example.com', { all: true })).address, [{ address: '142.250.74.10', family: 4 }, { address: '2a00:1450:4001:82b::200a', family: 6 }], 'all: every checked address');
  t.match(await ask('push.example.com', { family: 6 }), { err: null, address: '2a00:1450:4001:82b::200a', family: 6 }, 'family 6: the IPv6 one');
  t.match(await ask('push.example.com.', {}), { err: null, address: '142.250.74.10', family: 4 }, 'no family: the first, for the name with a trailing dot too');
  const mixed = await ask('mixed.example.com', { all: true });
  t.type(mixed.err, PushEndpointRefused, 'a name with one private address is refused, public one or not');
  t.match(mixed.err?.message, /10\.0\.0\.1/, 'naming the address');
  t.same(dns.asked, ['push.example.com', 'push.example.com', 'push.example.com', 'mixed.example.com'], 'one resolution per connection, nothing more');
});

t.test('the agent refuses an IP-literal host itself, whichever parser produced it (sockets do no lookup for one)', async (t) => {
  const agent = pushAgent(strict());
  t.teardown(() => agent.destroy());
  for (const host of ['127.0.0.1', '::ffff:a9fe:a9fe', '10.0.0.1']) {
    const err = await new Promise<Error>((resolve) => {
      const req = request({ host, port: 9, path: '/', agent }, () => resolve(new Error('answered')));
      req.on('error', resolve);
      req.end();
    });
    t.type(err, PushEndpointRefused, `a request to ${host} fails with the refusal, before any connection`);
  }
});
