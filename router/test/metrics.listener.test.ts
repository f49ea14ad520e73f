/**
 * The metrics listener: its own port, loopback by default, GET /metrics only, and a bearer token
 * when one is configured. The router's wiring (public port 404, metrics port 200) is in
 * embedded.test.ts.
 */
import { Counter, Registry } from 'prom-client';
import t from 'tap';
import { loadConfig } from '../src/config.ts';
import { startMetricsListener } from '../src/health/metrics.http.ts';

function registry(): Registry {
  const r = new Registry();
  new Counter({ name: 'test_things_total', help: 'things', registers: [r] }).inc(3);
  return r;
}

t.test('metrics are off unless METRICS_PORT is set, and loopback-only by default', async (t) => {
  t.equal(loadConfig({}).edge.metrics, undefined, 'no metrics listener by default');
  t.same(loadConfig({ METRICS_PORT: '9091' }).edge.metrics, { port: 9091, host: '127.0.0.1', token: undefined }, 'METRICS_PORT alone binds loopback');
  t.throws(() => loadConfig({ METRICS_TOKEN: 'a-long-enough-token' }), { message: /METRICS_TOKEN/ }, 'a token without a port is refused');
  t.throws(() => loadConfig({ METRICS_PORT: '9091', METRICS_TOKEN: 'short' }), { message: /METRICS_TOKEN/ }, 'a short token is refused');
});

t.test('without a token the listener serves /metrics and nothing else', async (t) => {
  const listener = await startMetricsListener(registry(), { port: 0, host: '127.0.0.1', token: undefined });
  t.teardown(() => listener.close());
  t.equal((listener.server.address() as { address: string }).address, '127.0.0.1', 'bound to the host it was given');
  const base = `http://127.0.0.1:${listener.port}`;
  const res = await fetch(`${base}/metrics`);
  t.equal(res.status, 200, 'GET /metrics answers');
  t.match(await res.text(), /^test_things_total 3$/m, 'with the registry in the Prometheus format');
  t.equal((await fetch(`${base}/`)).status, 404, 'any other path is 404');
  t.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405, 'any other method is 405');
});

t.test('with a token only a scrape that sends it gets the metrics', async (t) => {
  const token = 'sEcReT-metrics-token-42';
  const listener = await startMetricsListener(registry(), { port: 0, host: '127.0.0.1', token });
  t.teardown(() => listener.close());
  const url = `http://127.0.0.1:${listener.port}/metrics`;
  const scrape = (authorization?: string) => fetch(url, { headers: authorization ? { authorization } : {} });
  const none = await scrape();
  t.equal(none.status, 401, 'no token: 401');
  t.equal(none.headers.get('www-authenticate'), 'Bearer realm="metrics"', 'which says a bearer token is wanted');
  t.notMatch(await none.text(), /test_things_total/, 'and shows no metric');
  t.equal((await scrape('Bearer wrong-token-of-some-length')).status, 401, 'a wrong token: 401');
  t.equal((await scrape(`Bearer ${token}x`)).status, 401, 'the token with a character more: 401');
  t.equal((await scrape(`Basic ${token}`)).status, 401, 'another scheme: 401');
  const ok = await scrape(`Bearer ${token}`);
  t.equal(ok.status, 200, 'the right token: 200');
  t.match(await ok.text(), /^test_things_total 3$/m, 'with the metrics');
});
