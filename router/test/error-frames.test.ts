/**
 * Every error frame a client gets is counted in `messenger_error_frames_total`, by code, whichever
 * part of the router refused the frame: the edge (decoding, routing) or a chatroom actor. Through a
 * real node, real sockets and the node's metrics listener.
 */
import t from 'tap';
import type { ErrorCode } from '../../protocol/errors.ts';
import { directRoomId } from '../../protocol/frames.ts';
import { startNode } from '../../test/support/router.harness.ts';

t.test('the errors-sent metric counts every error frame sent, by code', async (t) => {
  const token = 'metrics-token-for-error-frames';
  const h = await startNode(t, { METRICS_PORT: '0', METRICS_TOKEN: token });
  const scrape = async (): Promise<Map<string, number>> => {
    const res = await fetch(`http://127.0.0.1:${h.node.metricsPort}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const counts = new Map<string, number>();
    for (const [, code, value] of (await res.text()).matchAll(/^messenger_error_frames_total\{code="([a-z_]+)"\} (\d+)$/gm)) counts.set(code!, Number(value));
    return counts;
  };
  const alice = await h.user('alice');
  const bob = await h.user('bob');
  const carol = await h.user('carol');
  const a = await alice.connect();
  const c = await carol.connect();
  t.match(await c.sendMessage({ to: bob.id }, 'between bob and carol'), { type: 'message.sent' }, 'a room alice is not in exists');
  const theirs = directRoomId(bob.id, carol.id);
  await a.sendMessage({ to: bob.id }, 'first', 'taken');

  /** Sends `frame`, waits for the error answering it and checks it was counted once, and nothing else was. */
  const refused = async (what: string, frame: object | string, code: ErrorCode) => {
    const before = await scrape();
    const errors = a.all('error').length;
    a.send(frame);
    const err = await a.next('error', (f) => f.code === code);
    const after = await scrape();
    t.equal(a.all('error').length, errors + 1, `${what}: one error frame (${err.code})`);
    t.equal((after.get(code) ?? 0) - (before.get(code) ?? 0), 1, `${what}: counted once under ${code}`);
    const others = [...after].filter(([k, n]) => k !== code && n !== (before.get(k) ?? 0));
    t.same(others, [], `${what}: no other code counted`);
  };

  await refused('a history.get for a room alice is not in', { type: 'history.get', ref: 'h1', room: theirs }, 'room_not_found');
  await refused('a message to a room alice is not in', { type: 'message.send', room: theirs, clientMsgId: 'm1', body: 'hi' }, 'room_not_found');
  await refused('a frame that is not JSON', '{not json', 'invalid_frame');
  await refused('a frame of an unknown type', { type: 'teleport', ref: 'x' }, 'unknown_type');
  await refused('a message to oneself', { type: 'message.send', to: alice.id, clientMsgId: 'm2', body: 'me' }, 'invalid_recipient');
  await refused('a message to nobody', { type: 'message.send', to: 999_999, clientMsgId: 'm3', body: 'anyone?' }, 'user_not_found');
  await refused('a reused clientMsgId with another body', { type: 'message.send', to: bob.id, clientMsgId: 'taken', body: 'second' }, 'conflict');
  const total = [...(await scrape()).values()].reduce((sum, n) => sum + n, 0);
  t.equal(total, a.all('error').length + c.all('error').length, 'the metric adds up to the error frames the clients got');
});
