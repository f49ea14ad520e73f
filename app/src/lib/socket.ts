/**
 * The one typed WebSocket client of a tab (docs/protocol.md): connects with the `messenger.v1`
 * subprotocol, reconnects with jittered exponential backoff, and reports its state. Frames are the
 * shared protocol types; the chat modules (chat/) hold every rule about messages.
 */
import { SUBPROTOCOL, type ClientFrame, type ServerFrame } from '$protocol/frames.ts';

export type ConnectionState = 'online' | 'connecting' | 'offline';

export interface SocketEvents {
  /** A frame from the server (the first is always `hello`). */
  frame(frame: ServerFrame): void;
  state(state: ConnectionState): void;
  /** The server ended the session (close 4001) or the account was deleted (4003): sign in again. */
  signedOut(): void;
}

/** First retry delay, ms; doubles per failure up to MAX_DELAY_MS, each drawn uniformly from [0, delay] ("full jitter"). */
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
/** A ping this often keeps proxies from idling the socket out and detects a dead one. */
const PING_MS = 25_000;

export class ChatSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private stopped = true;
  state: ConnectionState = 'offline';

  constructor(
    private readonly events: SocketEvents,
    private readonly url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  ) {}

  /** Starts connecting (and keeps reconnecting until stop()). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOffline);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOffline);
    this.clearTimers();
    this.ws?.close(1000);
    this.ws = null;
    this.setState('offline');
  }

  /** Sends when open; false when the frame could not go out (the caller keeps it, e.g. in the outbox). */
  send(frame: ClientFrame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN || this.state !== 'online') return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private onOnline = () => {
    // The network is back: try now instead of waiting out the backoff.
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.clearTimers();
    this.connect();
  };

  private onOffline = () => {
    // The browser knows the network is gone; the socket may not notice for a long time.
    this.ws?.close(4000);
    this.dropped();
  };

  private connect(): void {
    if (this.stopped) return;
    if (!navigator.onLine) return this.setState('offline');
    // After an attempt that never got through, the app is offline for the user, whatever
    // navigator.onLine claims (it says online behind a dead network or when the server is down):
    // the retries go on quietly and "Connecting…" is shown again only when a reconnect has a chance.
    if (this.attempt === 0 || this.state !== 'offline') this.setState('connecting');
    const ws = new WebSocket(this.url, SUBPROTOCOL);
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (ws !== this.ws || typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'hello') {
        this.attempt = 0;
        this.setState('online');
        this.pinger = setInterval(() => this.send({ type: 'ping' }), PING_MS);
      }
      this.events.frame(frame);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      // Neither is worth a reconnect: the session is gone (4001), or the account with it (4003).
      if (ev.code === 4001 || ev.code === 4003) {
        this.stop();
        this.events.signedOut();
        return;
      }
      this.dropped();
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
  }

  private dropped(): void {
    const wasOnline = this.state === 'online';
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.onmessage = ws.onclose = null;
    this.clearTimers();
    if (this.stopped) return;
    // A socket that was up is being reconnected; one that never got through means no way to the server.
    this.setState(navigator.onLine && wasOnline ? 'connecting' : 'offline');
    if (!navigator.onLine) return; // 'online' reconnects
    const delay = Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.pinger) clearInterval(this.pinger);
    this.timer = this.pinger = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.events.state(state);
  }
}
