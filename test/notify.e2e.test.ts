/**
 * End to end: user A writes to offline user B; B's push endpoint (a local self-signed HTTPS push
 * service) receives a decryptable notification naming A; once B is online no push is sent; an
 * offline B without push gets an e-mail digest at a local SMTP server, whose unsubscribe link
 * works. On the embedded default (handlers in-process), and on the full stack with a router and
 * a worker as separate processes on RabbitMQ.
 */
import { Redis } from 'ioredis';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import t, { type Test } from 'tap';
import { KnexNotifyStore } from '../db/notify.store.ts';
import { KnexRelationalStore } from '../db/relational.store.ts';
import { openRelational } from '../db/relational.ts';
import { RedisSessionStore } from '../db/session.redis.ts';
import { loadConfig } from '../router/src/config.ts';
import { createLogger } from '../kit/logger.ts';
import { startRouter } from '../router/src/node.ts';
import { openStores } from '../router/src/stores.ts';
import { ManualScheduler } from './support/clock.ts';
import { startPushEndpoint } from './support/push.endpoint.ts';
import { TEST_ORIGIN, TestClient, testNodeEnv } from './support/router.harness.ts';
import { spawnRouter } from './support/router.process.ts';
import { spawnWorker } from './support/worker.process.ts';
import { freshPgDatabase, need, uniqueName } from './support/services.ts';
import type { MemoryTaskQueue } from '../workers/tasks/queue.memory.ts';
import { generateVapidKeys } from '../workers/tasks/vapid.ts';
import { deleteQueues } from './support/amqp.queues.ts';
import { until } from './support/wait.ts';

/** A local SMTP server (smtp-server) that parses what it receives (mailparser). */
async function startSmtp(t: Test): Promise<{ url: string; mails: ParsedMail[] }> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      simpleParser(stream).then((m) => (mails.push(m), done()), done);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.server.address() as { port: number }).port;
  return { url: `smtp://127.0.0.1:${port}`, mails };
}

