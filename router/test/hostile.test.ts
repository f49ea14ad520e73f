/**
 * Hostile and broken clients: every malformed, oversized, forged, foreign or abusive input gets its
 * documented error frame or close code, reaches no store and no other user, and the node keeps
 * serving everyone else.
 *
 * The hostile suite goes on, by feature, in:
 * - text.hostile.test.ts: the text rule (NUL, lone surrogates, controls, invisible-only bodies, names);
 * - store-faults.test.ts, history.isolation.test.ts: a message the store refuses fails alone;
 *   a message stored whose reply was lost is fanned out when retried;
 * - ws-limits.test.ts, rate-limit.test.ts: a flood is closed with 1008, fragments are bounded;
 * - json-body.test.ts: Content-Type is parsed, not prefix-matched;
 * - oauth.return-path.test.ts: returnTo never leaves the origin;
 * - push.subscribe.test.ts, workers/test/push.endpoint.test.ts, push.job.test.ts: push endpoints
 *   are judged by the addresses they reach, at subscribe and at send;
 * - signin.limit.test.ts, metrics.listener.test.ts, readiness.test.ts: sign-up/sign-in limits per
 *   address, metrics off the public port, /readyz prompt while a store hangs;
 * - broker-outage.test.ts: a RabbitMQ outage heals by itself and loses no task.
 */
import t, { type Test } from 'tap';
import { waitFor } from '../../test/support/wait.ts';
import { LIMITS, directRoomId, type ServerFrame } from '../../protocol/frames.ts';
import { modes, startNode, type Harness, type TestClient, type TestUser } from '../../test/support/router.harness.ts';

type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

let refs = 0;
const nextRef = (prefix = 'r') => `${prefix}${++refs}`;

/**
 * Pings and waits for the pong: a socket's frames are handled in order, so every frame sent before
 * has been decoded and validated (and handed to its room) by the time this resolves.
 */
async function settle(c: TestClient): Promise<void> {
  const ref = nextRef('settle');
  c.send({ type: 'ping', ref });
  await c.next('pong', (f) => f.ref === ref);
}

/** Sends one frame and returns the error frames it caused (validation errors arrive before the settling pong). */
async function errorsOf(c: TestClient, frame: object | string): Promise<ErrorFrame[]> {
  const before = c.all('error').length;
  c.send(frame);
  await settle(c);
  return c.all('error').slice(before);
}

/** Asserts that one frame is refused with exactly one error of `code` and that the socket stays open. */
async function refused(t: Test, c: TestClient, frame: object | string, code: string, what: string): Promise<void> {
  const errors = await errorsOf(c, frame);
  t.equal(errors.length, 1, `${what}: exactly one error frame`);
  t.equal(errors[0]?.code, code, `${what}: the error is ${code}`);
  t.equal(c.ws.readyState, c.ws.OPEN, `${what}: the socket stays open`);
}

/**
 * The node still serves: a user who connects now can send to a user connected all along, who
 * receives it, and /healthz answers 200.
 */
async function stillServes(t: Test, h: Harness, observer: { user: TestUser; client: TestClient }): Promise<void> {
  const fresh = await h.user();
  const c = await fresh.connect();
  const body = `still here ${nextRef()}`;
  const ack = await c.sendMessage({ to: observer.user.id }, body);
  t.equal(ack.type, 'message.sent', 'a new connection can still send and gets its ack');
  const got = await observer.client.next('message.new', (f) => f.message.body === body);
  t.equal(got.message.sender, fresh.id, 'a connection that was open all along still receives');
  const res = await fetch(`${h.httpUrl}/healthz`);
  t.equal(res.status, 200, 'GET /healthz answers 200');
  await c.close();
}

/** Starts a node for `mode` with an observer user connected all along. */
async function nodeWithObserver(t: Test, env: Record<string, string>) {
  const h = await startNode(t, env);
  const user = await h.user();
  const client = await user.connect();
  return { h, observer: { user, client } };
}

