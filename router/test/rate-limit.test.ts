/**
 * The per-user rate limit and the flood close, driven by a clock the test sets: the real connection
 * actor, registry, bucket and refusal window, with a socket that records what the server writes.
 */
import t, { type Test } from 'tap';
import { setImmediate as drained } from 'node:timers/promises';
import { dispatch, start, stop, type Ref } from 'nact';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../../protocol/errors.ts';
import { LIMITS, type ServerFrame } from '../../protocol/frames.ts';
import { runActorsOnMicrotasks } from '../src/actor.scheduling.ts';
import { loadConfig } from '../src/config.ts';
import { spawnConnection, type ConnectionActorDeps, type ConnectionMsg } from '../src/socket/connection.actor.ts';
import { ConnectionRegistry, type RateLimit } from '../src/socket/registry.ts';
import { Connection } from '../src/socket/connection.ts';
import { createLogger } from '../../kit/logger.ts';
import { PrivacyCache } from '../src/privacy/privacy.cache.ts';
import { RouterMetrics } from '../src/health/metrics.ts';
import type { SyncDeps } from '../src/chat/sync.ts';

/** The documented defaults (20/s, burst 60, 2000 refusals in 10 s), read the way the router reads them. */
const config = loadConfig({});
const DEFAULTS: RateLimit = {
  perSec: config.rateLimitPerSec,
  burst: config.rateLimitBurst,
  windowMs: config.rateLimitWindowMs,
  closeAfter: config.rateLimitCloseAfter,
};

/** Just enough of a ws socket for a Connection: records frames and the close. */
class RecordingSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;

  send(text: string): void {
    this.frames.push(JSON.parse(text) as ServerFrame);
  }
  close(code: number): void {
    this.closeCode = code;
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
  }
  errors(): ServerFrame[] {
    return this.frames.filter((f) => f.type === 'error');
  }
  pongs(): number {
    return this.frames.filter((f) => f.type === 'pong').length;
  }
}

/** One user's socket on a registry whose clock is `clock.now` (ms), with its connection actor. */
function socketOf(t: Test, rate: RateLimit = DEFAULTS) {
  runActorsOnMicrotasks();
  const system = start();
  t.teardown(() => stop(system));
  const clock = { now: 1_000_000 };
  const registry = new ConnectionRegistry(rate, () => clock.now);
  const metrics = new RouterMetrics({ connections: () => registry.size, chatroomActors: () => 0 });
  const deps: ConnectionActorDeps = {
    log: createLogger('silent'),
    registry,
    metrics,
    // The frames of these tests are pings: none reaches a room or reads for a sync.
    rooms: { tell: () => t.fail('a frame reached a room') },
    sync: {} as SyncDeps,
    forward: {} as ConnectionActorDeps['forward'],
    privacy: new PrivacyCache(async () => ({ settings: { lastSeen: 'everyone', readReceipts: true }, blocked: [], blockedBy: [] })),
    activity: { seen: (_id, at) => at },
  };
  const ws = new RecordingSocket();
  const conn = new Connection('c1', { id: 7, handle: 'flo', displayName: 'Flo' }, 's1', ws as unknown as WebSocket, {
    sendBufferMaxBytes: 1 << 20,
    errorsSent: metrics.errorsSent,
  });
  registry.add(conn);
  const actor: Ref<ConnectionMsg> = spawnConnection(system, conn, deps);
  let sent = 0;
  return {
    ws,
    clock,
    /** Frames the client sent before the server closed the socket (what it read before the close). */
    sentBeforeClose: () => sent,
    /**
     * Sends `count` pings at `perSec` frames a second of the test's clock, each handled before the
     * next; stops once the server closes the socket.
     */
    async sendAtRate(perSec: number, count: number): Promise<void> {
      for (let i = 0; i < count && ws.closeCode === undefined; i++) {
        clock.now += 1000 / perSec;
        dispatch(actor, { type: 'frame', text: '{"type":"ping"}' });
        sent++;
        // Pings touch no I/O: the actor handles one on microtasks, all done before the next turn.
        await drained();
      }
    },
    /** Sends `count` frames at one instant (a burst), then lets the actor handle them all. */
    async burst(frames: string[]): Promise<void> {
      for (const text of frames) dispatch(actor, { type: 'frame', text });
      sent += frames.length;
      await drained();
    },
  };
}

t.test('a client flooding above the refill rate is closed with 1008 once it passes the threshold in the window', async (t) => {
  for (const perSec of [400, 1000]) {
    t.test(`at ${perSec} frames/s`, async (t) => {
      const s = socketOf(t);
      const started = s.clock.now;
      await s.sendAtRate(perSec, 20_000);
      t.equal(s.ws.closeCode, CLOSE_CODES.policy_violation.code, 'closed with 1008 (policy_violation)');
      const refused = s.sentBeforeClose() - s.ws.pongs();
      t.equal(refused, DEFAULTS.closeAfter + 1, `closed at the refusal past ${DEFAULTS.closeAfter} (${refused} refused)`);
      const seconds = (s.clock.now - started) / 1000;
      t.ok(seconds < DEFAULTS.windowMs / 1000, `closed within one window (${seconds.toFixed(1)} s of flooding)`);
      // The refill let frames through all along: counting refusals in a row would never have closed it.
      t.ok(s.ws.pongs() > DEFAULTS.burst, `frames kept getting through as tokens refilled (${s.ws.pongs()} pongs)`);
      t.equal(s.ws.errors().length, 1, 'one rate_limited error in all, not one per dropped frame');
      t.match(s.ws.errors()[0], { type: 'error', code: 'rate_limited' }, 'the error says rate_limited');
    });
  }
});

