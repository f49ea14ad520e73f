/**
 * The push handler against a local self-signed HTTPS push service that checks VAPID and decrypts
 * every notification, run through the real runner on the in-process queue. Then the send-time
 * endpoint check (DNS rebinding), with an injected resolver.
 */
import { createECDH, randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { MemoryIdempotencyStore } from '../../db/idempotency.memory.ts';
import { KnexNotifyStore } from '../../db/notify.store.ts';
import { KnexRelationalStore } from '../../db/relational.store.ts';
import { openRelational } from '../../db/relational.ts';
import { createLogger } from '../../kit/logger.ts';
import { startPushEndpoint } from '../../test/support/push.endpoint.ts';
import { tableResolver } from '../../test/support/push.resolver.ts';
import { pushEndpointProblem } from '../tasks/push.endpoint.ts';
import { MAX_PAYLOAD_BYTES, pushJob, pushPayload } from '../src/push.job.ts';
import { MemoryTaskQueue } from '../tasks/queue.memory.ts';
import { TaskRunner } from '../src/task.runner.ts';
import { newTask, type TaskOf } from '../tasks/task.types.ts';
import { generateVapidKeys } from '../tasks/vapid.ts';
import { until } from '../../test/support/wait.ts';
import type { Message } from '../../protocol/frames.ts';

const knex = await openRelational({ dataDir: 'memory://' });
t.teardown(() => knex.destroy());
const users = new KnexRelationalStore(knex);
const store = new KnexNotifyStore(knex);
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const vapid = generateVapidKeys();
const alice = await users.createUser('alice_push', 'Alice');

async function setup(t: Test, vapidKeys = vapid) {
  const endpoint = await startPushEndpoint(t);
  const bob = await users.createUser(`bob_${Math.random().toString(36).slice(2, 8)}`, 'Bob');
  const queue = new MemoryTaskQueue();
  const idempotency = new MemoryIdempotencyStore();
  const handler = pushJob({ store, idempotency, log, vapid: vapidKeys, subject: 'mailto:ops@example.com', allowPrivateEndpoints: true, ca: endpoint.ca, ttlSeconds: 3600 });
  const runner = new TaskRunner({ queue, idempotency, log, handlers: { 'push.message': handler, 'email.digest': async () => ({ status: 'done' }) }, retryBaseMs: 50, maxAttempts: 3 });
  await runner.start();
  t.teardown(async () => {
    await runner.stop();
    await queue.close();
  });
  const task = (preview = 'hello Bob', seq = 1) =>
    newTask({ kind: 'push.message', recipient: bob.id, sender: alice, room: `${alice.id}-${bob.id}`, seq, messageId: `msg-${seq}`, preview }) as TaskOf<'push.message'>;
  return { endpoint, bob, queue, runner, task };
}

t.test('a push task', async (t) => {
  t.test('of a group names it, collapses by room with a count, and skips a member who muted it or was removed', async (t) => {
    const { endpoint, bob, queue, runner } = await setup(t);
    await store.addSubscription(bob.id, endpoint.subscribe());
    const carl = await users.createUser(`carl_${Math.random().toString(36).slice(2, 8)}`, 'Carl');
    await store.addSubscription(carl.id, endpoint.subscribe());
    const room = `g-push-${Math.random().toString(36).slice(2, 10)}`;
    const members = [{ user: alice.id, role: 'owner' as const }, { user: bob.id, role: 'member' as const }, { user: carl.id, role: 'member' as const }];
    const ev = (seq: number, event: NonNullable<Message['event']>): Message => ({ id: `e${seq}`, room, seq, sender: alice.id, body: '', clientMsgId: `ev${seq}`, ts: 0, kind: 'event', event });
    await users.applyGroupEvents([ev(1, { type: 'room.created', name: 'Climbers', members })]);
    const groupTask = (recipient: number, seq: number) =>
      newTask({ kind: 'push.message', recipient, sender: alice, room, roomKind: 'group', roomName: 'Climbers', seq, messageId: `g-${seq}`, preview: `message ${seq}` });
    await queue.publish(groupTask(bob.id, 4));
    await until(() => runner.stats.processed === 1, 10_000, 'the first task');
    t.match(endpoint.received[0]?.payload, { kind: 'group', roomName: 'Climbers', tag: room, count: 4, sender: { displayName: 'Alice' } }, 'the payload names the group and sender, with the room as tag and the unread count');
    t.ok(await users.setMuted(room, bob.id, true), 'bob mutes the group');
    await users.applyGroupEvents([ev(5, { type: 'member.removed', user: carl.id })]);
    await queue.publish(groupTask(bob.id, 6));
    await queue.publish(groupTask(carl.id, 6));
    await until(() => runner.stats.processed === 3, 10_000, 'the other tasks');
    t.equal(endpoint.received.length, 1, 'neither the muted member nor the removed one was notified');
  });

  t.test('reaches every subscription encrypted, signed, with TTL and urgency, naming the sender', async (t) => {
    const { endpoint, bob, queue, runner, task } = await setup(t);
    const subs = [endpoint.subscribe(), endpoint.subscribe()];
    for (const s of subs) await store.addSubscription(bob.id, s);
    await queue.publish(task('hello Bob', 7));
    await until(() => runner.stats.processed === 1, 10_000, 'the task');
    t.equal(endpoint.received.length, 2, `both devices got it (refused: ${endpoint.refused.join(', ')})`);
    const got = endpoint.received[0]!;
    t.match(got.payload, { type: 'message', room: `${alice.id}-${bob.id}`, seq: 7, id: 'msg-7', preview: 'hello Bob', sender: { id: alice.id, displayName: 'Alice' } }, 'the decrypted payload names sender, room, seq and preview');
    t.equal(got.headers.ttl, '3600', 'TTL is set');
    t.equal(got.headers.urgency, 'high', 'urgency is set');
    t.ok(got.headers.topic && got.headers.topic.length <= 32, 'a topic collapses notifications per room');
    t.equal(got.vapidKey, vapid.publicKey, 'signed with our VAPID key');
    t.equal(got.jwt.sub, 'mailto:ops@example.com', 'with our subject');
  });

  t.test('deletes a subscription the push service says is gone (410, 404)', async (t) => {
    const { endpoint, bob, queue, runner, task } = await setup(t);
    const gone = endpoint.subscribe();
    const missing = endpoint.subscribe();
    const live = endpoint.subscribe();
    for (const s of [gone, missing, live]) await store.addSubscription(bob.id, s);
    endpoint.respond(gone.id, 410);
    endpoint.respond(missing.id, 404);
    await queue.publish(task());
    await until(() => runner.stats.processed === 1, 10_000, 'the task');
    const left = (await store.subscriptionsOf(bob.id)).map((s) => s.endpoint);
    t.same(left, [live.endpoint], 'only the live subscription is left');
    t.equal(endpoint.received.length, 1, 'the live one got the notification');
  });

  t.test('retries on 503 and 429 with backoff, without notifying a device twice', async (t) => {
    const { endpoint, bob, queue, runner, task } = await setup(t);
    const flaky = endpoint.subscribe();
    const fine = endpoint.subscribe();
    for (const s of [flaky, fine]) await store.addSubscription(bob.id, s);
    endpoint.respond(flaky.id, 503, 429);
    await queue.publish(task());
    await until(() => runner.stats.processed === 1, 10_000, 'the task to succeed eventually');
    t.equal(runner.stats.retried, 2, 'retried twice');
    t.same(endpoint.requests.filter((r) => r.subscription === flaky.id).map((r) => r.status), [503, 429, 201], 'the flaky device was tried three times');
    t.equal(endpoint.received.filter((r) => r.subscription === fine.id).length, 1, 'the healthy device got exactly one notification');
    t.equal(endpoint.received.filter((r) => r.subscription === flaky.id).length, 1, 'the flaky device got exactly one');
  });

  t.test('gives up on a push service that keeps failing: dead-lettered', async (t) => {
    const { endpoint, bob, queue, runner, task } = await setup(t);
    const down = endpoint.subscribe();
    await store.addSubscription(bob.id, down);
    endpoint.respond(down.id, 503, 503, 503);
    await queue.publish(task());
    await until(() => runner.stats.deadLettered === 1, 10_000, 'the dead letter');
    t.match((await queue.listDead(1))[0]?.reason, /gave up after 3 attempts: push service answered 503/, 'with the reason');
  });

  t.test('treats 401/403 as a configuration error: no retry, dead-lettered with the reason', async (t) => {
    const { endpoint, bob, queue, runner, task } = await setup(t);
    const s = endpoint.subscribe();
    await store.addSubscription(bob.id, s);
    endpoint.respond(s.id, 403);
    await queue.publish(task());
    await until(() => runner.stats.deadLettered === 1, 10_000, 'the dead letter');
    t.equal(runner.stats.retried, 0, 'not retried');
    t.match((await queue.listDead(1))[0]?.reason, /VAPID credentials \(403\)/, 'the reason names VAPID');
    t.equal((await store.subscriptionsOf(bob.id)).length, 1, 'the subscription is kept');
  });

  t.test('trims a payload over the 4 KB limit and still delivers it', async (t) => {
    const { endpoint, bob, queue, runner, task } = await setup(t);
    await store.addSubscription(bob.id, endpoint.subscribe());
    const long = 'ü'.repeat(5000);
    const json = pushPayload(task(long));
    t.ok(Buffer.byteLength(json) <= MAX_PAYLOAD_BYTES, `the payload fits (${Buffer.byteLength(json)} bytes)`);
    await queue.publish(task(long));
    await until(() => runner.stats.processed === 1, 10_000, 'the task');
    const p = endpoint.received[0]?.payload;
    t.equal(p?.trimmed, true, 'the payload says it was trimmed');
    t.ok(String(p?.preview).endsWith('…'), 'the preview ends with an ellipsis');
  });

  t.test('carries the whole message when it fits the limit, else only its preview', async (t) => {
    const { endpoint, bob, queue, runner, task } = await setup(t);
    await store.addSubscription(bob.id, endpoint.subscribe());
    const whole = { ...task('hello Bob', 3), body: 'hello Bob, the whole of it', ts: 1_700_000_000_000 } as TaskOf<'push.message'>;
    await queue.publish(whole);
    await until(() => runner.stats.processed === 1, 10_000, 'the task');
    t.match(endpoint.received[0]?.payload, { seq: 3, id: 'msg-3', body: 'hello Bob, the whole of it', ts: 1_700_000_000_000, recipient: bob.id }, 'the decrypted payload is the whole message, for its recipient');
    const big = JSON.parse(pushPayload({ ...whole, body: 'ü'.repeat(2500) })) as Record<string, unknown>;
    t.equal(big.body, undefined, 'a body past the limit is left out');
    t.equal(big.ts, undefined, 'and so is its time: the app fetches it on open');
    t.equal(big.preview, 'hello Bob', 'the preview still shows');
  });
});

t.test('the send-time endpoint check', async (t) => {
  /** Bob with one subscription at `endpoint`, and a task for him. */
  const recipient = async (t: Test, endpoint: string, given?: { p256dh: string; auth: string }) => {
    const bob = await users.createUser(`bob_${Math.random().toString(36).slice(2, 8)}`, 'Bob');
    const keys = given ?? { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') };
    await store.addSubscription(bob.id, { endpoint, keys });
    t.teardown(() => store.removeEndpoint(endpoint));
    const task = newTask({ kind: 'push.message', recipient: bob.id, sender: alice, room: `${alice.id}-${bob.id}`, seq: 1, messageId: 'msg-1', preview: 'hi' }) as TaskOf<'push.message'>;
    return { bob, task };
  };
  const job = (deps: Partial<Parameters<typeof pushJob>[0]>) => pushJob({ store, idempotency: new MemoryIdempotencyStore(), log, vapid, subject: 'mailto:ops@example.com', timeoutMs: 5000, ...deps });

  t.test('refuses a name that re-resolves to an internal address after subscribing, and removes it', async (t) => {
    const endpoint = 'https://push.example.com/fcm/send/rebind';
    const table = { 'push.example.com': ['142.250.74.10'] };
    const dns = tableResolver(table);
    t.equal(await pushEndpointProblem(endpoint, { allowPrivate: false, resolve: dns }), null, 'at subscribe the name resolves to a public address and is accepted');
    const { bob, task } = await recipient(t, endpoint);

    table['push.example.com'] = ['169.254.169.254'];
    const outcome = await job({ resolve: dns })(task, { attempt: 1 });
    t.match(outcome, { status: 'done' }, `the task ends, nothing to retry (${JSON.stringify(outcome)})`);
    t.same(await store.subscriptionsOf(bob.id), [], 'the subscription that now points inside is removed');
    t.same(dns.asked, ['push.example.com', 'push.example.com'], 'the name was resolved again for the send, by our check');
  });

  t.test('refuses a name resolving to one public and one private address', async (t) => {
    const dns = tableResolver({ 'mixed.example.com': ['142.250.74.10', '10.0.0.1'] });
    const { bob, task } = await recipient(t, 'https://mixed.example.com/fcm/send/mixed');
    t.match(await job({ resolve: dns })(task, { attempt: 1 }), { status: 'done' }, 'the task ends');
    t.same(await store.subscriptionsOf(bob.id), [], 'the subscription is removed');
  });

  t.test('connects to the address its check resolved, with no second lookup', async (t) => {
    // push.rebind.test exists only in the injected resolver: any other lookup of it would fail.
    const service = await startPushEndpoint(t, { names: ['push.rebind.test'], host: 'push.rebind.test' });
    const dns = tableResolver({ 'push.rebind.test': ['127.0.0.1'] });
    const sub = service.subscribe();
    t.equal(await pushEndpointProblem(sub.endpoint, { allowPrivate: true, resolve: dns }), null, 'subscribe: the loopback service is accepted where private endpoints are allowed (tests)');
    const { task } = await recipient(t, sub.endpoint, sub.keys);
    dns.asked.length = 0;

    const outcome = await job({ allowPrivateEndpoints: true, resolve: dns, ca: service.ca })(task, { attempt: 1 });
    t.match(outcome, { status: 'done', note: '1/1 subscriptions notified' }, `the notification was sent (refused: ${service.refused.join(', ')})`);
    t.equal(service.received.length, 1, 'the push service under that name received it, over TLS verified for that name');
    t.same(dns.asked, ['push.rebind.test'], 'the name was resolved once, by the check, and the connection used that answer');
  });
});
