/**
 * POST /api/push/subscriptions refuses (400 invalid_push_endpoint) an endpoint whose host is, or
 * resolves to, anything but public addresses, without telling the client where a name resolves.
 * A router on the embedded default with an injected resolver: no DNS, no network.
 */
import { createECDH, randomBytes } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../../kit/logger.ts';
import { startRouter } from '../src/node.ts';
import { openStores } from '../src/stores.ts';
import { call } from '../../test/support/http.client.ts';
import { REPORTED_BYPASSES, tableResolver } from '../../test/support/push.resolver.ts';
import { TEST_ORIGIN, testNodeEnv } from '../../test/support/router.harness.ts';
import { uniqueName } from '../../test/support/services.ts';

const resolveHost = tableResolver({
  'push.example.com': ['142.250.74.10', '2a00:1450:4001:82b::200a'],
  'private.example.com': ['10.0.0.7'],
  'mixed.example.com': ['142.250.74.10', '192.168.1.1'],
  'meta.example.com': ['::ffff:169.254.169.254'],
});

t.test('saving a push subscription', async (t) => {
  const config = loadConfig(testNodeEnv());
  const log = createLogger(config.logLevel);
  const stores = await openStores(config, log);
  const node = await startRouter(config, stores, log, { notifications: { resolveHost } });
  t.teardown(async () => {
    await node.close();
    await stores.close();
  });
  const base = `http://127.0.0.1:${node.port}`;
  const user = await stores.relational.createUser(uniqueName('sub'), 'Sub');
  const session = (await stores.sessions.create(user.id, 3600_000)).id;
  const keys = { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') };
  const subscribe = (endpoint: string) => call(base, '/api/push/subscriptions', { body: { endpoint, keys }, cookie: `sid=${session}`, origin: TEST_ORIGIN });

  t.test('refuses every internal host, however it is spelled or wherever its name resolves', async (t) => {
    for (const endpoint of [
      ...REPORTED_BYPASSES,
      'https://0x7f.1/x',
      'https://[::ffff:10.0.0.1]/x',
      'https://private.example.com/x',
      'https://mixed.example.com/x',
      'https://meta.example.com/x',
      'https://nowhere.example.com/x',
    ]) {
      const r = await subscribe(endpoint);
      t.match(r, { status: 400, body: { error: { code: 'invalid_push_endpoint' } } }, `${endpoint} is refused with invalid_push_endpoint`);
      t.notMatch(JSON.stringify(r.body), /10\.0\.0\.7|192\.168|169\.254|resolve/, `and the answer for ${endpoint} does not say where its name resolves`);
    }
    t.same((await stores.notify.subscriptionsOf(user.id)).length, 0, 'none of them was saved');
  });

  t.test('accepts a name whose every address is public', async (t) => {
    const r = await subscribe('https://Push.Example.com./fcm/send/abc');
    t.equal(r.status, 201, 'the subscription is saved');
  });
});