for (const mode of modes(t, 'hostile clients')) {
  t.test(`on the ${mode.name}`, async (t) => {
    t.test('malformed and forged frames', async (t) => {
      const { h, observer } = await nodeWithObserver(t, await mode.env(t));

      /** A fresh attacker and a fresh victim, connected; the room of the two is empty. */
      const pair = async () => {
        const mallory = await h.user();
        const victim = await h.user();
        const m = await mallory.connect();
        const v = await victim.connect();
        return { mallory, victim, m, v, room: directRoomId(mallory.id, victim.id) };
      };

      /** Nothing of the attacker's reached the victim's room: the next valid message gets seq 1 and is the only one delivered. */
      const nothingStored = async (t: Test, p: Awaited<ReturnType<typeof pair>>) => {
        t.equal(await h.stores.history.lastSeq(p.room), 0, 'nothing was stored in the room');
        const ack = await p.m.sendMessage({ to: p.victim.id }, 'a valid one');
        t.match(ack, { type: 'message.sent', seq: 1 }, 'the next valid message gets seq 1: no seq was used before');
        await p.v.next('message.new', (f) => f.message.seq === 1);
        t.same(
          p.v.all('message.new').map((f) => f.message.body),
          ['a valid one'],
          'the victim received only the valid message',
        );
      };

      t.test('text that is not JSON is refused with invalid_frame', async (t) => {
        const p = await pair();
        for (const text of ['not json', '{', '{"type":"ping"', '', '\u0000', "{'type':'ping'}"]) {
          await refused(t, p.m, text, 'invalid_frame', JSON.stringify(text));
        }
        await nothingStored(t, p);
        await stillServes(t, h, observer);
      });

      t.test('a JSON value that is not an object is refused with invalid_frame', async (t) => {
        const p = await pair();
        for (const text of ['[]', '[{"type":"ping"}]', 'null', '5', '"ping"', 'true']) {
          await refused(t, p.m, text, 'invalid_frame', text);
        }
        await stillServes(t, h, observer);
      });

      t.test('a binary frame closes the socket with 1003', async (t) => {
        const p = await pair();
        p.m.ws.send(Buffer.from('{"type":"ping"}'));
        const closed = await p.m.closed;
        t.equal(closed.code, 1003, 'close code 1003 (unsupported data)');
        t.ok(await waitFor(() => !h.node.registry.ofUser(p.mallory.id)), 'the registry no longer holds the socket');
        await stillServes(t, h, observer);
      });

      t.test('an unknown frame type is refused with unknown_type and the ref echoed', async (t) => {
        const p = await pair();
        for (const type of ['admin.delete', 'hello', 'message.new', '__proto__', 'constructor', 'toString', 'PING']) {
          await refused(t, p.m, { type }, 'unknown_type', type);
        }
        const errors = await errorsOf(p.m, { type: 'users.list', ref: 'u1' });
        t.match(errors, [{ code: 'unknown_type', ref: 'u1' }], 'the ref comes back so the client can match the error');
        t.notMatch(errors[0]?.message ?? '', /users\.list/, 'the offending type is not echoed back');
        await stillServes(t, h, observer);
      });

      t.test('fields of the wrong type or range are refused with invalid_frame', async (t) => {
        const p = await pair();
        const send = { type: 'message.send', to: p.victim.id, body: 'x', clientMsgId: 'wt' };
        const cases: Array<[string, object]> = [
          ['to as a string', { ...send, to: String(p.victim.id) }],
          ['to zero', { ...send, to: 0 }],
          ['to negative', { ...send, to: -1 }],
          ['to fractional', { ...send, to: 1.5 }],
          ['to beyond int32', { ...send, to: 2 ** 31 }],
          ['body as a number', { ...send, body: 5 }],
          ['body as an array', { ...send, body: ['x'] }],
          ['clientMsgId as a number', { ...send, clientMsgId: 7 }],
          ['clientMsgId with a slash', { ...send, clientMsgId: 'a/b' }],
          ['room with a dot', { type: 'typing', room: '../1-2', active: true }],
          ['active as a string', { type: 'typing', room: p.room, active: 'yes' }],
          ['seq -1', { type: 'message.ack', room: p.room, seq: -1 }],
          ['seq 1.5', { type: 'message.read', room: p.room, seq: 1.5 }],
          ['seq as a string', { type: 'message.ack', room: p.room, seq: '1' }],
          ['seq beyond 2^53', { type: 'message.ack', room: p.room, seq: 2 ** 60 }],
          ['limit 0', { type: 'history.get', room: p.room, limit: 0 }],
          ['ref as a number', { type: 'ping', ref: 5 }],
          ['rooms as an object', { type: 'sync', rooms: { room: p.room, lastSeq: 0 } }],
        ];
        for (const [what, frame] of cases) await refused(t, p.m, frame, 'invalid_frame', what);
        await refused(t, p.m, '{"type":"message.ack","room":"1-2","seq":1e400}', 'invalid_frame', 'seq as 1e400 (Infinity)');
        await nothingStored(t, p);
        await stillServes(t, h, observer);
      });

      t.test('MongoDB operator objects are refused with invalid_frame and reach no store', async (t) => {
        const p = await pair();
        const cases: Array<[string, object]> = [
          ['body {$ne:null}', { type: 'message.send', to: p.victim.id, clientMsgId: 'op1', body: { $ne: null } }],
          ['to {$gt:0}', { type: 'message.send', to: { $gt: 0 }, clientMsgId: 'op2', body: 'x' }],
          ['room {$regex}', { type: 'message.send', room: { $regex: '.*' }, clientMsgId: 'op3', body: 'x' }],
          ['clientMsgId {$exists}', { type: 'message.send', to: p.victim.id, clientMsgId: { $exists: true }, body: 'x' }],
          ['history room {$regex}', { type: 'history.get', ref: 'op4', room: { $regex: '.*' } }],
          ['history before {$gt}', { type: 'history.get', ref: 'op5', room: p.room, before: { $gt: 0 } }],
          ['ack seq {$gt}', { type: 'message.ack', room: p.room, seq: { $gt: 0 } }],
          ['sync room {$ne}', { type: 'sync', ref: 'op6', rooms: [{ room: { $ne: null }, lastSeq: 0 }] }],
          ['sync rooms {$ne}', { type: 'sync', ref: 'op7', rooms: { $ne: null } }],
          ['type {$ne}', { type: { $ne: null } }],
        ];
        for (const [what, frame] of cases) await refused(t, p.m, frame, 'invalid_frame', what);
        t.equal(p.m.all('history.page').length, 0, 'no history page was sent');
        t.equal(p.m.all('sync.done').length, 0, 'no sync was answered');
        await nothingStored(t, p);
        await stillServes(t, h, observer);
      });

      t.test('__proto__ keys are refused and do not pollute Object.prototype', async (t) => {
        const p = await pair();
        const texts = [
          '{"type":"ping","__proto__":{"admin":true}}',
          '{"__proto__":{"type":"ping","admin":true}}',
          '{"type":"ping","constructor":{"prototype":{"admin":true}}}',
          `{"type":"sync","rooms":[{"room":"${p.room}","lastSeq":0,"__proto__":{"admin":true}}]}`,
          `{"type":"message.send","to":${p.victim.id},"clientMsgId":"pp1","body":"x","__proto__":{"sender":1,"admin":true}}`,
          `{"type":"message.send","to":${p.victim.id},"clientMsgId":"pp2","body":{"__proto__":{"admin":true}}}`,
        ];
        for (const text of texts) await refused(t, p.m, text, 'invalid_frame', text);
        t.equal(({} as Record<string, unknown>).admin, undefined, '({}).admin is still undefined');
        t.notOk(Object.prototype.hasOwnProperty.call(Object.prototype, 'admin'), 'Object.prototype has no admin key');
        t.notOk(Object.prototype.hasOwnProperty.call(Object.prototype, 'sender'), 'Object.prototype has no sender key');
        await nothingStored(t, p);
        await stillServes(t, h, observer);
      });

      t.test('a frame of exactly 64 KiB is read, one byte more closes the socket with 1009', async (t) => {
        const p = await pair();
        const ping = '{"type":"ping","ref":"big"}';
        // JSON allows trailing whitespace: a valid frame of exactly the limit.
        p.m.send(ping + ' '.repeat(LIMITS.maxFrameBytes - ping.length));
        await p.m.next('pong', (f) => f.ref === 'big');
        t.pass('a frame of exactly maxFrameBytes is answered');
        p.m.send('"' + 'x'.repeat(LIMITS.maxFrameBytes - 1) + '"');
        const closed = await p.m.closed;
        t.equal(closed.code, 1009, 'close code 1009 (message too big)');
        t.ok(await waitFor(() => !h.node.registry.ofUser(p.mallory.id)), 'the registry no longer holds the socket');
        t.equal(await h.stores.history.lastSeq(p.room), 0, 'nothing was stored');
        await stillServes(t, h, observer);
      });

      t.test('a body of 4097 characters is refused with body_too_long and not stored', async (t) => {
        const p = await pair();
        const long = await p.m.sendMessage({ to: p.victim.id }, 'x'.repeat(LIMITS.maxBodyLength + 1), 'long1');
        t.match(long, { type: 'error', code: 'body_too_long', ref: 'long1' }, 'body_too_long with the clientMsgId as ref');
        const emoji = await p.m.sendMessage({ to: p.victim.id }, '😀'.repeat(LIMITS.maxBodyLength / 2) + 'x', 'long2');
        t.match(emoji, { type: 'error', code: 'body_too_long' }, 'the limit counts UTF-16 code units');
        const blank = await p.m.sendMessage({ to: p.victim.id }, ' \n\t ', 'blank');
        t.match(blank, { type: 'error', code: 'invalid_frame', ref: 'blank' }, 'a blank body is refused too');
        await nothingStored(t, p);
        const max = await p.m.sendMessage({ to: p.victim.id }, 'y'.repeat(LIMITS.maxBodyLength), 'max');
        t.match(max, { type: 'message.sent', seq: 2 }, 'a body of exactly the limit is stored');
        await stillServes(t, h, observer);
      });

      t.test('missing fields are refused with invalid_frame', async (t) => {
        const p = await pair();
        const cases: Array<[string, object]> = [
          ['no type', { ref: 'x' }],
          ['an empty object', {}],
          ['send without clientMsgId', { type: 'message.send', to: p.victim.id, body: 'x' }],
          ['send without body', { type: 'message.send', to: p.victim.id, clientMsgId: 'mf1' }],
          ['ack without seq', { type: 'message.ack', room: p.room }],
          ['read without room', { type: 'message.read', seq: 1 }],
          ['typing without active', { type: 'typing', room: p.room }],
          ['history without room', { type: 'history.get', ref: 'mf2' }],
          ['sync without rooms', { type: 'sync', ref: 'mf3' }],
          ['sync room without lastSeq', { type: 'sync', rooms: [{ room: p.room }] }],
        ];
        for (const [what, frame] of cases) await refused(t, p.m, frame, 'invalid_frame', what);
        const neither = await p.m.sendMessage({} as { room: string }, 'to whom?', 'mf4');
        t.match(neither, { type: 'error', code: 'invalid_frame', ref: 'mf4' }, 'a send with neither to nor room is refused');
        await nothingStored(t, p);
        await stillServes(t, h, observer);
      });

      t.test('a send with both to and room is refused with invalid_frame', async (t) => {
        const p = await pair();
        const both = await p.m.sendMessage({ to: p.victim.id, room: p.room } as { to: number }, 'both', 'both1');
        t.match(both, { type: 'error', code: 'invalid_frame', ref: 'both1' }, 'invalid_frame with the clientMsgId as ref');
        await nothingStored(t, p);
        await stillServes(t, h, observer);
      });

      t.test('spoofed sender, seq, ts and id are refused; the server stamps its own', async (t) => {
        const p = await pair();
        const send = { type: 'message.send', to: p.victim.id, body: 'forged' };
        const forged: Array<[string, object]> = [
          ['sender', { sender: p.victim.id }],
          ['seq', { seq: 999 }],
          ['ts', { ts: 0 }],
          ['id', { id: 'forged-id' }],
          ['room and sender', { room: p.room, sender: observer.user.id }],
          ['message', { message: { sender: p.victim.id } }],
        ];
        for (const [what, extra] of forged) {
          const clientMsgId = nextRef('forged');
          const errors = await errorsOf(p.m, { ...send, clientMsgId, ...extra });
          t.match(errors, [{ code: 'invalid_frame', ref: clientMsgId }], `a send carrying ${what} is invalid_frame`);
        }
        await nothingStored(t, p);
        const before = Date.now();
        const ack = await p.m.sendMessage({ to: p.victim.id }, 'honest', 'honest1');
        if (ack.type !== 'message.sent') return t.fail(`not acknowledged: ${JSON.stringify(ack)}`);
        const [stored] = await h.stores.history.after(p.room, 1, 10);
        t.equal(stored?.sender, p.mallory.id, 'the stored sender is the authenticated user');
        t.equal(stored?.seq, 2, 'the stored seq is the room’s next seq');
        t.equal(stored?.id, ack.id, 'the stored id is the one the server acknowledged');
        t.ok((stored?.ts ?? 0) >= before, 'the stored timestamp is the server’s');
        const incoming = await p.v.next('message.new', (f) => f.message.clientMsgId === 'honest1');
        t.same(incoming.message, stored, 'the recipient gets exactly the stored message');
        await stillServes(t, h, observer);
      });

      t.test('a user who is not a member cannot reach a room', async (t) => {
        const alice = await h.user('alice_h');
        const bob = await h.user('bob_h');
        const carol = await h.user('carol_h');
        const a = await alice.connect();
        const b = await bob.connect();
        const c = await carol.connect();
        const room = directRoomId(alice.id, bob.id);
        const first = await a.sendMessage({ to: bob.id }, 'private 1');
        t.match(first, { type: 'message.sent', room, seq: 1 }, 'alice and bob have a room with one message');
        await b.next('message.new', (f) => f.message.seq === 1);
        const carolsRoom = await c.sendMessage({ to: alice.id }, 'hi alice');
        t.equal(carolsRoom.type, 'message.sent', 'carol has a room of her own with alice');
        await a.next('message.new', (f) => f.message.sender === carol.id);

        /** Alice sends into the room again: whatever carol caused in it would have reached bob before this. */
        const barrier = async (body: string) => {
          const ack = await a.sendMessage({ to: bob.id }, body);
          if (ack.type !== 'message.sent') throw new Error(`barrier not acknowledged: ${JSON.stringify(ack)}`);
          await b.next('message.new', (f) => f.message.seq === ack.seq);
          return ack.seq;
        };
        const nothingFromCarol = (t: Test, what: string) => {
          for (const [name, client] of [['alice', a], ['bob', b]] as const) {
            const leaked = client.frames.filter(
              (f) =>
                (f.type === 'message.new' && f.message.room === room && f.message.sender === carol.id) ||
                ((f.type === 'receipt' || f.type === 'typing') && f.user === carol.id),
            );
            t.same(leaked, [], `${what}: nothing of carol's reached ${name}`);
          }
        };

        t.test('a send into the room is refused with room_not_found and stored nowhere', async (t) => {
          const ack = await c.sendMessage({ room }, 'let me in', 'intrude1');
          t.match(ack, { type: 'error', code: 'room_not_found', ref: 'intrude1' }, 'room_not_found');
          t.equal(await h.stores.history.lastSeq(room), 1, 'the room still has one message');
          t.equal(await barrier('after the intrusion'), 2, 'the next message of the room gets seq 2');
          nothingFromCarol(t, 'send');
          const stored = await h.stores.history.after(room, 0, 100);
          t.notOk(stored.some((m) => m.sender === carol.id), 'no message of carol is in the room');
          const fake = await c.sendMessage({ room: '999998-999999' }, 'nobody', 'intrude2');
          t.match(fake, { type: 'error', code: 'room_not_found' }, 'a room that does not exist is room_not_found too');
        });

        t.test('history of the room is refused with room_not_found and leaks nothing', async (t) => {
          c.send({ type: 'history.get', ref: 'peek1', room });
          const err = await c.next('error', (f) => f.ref === 'peek1');
          t.equal(err.code, 'room_not_found', 'room_not_found');
          c.send({ type: 'history.get', ref: 'peek2', room, after: 0, limit: 100 });
          t.equal((await c.next('error', (f) => f.ref === 'peek2')).code, 'room_not_found', 'with after: room_not_found');
          c.send({ type: 'history.get', ref: 'peek3', room, before: 1e9 });
          t.equal((await c.next('error', (f) => f.ref === 'peek3')).code, 'room_not_found', 'with before: room_not_found');
          await settle(c);
          t.same(c.all('history.page').filter((p) => p.room === room), [], 'no history page of the room was sent');
        });

        t.test('a sync naming the room returns none of its messages', async (t) => {
          c.send({ type: 'sync', ref: 'sync1', rooms: [{ room, lastSeq: 0 }] });
          const done = await c.next('sync.done', (f) => f.ref === 'sync1');
          t.same(
            done.rooms.map((r) => r.room),
            [directRoomId(carol.id, alice.id)],
            'sync.done lists only carol’s own room',
          );
          const messages = c.all('history.page').flatMap((p) => p.messages);
          t.ok(messages.length > 0, 'carol gets her own room’s messages');
          t.notOk(messages.some((m) => m.room === room), 'no message of the foreign room was returned');
        });

        t.test('receipts for the room reach no member and move no watermark', async (t) => {
          c.send({ type: 'message.ack', room, seq: 1 });
          c.send({ type: 'message.read', room, seq: 1 });
          await settle(c);
          // Bob's receipt goes through the same room actor after carol's: it is the barrier.
          b.send({ type: 'message.read', room, seq: await h.stores.history.lastSeq(room) });
          await a.next('receipt', (f) => f.user === bob.id && f.kind === 'read');
          nothingFromCarol(t, 'receipts');
          await h.node.watermarks.flush();
          const stored = await h.stores.relational.getRoom(room);
          t.equal(stored?.delivered[carol.id], undefined, 'no delivered watermark for carol');
          t.equal(stored?.read[carol.id], undefined, 'no read watermark for carol');
        });

        t.test('typing in the room reaches no member', async (t) => {
          c.send({ type: 'typing', room, active: true });
          await settle(c);
          a.send({ type: 'typing', room, active: true });
          await b.next('typing', (f) => f.user === alice.id);
          nothingFromCarol(t, 'typing');
          await barrier('after typing');
          nothingFromCarol(t, 'typing, after a message');
        });

        t.test('carol’s socket stays open and the node still serves', async (t) => {
          await settle(c);
          t.pass('carol still gets answers');
          await stillServes(t, h, observer);
        });
      });

      t.test('a receipt far beyond the last seq is clamped to it', async (t) => {
        const p = await pair();
        for (const body of ['one', 'two']) {
          const ack = await p.m.sendMessage({ to: p.victim.id }, body);
          t.equal(ack.type, 'message.sent', `"${body}" is stored`);
        }
        await p.v.next('message.new', (f) => f.message.seq === 2);
        p.v.send({ type: 'message.ack', room: p.room, seq: Number.MAX_SAFE_INTEGER });
        const delivered = await p.m.next('receipt', (f) => f.kind === 'delivered');
        t.equal(delivered.seq, 2, 'the delivered receipt says seq 2, the real last seq');
        p.v.send({ type: 'message.read', room: p.room, seq: 1e12 });
        const read = await p.m.next('receipt', (f) => f.kind === 'read');
        t.equal(read.seq, 2, 'the read receipt says seq 2, the real last seq');
        const third = await p.m.sendMessage({ to: p.victim.id }, 'three');
        t.match(third, { type: 'message.sent', seq: 3 }, 'a third message gets seq 3');
        await p.v.next('message.new', (f) => f.message.seq === 3);
        p.v.send({ type: 'message.ack', room: p.room, seq: 3 });
        await p.m.next('receipt', (f) => f.kind === 'delivered' && f.seq === 3);
        const seqs = p.m.all('receipt').map((f) => f.seq);
        t.ok(
          seqs.every((s) => s <= 3),
          `the sender never saw a receipt above the real last seq (${seqs.join(', ')})`,
        );
        await h.node.watermarks.flush();
        const stored = await h.stores.relational.getRoom(p.room);
        t.equal(stored?.delivered[p.victim.id], 3, 'the stored delivered watermark is the real last seq');
        t.equal(stored?.read[p.victim.id], 2, 'the stored read watermark was clamped to 2');
        await stillServes(t, h, observer);
      });

      t.test('invalid UTF-8 in a text frame closes the socket with 1007', async (t) => {
        const p = await pair();
        // ws sends a Buffer as a text frame without checking it when told binary: false.
        p.m.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
        const closed = await p.m.closed;
        t.equal(closed.code, 1007, 'close code 1007 (invalid frame payload data)');
        t.ok(await waitFor(() => !h.node.registry.ofUser(p.mallory.id)), 'the registry no longer holds the socket');
        await stillServes(t, h, observer);
      });

      t.test('after all of this the node answers GET /healthz with 200', async (t) => {
        const res = await fetch(`${h.httpUrl}/healthz`);
        t.equal(res.status, 200, 'status 200');
        t.match(await res.json(), { status: 'ok' }, 'status ok');
        t.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype is still clean');
      });
    });

    t.test('floods', async (t) => {
      const burst = 5;
      const closeAfter = 5;
      // A window of an hour: the close depends on how many frames were refused, not on how fast.
      const { h, observer } = await nodeWithObserver(t, {
        ...(await mode.env(t)),
        RATE_LIMIT_PER_SEC: '1',
        RATE_LIMIT_BURST: String(burst),
        RATE_LIMIT_WINDOW_MS: '3600000',
        RATE_LIMIT_CLOSE_AFTER: String(closeAfter),
      });

      t.test('a flood beyond the rate limit gets one rate_limited error, then close 1008', async (t) => {
        const flooder = await h.user();
        const f = await flooder.connect();
        const total = 40;
        for (let i = 0; i < total; i++) f.send({ type: 'ping', ref: `flood${i}` });
        const closed = await f.closed;
        t.equal(closed.code, 1008, 'close code 1008 (policy violation)');
        const pongs = f.all('pong');
        const limited = f.all('error').filter((e) => e.code === 'rate_limited');
        t.ok(pongs.length >= burst, `the burst was answered (${pongs.length} pongs)`);
        t.ok(pongs.length < total, 'not every frame was answered');
        t.equal(limited.length, 1, 'one rate_limited error came first, not one per dropped frame');
        t.equal(f.all('error').length, limited.length, 'every error is rate_limited');
        t.ok(total - pongs.length > closeAfter, `more than ${closeAfter} frames were dropped before the close`);
        t.ok(await waitFor(() => !h.node.registry.ofUser(flooder.id)), 'the registry no longer holds the socket');
        await stillServes(t, h, observer);
      });

      t.test(
        'a flooder who reconnects after 1008 does not get a fresh burst',
        async (t) => {
          const flooder = await h.user();
          const first = await flooder.connect();
          for (let i = 0; i < 3 * burst; i++) first.send({ type: 'ping', ref: `first${i}` });
          t.equal((await first.closed).code, 1008, 'the first socket is closed with 1008');
          t.ok(await waitFor(() => !h.node.registry.ofUser(flooder.id)), 'the registry no longer holds it');
          const again = await flooder.connect();
          for (let i = 0; i < burst; i++) again.send({ type: 'ping', ref: `again${i}` });
          const refused = await again.next('error');
          t.equal(refused.code, 'rate_limited', 'the new socket is refused within what would be a fresh burst');
          t.ok(again.all('pong').length < burst, `the new socket does not get a whole new burst (${again.all('pong').length} pongs)`);
        },
      );

      t.test('the rate limit is per user, across two sockets of that user', async (t) => {
        const flooder = await h.user();
        const one = await flooder.connect();
        const two = await flooder.connect();
        for (let i = 0; i < burst; i++) one.send({ type: 'ping', ref: `one${i}` });
        await one.next('pong', (f) => f.ref === `one${burst - 1}`);
        t.equal(one.all('pong').length, burst, 'the first socket used the whole burst');
        two.send({ type: 'ping', ref: 'two0' });
        const err = await two.next('error');
        t.equal(err.code, 'rate_limited', 'the second socket of the same user is rate limited');
        t.equal(two.all('pong').length, 0, 'the second socket got no pong');
        const other = await h.user();
        const o = await other.connect();
        o.send({ type: 'ping', ref: 'other' });
        await o.next('pong', (f) => f.ref === 'other');
        t.pass('another user is not limited by it');
        await stillServes(t, h, observer);
      });
    });

    t.test('a client that never reads is closed and the sender keeps working', async (t) => {
      const bufferMax = 16 * 1024;
      const { h, observer } = await nodeWithObserver(t, {
        ...(await mode.env(t)),
        SEND_BUFFER_MAX_BYTES: String(bufferMax),
        RATE_LIMIT_PER_SEC: '1000000',
        RATE_LIMIT_BURST: '1000000',
      });
      const sender = await h.user();
      const reader = await h.user();
      const s = await sender.connect();
      const r = await reader.connect();
      // Record why the server closes the reader: the client, not reading, never sees the close frame.
      const [readerConn] = h.node.registry.ofUser(reader.id) ?? [];
      if (!readerConn) return t.fail('the reader is not registered');
      const reasons: string[] = [];
      const close = readerConn.close.bind(readerConn);
      readerConn.close = (reason) => {
        reasons.push(reason);
        close(reason);
      };
      // Stop reading from the kernel: the server's writes pile up in the kernels, then in ws.
      (r.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const body = 'z'.repeat(4000);
      const readerGone = () => !h.node.registry.ofUser(reader.id);
      // Closing starts at once when the buffer passes the limit; the socket leaves the registry once cut.
      const readerClosing = () => [...(h.node.registry.ofUser(reader.id) ?? [])].every((c) => !c.open);
      let sent = 0;
      let failed = 0;
      let bytes = 0;
      // Far more than both kernels' buffers can hold; stops as soon as the server starts closing the reader.
      while (!readerClosing() && bytes <= 64 * 1024 * 1024) {
        const acks = await Promise.all(Array.from({ length: 50 }, () => s.sendMessage({ to: reader.id }, body)));
        const ok = acks.filter((a) => a.type === 'message.sent').length;
        sent += ok;
        failed += acks.length - ok;
        bytes += acks.length * body.length;
      }
      t.equal(failed, 0, `all ${sent} messages of the sender were acknowledged`);
      t.ok(await waitFor(readerGone), `the reader was cut after about ${Math.round(bytes / 1024)} KiB`);
      t.same(reasons, ['slow_consumer'], 'it was closed as a slow consumer (4008)');
      t.equal(h.node.registry.ofUser(sender.id)?.size, 1, 'the sender is still connected');
      const room = directRoomId(sender.id, reader.id);
      t.equal(await h.stores.history.lastSeq(room), sent, 'every acknowledged message is stored for the reader’s resync');
      const after = await s.sendMessage({ to: observer.user.id }, 'the sender keeps working');
      t.equal(after.type, 'message.sent', 'the sender can still send');
      await observer.client.next('message.new', (f) => f.message.body === 'the sender keeps working');
      t.pass('and its messages are still delivered');
      await stillServes(t, h, observer);
    });
  });
}
