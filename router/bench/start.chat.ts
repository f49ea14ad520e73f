/**
 * Two people as a new user's browser would make them, through the public API only: each signs up
 * with a passkey (a software authenticator: real crypto, verified by the router), opens the
 * WebSocket with the session cookie it was given, and they exchange messages in turns, each one
 * acknowledged to its sender and delivered to the other before the next goes. Used by
 * `npm run bench:start` (start.bench.ts) to put the embedded default through a first chat.
 */
import { WebSocket } from 'ws';
import type { ServerFrame } from '../../protocol/frames.ts';
import { SUBPROTOCOL } from '../../protocol/frames.ts';
import { call, Jar } from '../../test/support/http.client.ts';
import { SoftCredential } from '../../test/support/webauthn.authenticator.ts';

interface Person {
  id: number;
  ws: WebSocket;
  /** Resolves with the first frame `match` accepts from now on. */
  next(match: (f: ServerFrame) => boolean, what: string): Promise<ServerFrame>;
}

/** Signs `handle` up at `base` (whose origin is `origin`) and connects its WebSocket. */
async function signUpAndConnect(base: string, origin: string, handle: string): Promise<Person> {
  const jar = new Jar();
  const post = async (path: string, body: unknown) => {
    const answer = jar.update(await call(base, path, { body, origin, cookie: jar.header() }));
    if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const options = await post('/api/passkeys/signup/options', { handle, displayName: handle });
  const { user } = (await post('/api/passkeys/signup/verify', new SoftCredential(origin).attest(options))) as { user: { id: number } };
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`, SUBPROTOCOL, { headers: { cookie: jar.header() ?? '', origin } });
  const waiting: Array<{ match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> = [];
  const seen: string[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as ServerFrame;
    seen.push(String(data).slice(0, 200));
    if (seen.length > 10) seen.shift();
    const i = waiting.findIndex((w) => w.match(frame));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(frame);
  });
  const next = (match: (f: ServerFrame) => boolean, what: string) =>
    new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${handle}: no ${what} within 30 s; last frames:\n${seen.slice(-6).join('\n')}`)), 30_000);
      waiting.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  const hello = next((f) => f.type === 'hello', 'hello');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await hello;
  return { id: user.id, ws, next };
}

/**
 * Two new users at `base` (e.g. http://localhost:3000) exchange `messages` messages, alternately,
 * one every `paceMs` (default 100 ms);
 * resolves once the last is delivered, with a function that closes both sockets (they stay
 * open until then, as two people with the app open).
 */
export async function twoPeopleChat(base: string, messages: number, prefix: string, paceMs = 100): Promise<() => void> {
  const origin = new URL(base).origin;
  const a = await signUpAndConnect(base, origin, `${prefix}a`);
  const b = await signUpAndConnect(base, origin, `${prefix}b`);
  const close = () => {
    a.ws.close();
    b.ws.close();
  };
  try {
    for (let i = 0; i < messages; i++) {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      const clientMsgId = `${prefix}-${i}`;
      const body = `message ${i} of ${messages}: hello from the start benchmark`;
      const acked = from.next((f) => (f.type === 'message.sent' || f.type === 'error') && f.ref === clientMsgId, `the ack of ${clientMsgId}`);
      const delivered = to.next((f) => f.type === 'message.new' && f.message.body === body, `the delivery of ${clientMsgId}`);
      from.ws.send(JSON.stringify({ type: 'message.send', to: to.id, body, clientMsgId }));
      const [ack, frame] = await Promise.all([acked, delivered]);
      if (ack.type !== 'message.sent') throw new Error(`${clientMsgId} refused: ${JSON.stringify(ack)}`);
      if (frame.type === 'message.new') to.ws.send(JSON.stringify({ type: 'message.ack', room: frame.message.room, seq: frame.message.seq }));
      // A person's pace, well inside the per-user rate limit (RATE_LIMIT_PER_SEC, 20 frames/s).
      await new Promise((resolve) => setTimeout(resolve, paceMs));
    }
  } catch (err) {
    close();
    throw err;
  }
  return close;
}
