/**
 * The WebSocket edge's limits over real sockets on a running node: a flooding socket is closed with
 * 1008 after a bounded number of answers while another user's messages go through, and a message
 * split into too many fragments closes with the documented code.
 */
import t from 'tap';
import { setImmediate as turn } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { CLOSE_CODES } from '../../protocol/errors.ts';
import { LIMITS } from '../../protocol/frames.ts';
import { modes, startNode, type TestClient } from '../../test/support/router.harness.ts';

/** Sends up to `limit` pings as fast as the socket takes them, or until the server closes it; the count sent. */
async function flood(c: TestClient, limit = Infinity): Promise<number> {
  let sent = 0;
  while (sent < limit && c.ws.readyState === WebSocket.OPEN) {
    // Keep the server's socket full without piling up megabytes in our own send buffer.
    if (c.ws.bufferedAmount < 64 * 1024) {
      for (let i = 0; i < 100 && sent < limit; i++) c.send({ type: 'ping', ref: `f${sent++}` });
    }
    await turn();
  }
  return sent;
}

/** Sends `text` as one message in `count` fragments: count - 1 empty ones, then the text. */
function sendFragmented(c: TestClient, text: string, count: number): void {
  for (let i = 1; i < count; i++) c.ws.send('', { binary: false, fin: false });
  c.ws.send(text, { binary: false, fin: true });
}

for (const mode of modes(t, 'the WebSocket limits')) {
  t.test(`on the ${mode.name}`, async (t) => {
    const closeAfter = 500;
    // A window of an hour: when the flooder is closed depends on how many frames it sent, never on
    // how fast this machine let it send them.
    const h = await startNode(t, { ...(await mode.env(t)), RATE_LIMIT_WINDOW_MS: '3600000', RATE_LIMIT_CLOSE_AFTER: String(closeAfter) });

    t.test('a socket flooding as fast as it can is closed with 1008 while another user keeps sending', async (t) => {
      const flooder = await (await h.user()).connect();
      const honest = await h.user();
      const friend = await h.user();
      const hc = await honest.connect();
      const fc = await friend.connect();

      // First as many frames as the bucket and the threshold allow, so the flooder is surely still
      // open while the honest user sends; then on until the server closes it.
      const { rateLimitBurst } = h.node.config;
      const firstWave = flood(flooder, rateLimitBurst + closeAfter);
      const bodies = ['during 1', 'during 2', 'during 3'];
      for (const body of bodies) {
        const ack = await hc.sendMessage({ to: friend.id }, body);
        t.match(ack, { type: 'message.sent', duplicate: false }, `"${body}", sent while the flood runs, is acknowledged`);
      }
      const limited = await flooder.next('error');
      t.equal(limited.code, 'rate_limited', 'the flooder is told it is rate limited');
      const sent = (await firstWave) + (await flood(flooder));
      const closed = await flooder.closed;
      t.equal(closed.code, CLOSE_CODES.policy_violation.code, 'the flooder is closed with 1008');
      t.equal(closed.reason, CLOSE_CODES.policy_violation.text, 'the close reason says it kept flooding');
      const answered = flooder.all('pong').length;
      t.ok(sent > answered + closeAfter, `it sent ${sent} frames, ${answered} answered, more than ${closeAfter} dropped`);
      t.equal(flooder.all('error').length, 1, 'it got one error frame in all, not one per dropped frame');

      for (const body of ['after 1', 'after 2']) {
        const ack = await hc.sendMessage({ to: friend.id }, body);
        t.match(ack, { type: 'message.sent', duplicate: false }, `"${body}", sent after the flood, is acknowledged`);
        bodies.push(body);
      }
      for (const body of bodies) await fc.next('message.new', (f) => f.message.body === body);
      t.same(
        fc.all('message.new').map((f) => f.message.body),
        bodies,
        'the friend received every message of the honest user, once each and in order',
      );
      t.equal(hc.all('error').length, 0, 'the honest user got no error');
    });

    t.test('a message split into more fragments than the limit closes with the documented 1008', async (t) => {
      const c = await (await h.user()).connect();
      sendFragmented(c, JSON.stringify({ type: 'ping', ref: 'in-limit' }), LIMITS.maxFragments);
      const pong = await c.next('pong');
      t.equal(pong.ref, 'in-limit', `a ping in ${LIMITS.maxFragments} fragments, the limit, is answered`);

      sendFragmented(c, JSON.stringify({ type: 'ping', ref: 'beyond' }), 20_000);
      const closed = await c.closed;
      t.equal(closed.code, CLOSE_CODES.too_many_fragments.code, 'a ping in 20,000 fragments closes with the code listed as too_many_fragments');
      t.equal(closed.code, 1008, 'which is 1008');
      t.equal(c.all('pong').length, 1, 'the fragmented ping beyond the limit was not answered');

      const oneMore = await (await h.user()).connect();
      sendFragmented(oneMore, JSON.stringify({ type: 'ping', ref: 'one-more' }), LIMITS.maxFragments + 1);
      const outcome = await Promise.race([oneMore.closed.then((c) => c.code), oneMore.next('pong').then(() => 'answered')]);
      t.equal(outcome, 1008, `one fragment more than the limit (${LIMITS.maxFragments + 1}) closes with 1008 instead of being answered`);

      const other = await (await h.user()).connect();
      other.send({ type: 'ping', ref: 'still' });
      t.equal((await other.next('pong')).ref, 'still', 'another socket on the node is still answered');
    });
  });
}
