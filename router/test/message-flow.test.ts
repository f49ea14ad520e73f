import t from 'tap';
import { modes, startNode } from '../../test/support/router.harness.ts';

for (const mode of modes(t, 'message flow', { mongoHistory: true })) {
  t.test(`on the ${mode.name}`, async (t) => {
    const h = await startNode(t, await mode.env(t));
    const alice = await h.user('alice');
    const bob = await h.user('bob');
    const a = await alice.connect();
    const b = await bob.connect();

    t.test('a message to a user is acknowledged after it is stored, then reaches the recipient', async (t) => {
      const ack = await a.sendMessage({ to: bob.id }, 'hello bob', 'm1');
      t.match(ack, { type: 'message.sent', ref: 'm1', seq: 1, duplicate: false }, 'the sender gets seq 1');
      const room = `${Math.min(alice.id, bob.id)}-${Math.max(alice.id, bob.id)}`;
      t.equal(ack.type === 'message.sent' && ack.room, room, 'the room id is LOWER-HIGHER of the two user ids');
      const stored = await h.stores.history.after(room, 0, 10);
      t.equal(stored.length, 1, 'the message is in history');
      const incoming = await b.next('message.new');
      t.match(incoming.message, { room, seq: 1, sender: alice.id, body: 'hello bob', clientMsgId: 'm1' }, 'bob receives it');
    });

    t.test('the delivered and read receipts reach the sender', async (t) => {
      const ack = await a.sendMessage({ to: bob.id }, 'second');
      if (ack.type !== 'message.sent') return t.fail('not acknowledged');
      await b.next('message.new', (f) => f.message.seq === ack.seq);
      b.send({ type: 'message.ack', room: ack.room, seq: ack.seq });
      const delivered = await a.next('receipt', (f) => f.kind === 'delivered' && f.seq === ack.seq);
      t.equal(delivered.user, bob.id, 'delivered names the recipient');
      b.send({ type: 'message.read', room: ack.room, seq: ack.seq });
      const read = await a.next('receipt', (f) => f.kind === 'read' && f.seq === ack.seq);
      t.equal(read.user, bob.id, 'read names the reader');
    });

    t.test('a retried clientMsgId returns the original ack and stores nothing new', async (t) => {
      const first = await a.sendMessage({ to: bob.id }, 'once', 'retry-1');
      const again = await a.sendMessage({ to: bob.id }, 'once', 'retry-1');
      if (first.type !== 'message.sent' || again.type !== 'message.sent') return t.fail('not acknowledged');
      t.same([again.id, again.seq, again.ts], [first.id, first.seq, first.ts], 'the same id, seq and timestamp');
      t.equal(again.duplicate, true, 'the retry is flagged as a duplicate');
      t.equal(await h.stores.history.lastSeq(first.room), first.seq, 'no new seq was used');
    });

    t.test('the same clientMsgId with another body is a conflict', async (t) => {
      await a.sendMessage({ to: bob.id }, 'original', 'conflict-1');
      const clash = await a.sendMessage({ to: bob.id }, 'changed', 'conflict-1');
      t.match(clash, { type: 'error', code: 'conflict', ref: 'conflict-1' }, 'the server refuses it');
    });

    t.test('seqs of a room are gap-free and unique under concurrent senders', async (t) => {
      const acks = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).sendMessage(i % 2 ? { to: bob.id } : { to: alice.id }, `burst ${i}`)),
      );
      const seqs = acks.map((f) => (f.type === 'message.sent' ? f.seq : -1)).sort((x, y) => x - y);
      const first = seqs[0]!;
      t.same(seqs, Array.from({ length: 40 }, (_, i) => first + i), 'forty consecutive seqs');
    });

    t.test('typing reaches the other member only', async (t) => {
      const room = `${Math.min(alice.id, bob.id)}-${Math.max(alice.id, bob.id)}`;
      a.send({ type: 'typing', room, active: true });
      const typing = await b.next('typing');
      t.match(typing, { room, user: alice.id, active: true }, 'bob sees alice typing');
    });

    t.test('history pages go back by seq, oldest first, and clamp the limit', async (t) => {
      const room = `${Math.min(alice.id, bob.id)}-${Math.max(alice.id, bob.id)}`;
      const last = await h.stores.history.lastSeq(room);
      a.send({ type: 'history.get', ref: 'h1', room, limit: 5 });
      const page = await a.next('history.page', (f) => f.ref === 'h1');
      t.same(page.messages.map((m) => m.seq), [last - 4, last - 3, last - 2, last - 1, last], 'the latest five, oldest first');
      t.equal(page.hasMore, true, 'there is more');
      a.send({ type: 'history.get', ref: 'h2', room, before: 4, limit: 2 });
      const before = await a.next('history.page', (f) => f.ref === 'h2');
      t.same(before.messages.map((m) => m.seq), [2, 3], 'the two before seq 4, oldest first');
      t.equal(before.hasMore, true, 'and there is an older one');
      a.send({ type: 'history.get', ref: 'h3', room, before: 3, limit: 1000 });
      const older = await a.next('history.page', (f) => f.ref === 'h3');
      t.same(older.messages.map((m) => m.seq), [1, 2], 'everything before seq 3, oldest first');
      t.equal(older.hasMore, false, 'nothing older');
      a.send({ type: 'history.get', ref: 'h4', room, after: 2, limit: 3 });
      const after = await a.next('history.page', (f) => f.ref === 'h4');
      t.same(after.messages.map((m) => m.seq), [3, 4, 5], 'the three after seq 2, oldest first');
      t.equal(after.hasMore, true, 'and there are newer ones');
      a.send({ type: 'history.get', ref: 'h5', room, after: 0, limit: 1000 });
      const clamped = await a.next('history.page', (f) => f.ref === 'h5');
      t.equal(clamped.messages.length, Math.min(100, last), 'a page holds at most 100 messages');
      t.same(clamped.messages.map((m) => m.seq), Array.from({ length: clamped.messages.length }, (_, i) => i + 1), 'from seq 1 up');
    });

    t.test('a reconnecting client gets exactly the messages it missed, in order', async (t) => {
      const room = `${Math.min(alice.id, bob.id)}-${Math.max(alice.id, bob.id)}`;
      const seen = await h.stores.history.lastSeq(room);
      await b.close();
      const missed: number[] = [];
      for (let i = 0; i < 25; i++) {
        const ack = await a.sendMessage({ to: bob.id }, `while away ${i}`);
        if (ack.type === 'message.sent') missed.push(ack.seq);
      }
      const back = await bob.connect();
      back.send({ type: 'sync', ref: 's1', rooms: [{ room, lastSeq: seen }] });
      const done = await back.next('sync.done', (f) => f.ref === 's1');
      const got = back.all('history.page').filter((p) => p.room === room).flatMap((p) => p.messages.map((m) => m.seq));
      t.same(got, missed, 'every missed seq once, in order');
      const fresh = await alice.connect();
      fresh.send({ type: 'sync', ref: 's2', rooms: [] });
      await fresh.next('sync.done', (f) => f.ref === 's2');
      const latest = fresh.all('history.page').filter((p) => p.room === room);
      t.equal(latest.length, 1, 'a device that never saw the room gets one page of it');
      const last = missed.at(-1)!;
      t.same(latest[0]?.messages.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => last - 49 + i), 'its latest 50 messages, oldest first');
      t.equal(latest[0]?.hasMore, true, 'and is told there are older ones');
      await fresh.close();
      t.match(done.rooms.find((r) => r.room === room), { lastSeq: missed.at(-1) }, 'sync.done reports the last seq');
      t.same(
        done.rooms.find((r) => r.room === room)?.members.map((m) => m.handle).sort(),
        ['alice', 'bob'],
        'sync.done names the members',
      );
    });

    t.test('a message to an unknown user is refused', async (t) => {
      const ack = await a.sendMessage({ to: 999_999 }, 'anyone?');
      t.match(ack, { type: 'error', code: 'user_not_found' }, 'user_not_found');
    });

    t.test('a message to oneself is refused', async (t) => {
      const ack = await a.sendMessage({ to: alice.id }, 'me');
      t.match(ack, { type: 'error', code: 'invalid_recipient' }, 'invalid_recipient');
    });
  });
}