const api = (base: string, sessionId: string) => (method: string, path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { cookie: `sid=${sessionId}`, origin: TEST_ORIGIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

t.test('on the embedded default (handlers in-process)', async (t) => {
  const push = await startPushEndpoint(t);
  const smtp = await startSmtp(t);
  const config = loadConfig(
    testNodeEnv({ PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true', SMTP_URL: smtp.url, EMAIL_OFFLINE_MS: '0', DIGEST_SCAN_MS: '100' }),
  );
  const log = createLogger(config.logLevel);
  // Digest scans run when the test moves this clock, never while a message it expects is on its way.
  const clock = new ManualScheduler();
  const stores = await openStores(config, log, { scheduler: clock });
  const node = await startRouter(config, stores, log, { notifications: { pushCa: push.ca }, scheduler: clock });
  t.teardown(async () => {
    await node.close();
    await stores.close();
  });
  const { notifier, runtime } = node.notifications;
  const digests = runtime?.digests;
  if (!runtime || !digests) throw new Error('the embedded node runs no in-process worker with digests');
  /** Runs the digest scan its timer would run next; resolves with whom it enqueued a digest for. */
  const scan = () => {
    clock.advance(config.notify.digestScanMs);
    return digests.scanned();
  };
  /** How many tasks the in-process worker has finished, once every enqueue so far is finished. */
  const tasksDone = async () => {
    await notifier.drained();
    await until(() => (stores.tasks as MemoryTaskQueue).depth === 0 && runtime.runner.stats.inFlight === 0, 10_000, 'the in-process worker to finish its tasks');
    const { processed, retried, deadLettered, duplicates } = runtime.runner.stats;
    return processed + retried + deadLettered + duplicates;
  };
  const base = `http://127.0.0.1:${node.port}`;
  const ws = `ws://127.0.0.1:${node.port}/ws`;
  const a = await stores.relational.createUser(uniqueName('alice'), 'Alice');
  const b = await stores.relational.createUser(uniqueName('bob'), 'Bob');
  const aSession = (await stores.sessions.create(a.id, 3600_000)).id;
  const bSession = (await stores.sessions.create(b.id, 3600_000)).id;
  const bApi = api(base, bSession);

  const key = await bApi('GET', '/api/push/vapid-public-key');
  t.equal(key.status, 200, 'the VAPID public key is served');
  const { publicKey } = (await key.json()) as { publicKey: string };
  const sub = push.subscribe();
  t.equal((await bApi('POST', '/api/push/subscriptions', { endpoint: sub.endpoint, keys: sub.keys, expirationTime: null })).status, 201, 'B subscribes');
  const refused = await bApi('POST', '/api/push/subscriptions', { endpoint: 'http://push.example.com/x', keys: sub.keys });
  t.equal(refused.status, 400, 'a plain-http endpoint is refused');
  t.match(await refused.json(), { error: { code: 'invalid_push_endpoint' } }, 'with its code');

  const alice = await TestClient.open(t, ws, aSession);
  const sent = await alice.sendMessage({ to: b.id }, 'are you there, Bob?');
  t.equal(sent.type, 'message.sent', 'A’s message is stored');
  await until(() => push.received.length === 1, 10_000, 'the push notification');
  const got = push.received[0]!;
  t.match(got.payload, { type: 'message', preview: 'are you there, Bob?', sender: { id: a.id, displayName: 'Alice' }, seq: 1 }, 'B’s endpoint decrypted a notification naming A');
  t.equal(got.vapidKey, publicKey, 'signed with the key the app subscribed with');

  t.equal(await tasksDone(), 1, 'one task, the push, was handled');

  const bob = await TestClient.open(t, ws, bSession);
  await alice.sendMessage({ to: b.id }, 'now you are online');
  await bob.next('message.new', (f) => f.message.body === 'now you are online');
  t.equal(await tasksDone(), 1, 'no task was enqueued for a message to B while B is online');
  t.equal(push.received.length, 1, 'no push while B is online');

  // The digest: B has an address, no push subscription, goes offline with unread messages.
  t.equal((await bApi('PUT', '/api/notifications/email', { email: 'bob@example.com' })).status, 200, 'B sets a digest address');
  const del = await bApi('DELETE', '/api/push/subscriptions', { endpoint: sub.endpoint });
  t.equal(del.status, 204, `B removes the push subscription ${del.status === 204 ? '' : await del.text()}`);
  await bob.close();
  await until(async () => !(await stores.presence.isOnline(b.id)), 10_000, 'B to be offline');
  await alice.sendMessage({ to: b.id }, 'a message for the digest <b>bold</b>');
  t.same(await scan(), [b.id], 'the next scan enqueues a digest for B');
  await until(() => smtp.mails.length === 1, 10_000, 'the digest e-mail');
  const mail = smtp.mails[0]!;
  t.match(mail.subject, /unread message/, 'the subject counts unread messages');
  t.match(mail.text, /Alice: a message for the digest <b>bold<\/b>/, 'the plain-text part lists the message with its sender');
  t.match(String(mail.html), /a message for the digest &lt;b&gt;bold&lt;\/b&gt;/, 'the HTML part escapes it');
  const unsubscribe = /Stop these e-mails: (\S+)/.exec(mail.text ?? '')?.[1] ?? '';
  t.ok(JSON.stringify(mail.headers.get('list') ?? '').includes(new URL(unsubscribe).searchParams.get('token') ?? '-'), 'List-Unsubscribe carries the same link');
  t.same(await scan(), [], 'a second scan in the same period enqueues no digest');
  await alice.sendMessage({ to: b.id }, 'after the digest');
  t.same(await scan(), [], 'nor does a new message in that period');
  const u = await fetch(`${base}${new URL(unsubscribe).pathname}${new URL(unsubscribe).search}`);
  t.equal(u.status, 200, 'the unsubscribe link works');
  t.equal((await stores.notify.prefs(b.id)).emailDigest, false, 'and is honoured');
  t.same(await scan(), [], 'nor a scan after unsubscribing');
  await tasksDone();
  t.equal(smtp.mails.length, 1, 'once every task is handled, one digest in all');
});

t.test('on the full stack (router and worker processes, RabbitMQ)', async (t) => {
  const db = need(t, 'DATABASE_URL', 'full-stack notifications');
  const redis = need(t, 'REDIS_URL', 'full-stack notifications');
  const amqpUrl = need(t, 'AMQP_URL', 'full-stack notifications');
  if (!db || !redis || !amqpUrl) return;
  const push = await startPushEndpoint(t);
  const smtp = await startSmtp(t);
  const caFile = join(mkdtempSync(join(tmpdir(), 'push-ca-')), 'ca.pem');
  writeFileSync(caFile, push.ca);
  const vapid = generateVapidKeys();
  const taskQueue = uniqueName('tasks');
  t.teardown(() => deleteQueues(amqpUrl, taskQueue, [50, 100, 200]));
  const env = {
    DATABASE_URL: await freshPgDatabase(t, db),
    REDIS_URL: redis,
    AMQP_URL: amqpUrl,
    AMQP_EXCHANGE: uniqueName('live'),
    TASK_QUEUE: taskQueue,
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true',
    TASK_RETRY_BASE_MS: '50',
    PUBLIC_ORIGIN: TEST_ORIGIN,
  };
  // Users and sessions straight in the stores the processes share.
  const knex = await openRelational({ databaseUrl: env.DATABASE_URL });
  const sessions = RedisSessionStore.open(redis);
  t.teardown(async () => {
    await sessions.close();
    await knex.destroy();
  });
  const users = new KnexRelationalStore(knex);
  const notify = new KnexNotifyStore(knex);
  const a = await users.createUser(uniqueName('alice'), 'Alice');
  const b = await users.createUser(uniqueName('bob'), 'Bob');
  const aSession = (await sessions.create(a.id, 3600_000)).id;

  const router = await spawnRouter(t, env);
  const workerEnv = { ...env, NODE_EXTRA_CA_CERTS: caFile, SMTP_URL: smtp.url, EMAIL_OFFLINE_MS: '0', DIGEST_SCAN_MS: '100' };

  t.test('a worker killed mid-task: the task is redelivered and its key stops a second notification', async (t) => {
    const fast = push.subscribe();
    const stuck = push.subscribe();
    await notify.addSubscription(b.id, fast);
    await notify.addSubscription(b.id, stuck);
    push.respond(stuck.id, 0);
    const first = await spawnWorker(t, workerEnv);
    const alice = await TestClient.open(t, `ws://127.0.0.1:${router.port}/ws`, aSession);
    await alice.sendMessage({ to: b.id }, 'first message');
    await until(() => push.received.some((r) => r.subscription === fast.id) && push.requests.some((r) => r.subscription === stuck.id), 15_000, 'both devices to be contacted').catch((err: Error) => {
      throw new Error(`${err.message}\nworker:\n${first.logs.join('\n')}\nrouter:\n${router.logs.join('\n')}`);
    });
    // The kill must come after the worker remembered the device it reached (its idempotency key), not after a guess at how long that takes.
    const remembered = new Redis(redis);
    t.teardown(() => remembered.quit());
    await until(async () => (await remembered.keys(`idem:${taskQueue}:push:*`)).length === 1, 15_000, 'the worker to remember the device it notified');
    first.proc.kill('SIGKILL');
    await first.exited;
    const second = await spawnWorker(t, workerEnv);
    await until(() => push.received.some((r) => r.subscription === stuck.id), 15_000, 'the redelivered task to reach the other device');
    t.equal(push.received.filter((r) => r.subscription === fast.id).length, 1, 'the device notified before the kill was not notified again');
    t.match(push.received.find((r) => r.subscription === stuck.id)?.payload, { sender: { displayName: 'Alice' }, preview: 'first message' }, 'the other device got the decrypted notification naming A');
    const processed = async () =>
      Number(/^messenger_tasks_processed_total (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${second.port}/metrics`)).text())?.[1]);
    await until(async () => (await processed()) === 1, 10_000, 'the Prometheus metrics to count the task');
    t.pass('the second worker processed the redelivered task (metrics)');
    t.equal((await fetch(`http://127.0.0.1:${second.port}/readyz`)).status, 200, 'the worker is ready');
    await alice.close();

    // The digest: no push subscription left, an address, B offline with unread messages.
    await notify.removeEndpoint(fast.endpoint);
    await notify.removeEndpoint(stuck.endpoint);
    await notify.setEmail(b.id, 'bob@example.com');
    await until(() => smtp.mails.length === 1, 15_000, 'the digest e-mail');
    t.match(smtp.mails[0]?.text, /Alice: first message/, 'the digest arrived at the SMTP server naming A');
    second.proc.kill('SIGTERM');
    t.equal(await second.exited, 0, 'SIGTERM stops the worker cleanly');
  });
});