t.test('a client sending under the rate is never refused nor closed', async (t) => {
  const s = socketOf(t);
  // Ten minutes at 19 frames/s: sixty windows.
  await s.sendAtRate(19, 19 * 600);
  t.equal(s.ws.closeCode, undefined, 'the socket is still open');
  t.equal(s.ws.errors().length, 0, 'no error frame');
  t.equal(s.ws.pongs(), 19 * 600, 'every ping got its pong');
});

t.test('error replies are bounded: one rate_limited error per socket per window', async (t) => {
  t.test('a client twice over the rate for a minute gets one error per window and is not closed', async (t) => {
    const s = socketOf(t);
    await s.sendAtRate(40, 40 * 60);
    t.equal(s.ws.closeCode, undefined, 'a slow overflow, far below the close threshold, stays open');
    const windows = 60_000 / DEFAULTS.windowMs;
    t.equal(s.ws.errors().length, windows, `${windows} errors for ${windows} windows`);
    t.ok(s.ws.pongs() >= 20 * 60, `it still gets the rate's worth of answers (${s.ws.pongs()} pongs)`);
  });

  t.test('a window is counted per socket, and starts again after it ends', async (t) => {
    const s = socketOf(t, { perSec: 1, burst: 1, windowMs: 1000, closeAfter: 5 });
    await s.burst(Array(6).fill('{"type":"ping"}'));
    t.equal(s.ws.pongs(), 1, 'the burst of one was answered');
    t.equal(s.ws.errors().length, 1, 'five refusals, one error');
    t.equal(s.ws.closeCode, undefined, 'five refusals are not more than five: still open');
    s.clock.now += 1000;
    await s.burst(Array(6).fill('{"type":"ping"}'));
    t.equal(s.ws.pongs(), 2, 'one token refilled in a second');
    t.equal(s.ws.errors().length, 2, 'a new window, a new error');
    t.equal(s.ws.closeCode, undefined, 'ten refusals, five in the old window and five in the new one: still open');
    await s.burst(['{"type":"ping"}']);
    t.equal(s.ws.closeCode, CLOSE_CODES.policy_violation.code, 'the sixth refusal of the new window closes it');
  });
});

t.test('a well-behaved bursty client is never closed', async (t) => {
  t.test('the app resyncing after a reconnect with news in every room and a full outbox', async (t) => {
    const s = socketOf(t);
    // What app/src/lib/chat/ (the store, on `apply`'s effects) sends on a reconnect, all at once: a sync of up to
    // syncRoomsMax rooms, an ack per room that had news, a read for the open room, then the outbox.
    const rooms = Array.from({ length: LIMITS.syncRoomsMax }, (_, i) => `${i + 1}-${i + 2}`);
    const sync = JSON.stringify({ type: 'sync', ref: 'sync', rooms: rooms.map((room) => ({ room, lastSeq: 1 })) });
    const acks = rooms.map((room) => JSON.stringify({ type: 'message.ack', room, seq: 2 }));
    const read = JSON.stringify({ type: 'message.read', room: rooms[0], seq: 2 });
    const outbox = Array.from({ length: 200 }, (_, i) => JSON.stringify({ type: 'message.send', to: 9, clientMsgId: `o${i}`, body: 'hi' }));
    // The worst case: the bucket is empty (the previous socket had just used it up), so every
    // frame of the resync is refused.
    await s.burst(Array(DEFAULTS.burst).fill('{"type":"ping"}'));
    await s.burst([sync, ...acks, read, ...outbox]);
    t.equal(s.ws.closeCode, undefined, 'the socket is still open after the whole resync');
    t.equal(s.ws.errors().length, 1, 'it was told once that it is limited');
    // The app then goes on at its usual pace, and resends what got no answer.
    await s.sendAtRate(5, 5 * 60);
    t.equal(s.ws.closeCode, undefined, 'still open a minute later');
    t.equal(s.ws.errors().length, 1, 'and never refused again at its usual pace');
  });

  t.test('a burst of several times the bucket, repeated once a window, stays open', async (t) => {
    const s = socketOf(t);
    for (let i = 0; i < 30; i++) {
      await s.burst(Array(5 * DEFAULTS.burst).fill('{"type":"ping"}'));
      s.clock.now += DEFAULTS.windowMs;
    }
    t.equal(s.ws.closeCode, undefined, 'thirty bursts later the socket is open');
    t.equal(s.ws.errors().length, 30, 'one error per burst');
  });
});
