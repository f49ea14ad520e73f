/**
 * One client socket, as the rest of the router sees it. The connection actor owns the inbound side;
 * outbound frames are written here directly, without a mailbox hop: `ws.send` is synchronous and
 * keeps order, and a hop per outbound frame would cost more than the write itself.
 */
import type { WebSocket } from 'ws';
import { CLOSE_CODES, type CloseReason } from '../../../protocol/errors.ts';
import type { PublicUser, ServerFrame } from '../../../protocol/frames.ts';

export class Connection {
  /** False once a ping went unanswered; the next heartbeat closes the socket. */
  alive = true;
  /** Which of the heartbeat's ticks pings this socket (set by the gateway). */
  heartbeatSlice = 0;
  private closing = false;

  readonly id: string;
  readonly user: PublicUser;
  readonly sessionId: string;
  private readonly ws: WebSocket;
  /** Bytes queued on the socket beyond which it is closed as a slow consumer. */
  private readonly sendBufferMaxBytes: number;

  constructor(
    id: string,
    user: PublicUser,
    sessionId: string,
    ws: WebSocket,
    sendBufferMaxBytes: number,
  ) {
    this.id = id;
    this.user = user;
    this.sessionId = sessionId;
    this.ws = ws;
    this.sendBufferMaxBytes = sendBufferMaxBytes;
  }

  get open(): boolean {
    return !this.closing && this.ws.readyState === this.ws.OPEN;
  }

  /** Bytes queued on the socket, not yet handed to the kernel. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Sends an already serialised frame (fan-out serialises once for every recipient). */
  sendText(text: string): void {
    if (!this.open) return;
    // A client that stops reading must not make the server buffer without bound. A UTF-16 unit is
    // at most 3 UTF-8 bytes: count bytes exactly only when the cheap bound says it may matter.
    const queued = this.ws.bufferedAmount;
    if (queued + text.length * 3 > this.sendBufferMaxBytes && queued + Buffer.byteLength(text) > this.sendBufferMaxBytes) {
      this.close('slow_consumer');
      return;
    }
    this.ws.send(text);
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
