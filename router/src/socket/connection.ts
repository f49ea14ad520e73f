/**
 * One client socket, as the rest of the router sees it. The connection actor owns the inbound side;
 * outbound frames are written here directly, without a mailbox hop: `ws.send` is synchronous and
 * keeps order, and a hop per outbound frame would cost more than the write itself.
 *
 * Every answer to a client goes through `reply` (or `replyPaced` for a long one) and every error
 * through `fail`, so an error frame has one shape and is always counted.
 */
import type { WebSocket } from 'ws';
import { systemScheduler, type Scheduler } from '../../../db/clock.ts';
import type { AppError } from '../../../protocol/app-error.ts';
import { CLOSE_CODES, type CloseReason } from '../../../protocol/errors.ts';
import type { PublicUser, ServerFrame } from '../../../protocol/frames.ts';
import type { RouterMetrics } from '../health/metrics.ts';

/** What every connection of a node shares: one object per node, so a socket carries one reference. */
export interface ConnectionPolicy {
  /** Bytes queued on a socket beyond which it is closed as a slow consumer. */
  sendBufferMaxBytes: number;
  /** Counts the error frames sent, by code. */
  errorsSent: RouterMetrics['errorsSent'];
  /** The stall deadline of a paced reply runs on it. Default: the real clock and timers. */
  scheduler?: Scheduler;
}

/** How long a paced reply waits for a socket to take what is queued before closing it as a slow consumer, ms. */
export const STALL_MS = 30_000;

export class Connection {
  /** False once a ping went unanswered; the next heartbeat closes the socket. */
  alive = true;
  /** Which of the heartbeat's ticks pings this socket (set by the gateway). */
  heartbeatSlice = 0;
  /** When this socket's session was last marked active (epoch ms; set by the gateway, kept by session.activity.ts). */
  sessionActiveAt = 0;
  private closing = false;

  readonly id: string;
  /** Who the socket speaks for; replaced when they change their profile (live/fanout.ts). */
  user: PublicUser;
  readonly sessionId: string;
  private readonly ws: WebSocket;
  private readonly policy: ConnectionPolicy;

  constructor(
    id: string,
    user: PublicUser,
    sessionId: string,
    ws: WebSocket,
    policy: ConnectionPolicy,
  ) {
    this.id = id;
    this.user = user;
    this.sessionId = sessionId;
    this.ws = ws;
    this.policy = policy;
  }

  get open(): boolean {
    return !this.closing && this.ws.readyState === this.ws.OPEN;
  }

  /** Bytes queued on the socket, not yet handed to the kernel. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  /** Answers the client. */
  reply(frame: ServerFrame): void {
    this.write(JSON.stringify(frame));
  }

  /** Answers the client with an `error` frame for `err`, matched to its request by `ref`, and counts it. */
  fail(err: AppError, ref?: string): void {
    const frame: ServerFrame = { type: 'error', code: err.code, message: err.message, ...(ref ? { ref } : {}) };
    if (this.write(JSON.stringify(frame))) this.policy.errorsSent.inc({ code: err.code });
  }

  /**
   * Sends one frame of a long answer (a sync, a history page) at the client's pace: while more than
   * half the send buffer is queued, resolves only once the socket has written this frame out, so
   * the next one is not even read from the store before then. A client that takes nothing for
   * STALL_MS is closed as a slow consumer. Waits on the write itself, not on a timer that polls.
   */
  async replyPaced(frame: ServerFrame): Promise<void> {
    let written!: () => void;
    const done = new Promise<void>((resolve) => (written = resolve));
    if (!this.write(JSON.stringify(frame), written)) return;
    if (this.buffered <= this.policy.sendBufferMaxBytes / 2) return;
    const stall = (this.policy.scheduler ?? systemScheduler).after(STALL_MS, () => {
      this.close('slow_consumer');
      written();
    });
    await done;
    stall.cancel();
  }

  /** Sends an already serialised frame (fan-out serialises once for every recipient). */
  sendText(text: string): void {
    this.write(text);
  }

  /**
   * Writes a frame unless the socket is closing or would queue too much; false when it was not
   * written. `onWritten` runs once the socket has handed it to the kernel, or failed to.
   */
  private write(text: string, onWritten?: () => void): boolean {
    if (!this.open) return false;
    // A client that stops reading must not make the server buffer without bound. A UTF-16 unit is
    // at most 3 UTF-8 bytes: count bytes exactly only when the cheap bound says it may matter.
    const queued = this.ws.bufferedAmount;
    const max = this.policy.sendBufferMaxBytes;
    if (queued + text.length * 3 > max && queued + Buffer.byteLength(text) > max) {
      this.close('slow_consumer');
      return false;
    }
    if (onWritten) this.ws.send(text, onWritten);
    else this.ws.send(text);
    return true;
  }

  /** Closes with one of the documented close codes; a peer that does not answer is cut after 1 s. */
  close(reason: CloseReason): void {
    if (this.closing) return;
    this.closing = true;
    const { code, text } = CLOSE_CODES[reason];
    this.ws.close(code, text.slice(0, 120));
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  /** Sends a WebSocket ping; the pong handler sets `alive` again. */
  ping(): void {
    this.alive = false;
    this.ws.ping();
  }

  /** Cuts the TCP connection at once (heartbeat timeout: the peer is gone). */
  terminate(): void {
    this.closing = true;
    this.ws.terminate();
  }
}
