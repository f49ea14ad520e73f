/**
 * A Connection's ways of answering: `fail` builds the one error frame and counts it, `replyPaced`
 * waits for the socket to write while too much is queued, and gives up on a client that takes
 * nothing. On a socket that records what it is given and writes only when the test says so, and on
 * the test's clock.
 */
import t from 'tap';
import { setImmediate as turn } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { AppError } from '../../protocol/app-error.ts';
import { CLOSE_CODES } from '../../protocol/errors.ts';
import type { ServerFrame } from '../../protocol/frames.ts';
import { RouterMetrics } from '../src/health/metrics.ts';
import { Connection, STALL_MS } from '../src/socket/connection.ts';
import { ManualScheduler } from '../../test/support/clock.ts';

/** Just enough of a ws socket: keeps what is sent as queued until `flush()` writes it out. */
class SlowSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  private pending: Array<{ bytes: number; written?: () => void }> = [];

  send(text: string, written?: () => void): void {
    this.frames.push(JSON.parse(text) as ServerFrame);
    const bytes = Buffer.byteLength(text);
    this.bufferedAmount += bytes;
    this.pending.push({ bytes, ...(written ? { written } : {}) });
  }
  /** Writes everything queued out to the kernel. */
  flush(): void {
    for (const { bytes, written } of this.pending.splice(0)) {
      this.bufferedAmount -= bytes;
      written?.();
    }
  }
  close(code: number): void {
    this.closeCode = code;
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

const MAX = 64 * 1024;

function connection() {
  const ws = new SlowSocket();
  const metrics = new RouterMetrics({ connections: () => 1, chatroomActors: () => 0 });
  const scheduler = new ManualScheduler();
  const conn = new Connection('c1', { id: 7, handle: 'flo', displayName: 'Flo' }, 's1', ws as unknown as WebSocket, {
    sendBufferMaxBytes: MAX,
    errorsSent: metrics.errorsSent,
    scheduler,
  });
  const counted = async (code: string) => (await metrics.errorsSent.get()).values.find((v) => v.labels.code === code)?.value ?? 0;
  return { ws, conn, scheduler, counted };
}

/** A page big enough that two of them pass half the send buffer. */
const page = (n: number): ServerFrame => ({ type: 'history.page', room: '1-2', messages: [], hasMore: n > 0, ref: 'x'.repeat(20_000) + n });

t.test('fail sends one error frame with the code, message and ref, and counts it', async (t) => {
  const { ws, conn, counted } = connection();
  conn.fail(new AppError('room_not_found'), 'r1');
  conn.fail(new AppError('invalid_frame', 'body: too_big'));
  t.match(ws.frames, [
    { type: 'error', code: 'room_not_found', message: /./, ref: 'r1' },
    { type: 'error', code: 'invalid_frame', message: 'body: too_big' },
  ], 'both frames, each with its code and message');
  t.notOk('ref' in ws.frames[1]!, 'no ref when the request had none');
  t.equal(await counted('room_not_found'), 1, 'the first is counted under its code');
  t.equal(await counted('invalid_frame'), 1, 'and the second under its own');
  conn.close('service_restart');
  conn.fail(new AppError('rate_limited'));
  t.equal(await counted('rate_limited'), 0, 'an error a closed socket never gets is not counted');
});

t.test('a paced reply goes on at once while little is queued', async (t) => {
  const { ws, conn } = connection();
  let done = false;
  void conn.replyPaced(page(1)).then(() => (done = true));
  await turn();
  t.ok(done, 'resolved without the socket writing anything');
  t.equal(ws.frames.length, 1, 'the frame was sent');
});

t.test('a paced reply waits for the socket to write it once more than half the buffer is queued', async (t) => {
  const { ws, conn, scheduler } = connection();
  await conn.replyPaced(page(2));
  let done = false;
  void conn.replyPaced(page(1)).then(() => (done = true));
  await turn();
  t.ok(ws.bufferedAmount > MAX / 2, 'more than half the buffer is queued');
  t.notOk(done, 'the second page waits');
  scheduler.advance(STALL_MS - 1);
  await turn();
  t.notOk(done, 'and keeps waiting, on no timer, until just before the stall deadline');
  ws.flush();
  await turn();
  t.ok(done, 'it goes on once the socket has written it out');
  t.equal(ws.closeCode, undefined, 'and the socket stays open');
});

t.test('a client that takes nothing for the stall deadline is closed as a slow consumer', async (t) => {
  const { ws, conn, scheduler } = connection();
  await conn.replyPaced(page(2));
  let done = false;
  void conn.replyPaced(page(1)).then(() => (done = true));
  await turn();
  t.notOk(done, 'the second page waits');
  scheduler.advance(STALL_MS);
  await turn();
  t.equal(ws.closeCode, CLOSE_CODES.slow_consumer.code, 'the socket is closed as a slow consumer');
  t.ok(done, 'and the paced reply returns, so the sync that sent it ends');
});
