import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode } from '../../test/support/router.harness.ts';
import { spawnRouter } from '../../test/support/router.process.ts';
import { waitFor } from '../../test/support/wait.ts';

t.test('the embedded default keeps users and history across a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'messenger-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));

  let room = '';
  await t.test('first run', async (t) => {
    const h = await startNode(t, { DATA_DIR: dataDir });
    const alice = await h.user('alice');
    const bob = await h.user('bob');
    const a = await alice.connect();
    for (const body of ['one', 'two', 'three']) {
      const ack = await a.sendMessage({ to: bob.id }, body);
      if (ack.type === 'message.sent') room = ack.room;
    }
    t.equal(room, `${alice.id}-${bob.id}`, 'three messages acknowledged');
  });

  await t.test('second run on the same directory', async (t) => {
    const h = await startNode(t, { DATA_DIR: dataDir });
    const bob = await h.stores.relational.findUserByHandle('bob');
    t.ok(bob, 'bob is still a user');
    const session = await h.stores.sessions.create(bob!.id, 60_000);
    const { TestClient } = await import('../../test/support/router.harness.ts');
    const b = await TestClient.open(t, h.wsUrl, session.id);
    b.send({ type: 'sync', ref: 's', rooms: [] });
    await b.next('sync.done');
    const bodies = b.all('history.page').flatMap((p) => p.messages.map((m) => m.body));
    t.same(bodies, ['one', 'two', 'three'], 'the history survived, in order');
  });
});

t.test('npm start serves on the embedded default with no services', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'messenger-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const router = await spawnRouter(t, { DATA_DIR: dataDir });
  t.match(router.logs.join('\n'), /"relational":"pglite/, 'it chose PGlite');
  const health = await fetch(`http://127.0.0.1:${router.port}/healthz`);
  t.equal(health.status, 200, '/healthz answers 200');
  const ready = await fetch(`http://127.0.0.1:${router.port}/readyz`);
  t.equal(ready.status, 200, '/readyz answers 200: every embedded store is up');
  t.equal((await fetch(`http://127.0.0.1:${router.port}/metrics`)).status, 404, '/metrics is not on the public port (and metrics are off by default)');
  t.equal(await router.stop('SIGTERM'), 0, 'SIGTERM stops it cleanly');
});

t.test('a bad configuration stops the process listing every bad key', async (t) => {
  const { loadConfig } = await import('../src/config.ts');
  t.throws(
    () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', HEARTBEAT_MS: '1' }),
    { name: 'ConfigError', message: /PORT[\s\S]*DATABASE_URL[\s\S]*HEARTBEAT_MS/ },
    'refused, naming every bad key',
  );
  const config = loadConfig({});
  t.equal(config.port, 3000, 'PORT defaults to 3000');
  t.equal(config.dataDir, './data', 'DATA_DIR defaults to ./data');
  t.equal(config.publicOrigin, 'http://localhost:3000', 'PUBLIC_ORIGIN defaults to http://localhost:PORT');
  t.ok(Object.isFrozen(config), 'the config is frozen');
  t.match(loadConfig({}, { terminal: false }), { logFormat: 'json', logLevel: 'info' }, 'logs are JSON at info when stdout is not a terminal (a collector, a file, a container)');
  t.match(loadConfig({}, { terminal: true }), { logFormat: 'text', logLevel: 'warn' }, 'plain lines at warn when a person reads them at a terminal');
  t.match(loadConfig({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' }, { terminal: true }), { logFormat: 'json', logLevel: 'debug' }, 'LOG_FORMAT and LOG_LEVEL override both');
  t.throws(() => loadConfig({ LOG_FORMAT: 'xml' }), { name: 'ConfigError', message: /LOG_FORMAT/ }, 'an unknown format is refused');
});

t.test('the metrics listener reports traffic in the Prometheus format', async (t) => {
  const token = 'metrics-token-0123456789';
  const h = await startNode(t, { METRICS_PORT: '0', METRICS_TOKEN: token });
  const alice = await h.user('alice');
  const bob = await h.user('bob');
  const a = await alice.connect();
  const b = await bob.connect();
  await a.sendMessage({ to: bob.id }, 'counted');
  await b.next('message.new');
  a.send('not json');
  await a.next('error');
  t.equal((await fetch(`${h.httpUrl}/metrics`)).status, 404, 'the public port has no /metrics');
  const metricsUrl = `http://127.0.0.1:${h.node.metricsPort}/metrics`;
  t.equal((await fetch(metricsUrl)).status, 401, 'the metrics port wants the token');
  const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}` } });
  t.equal(res.status, 200, '/metrics answers on the metrics port with the token');
  t.match(res.headers.get('content-type'), /text\/plain/, 'in the Prometheus text format');
  const text = await res.text();
  t.match(text, /^messenger_connections 2$/m, 'two open connections');
  t.match(text, /^messenger_messages_stored_total 1$/m, 'one stored message');
  t.match(text, /^messenger_fanout_frames_total\{kind="message"\} 1$/m, 'one message frame fanned out');
  t.match(text, /^messenger_delivery_latency_seconds_count 1$/m, 'one delivery latency observed');
  t.match(text, /^messenger_history_batch_messages_count [1-9]/m, 'group commits observed');
  t.match(text, /^messenger_error_frames_total\{code="invalid_frame"\} 1$/m, 'the refused frame is counted by code');
  t.match(text, /^messenger_chatroom_actors 1$/m, 'one chatroom actor');
  t.match(text, /messenger_nodejs_eventloop_lag_seconds/, 'event-loop delay is reported');
});

t.test('every HTTP request is logged once, with an id and without its query string', async (t) => {
  const lines: string[] = [];
  const { Writable } = await import('node:stream');
  const pino = (await import('pino')).default;
  const { loadConfig } = await import('../src/config.ts');
  const { openStores } = await import('../src/stores.ts');
  const { startRouter } = await import('../src/node.ts');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://', LOG_LEVEL: 'info' });
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const stores = await openStores(config, log);
  const node = await startRouter(config, stores, log);
  t.teardown(async () => {
    await node.close();
    await stores.close();
  });
  const res = await fetch(`http://127.0.0.1:${node.port}/api/auth/providers?code=secret-code&state=s`, { headers: { 'x-request-id': 'abc-123' } });
  t.equal(res.headers.get('x-request-id'), 'abc-123', 'a sane request id is kept and echoed');
  await res.text();
  const logged = () => lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.req === 'abc-123');
  await waitFor(() => logged() !== undefined);
  const entry = logged();
  t.match(entry, { method: 'GET', path: '/api/auth/providers', status: 200 }, 'the request is logged with its id, path and status');
  t.notMatch(lines.join('\n'), /secret-code/, 'the query string is not logged');
});
