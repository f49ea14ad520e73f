/**
 * The load generator: C WebSocket clients in this process as C/2 one-to-one conversations, driven
 * open-loop. Every message has an intended send time computed from the rate alone, is sent on
 * schedule whatever the replies, and carries that time in its body; latency is the recipient's
 * receive time minus the intended time, so a server that falls behind cannot hide its queueing
 * (no coordinated omission).
 *
 * Body: `<step>|<k>|<intended ms>|<padding>`; clientMsgId: `m<k>`, k counting per sender over the
 * whole run, so the recipient detects duplicates by k and order violations by the room's seq.
 * Receivers acknowledge as a real client does: one cumulative message.ack per room per
 * event-loop turn, with the highest seq seen.
 *
 * Hot paths build frames by string concatenation and parse each frame once.
 */
import { WebSocket } from 'ws';
import { directRoomId, SUBPROTOCOL } from '../../protocol/frames.ts';
import { Samples } from './stats.ts';

export interface BenchUser {
  id: number;
  /** Empty for the bare forwarder, which takes the id from the URL. */
  sessionId: string;
}

/** How a client reaches the server under test. */
export interface Endpoint {
  url(user: BenchUser): string;
  headers(user: BenchUser): Record<string, string>;
}

export interface StepPlan {
  /** Distinct per step of one LoadClient; goes into every body. */
  id: number;
  /** Offered load, messages a second over all connections. */
  rate: number;
  /** Sent at the rate but not measured, ms. */
  warmupMs: number;
  /** The measured window, ms. */
  windowMs: number;
  /** Longest wait for stragglers after the last send, ms. */
  drainMaxMs: number;
  /** The drain also ends after this long without a delivery, ms. */
  quietMs: number;
  /** Called when the measured window starts and ends (CPU sampling). */
  onWindow?: (edge: 'start' | 'end') => void;
}

export interface RunTotals {
  sent: number;
  /** Distinct messages that reached their recipient. */
  delivered: number;
  /** message.sent frames, and how many of them said duplicate: true. */
  acks: number;
  serverDuplicates: number;
  duplicates: number;
  orderViolations: number;
  /** Deliveries that came after their step's drain had ended. */
  late: number;
  sendFailures: number;
}

export interface StepResult {
  rate: number;
  windowMs: number;
  /** Messages sent in the step (warm-up included) and how many reached their recipient. */
  sent: number;
  delivered: number;
  /** Deliveries received inside the measured window, per second. */
  sustained: number;
  /** Latency of the messages intended inside the window, ms. */
  p50: number;
  p99: number;
  max: number;
  duplicates: number;
  orderViolations: number;
  /** message.sent frames; how many of them said duplicate: true. */
  acks: number;
  serverDuplicates: number;
  /** Delivered receipts received by senders. */
  receipts: number;
  errors: number;
  errorCodes: Record<string, number>;
  /** Sends skipped because the socket was closed. */
  sendFailures: number;
  /** Worst lag of the scheduler behind an intended send time, ms (the bench's own delay). */
  schedulerLagMax: number;
  drainMs: number;
}

interface Step {
  plan: StepPlan;
  windowStart: number;
  windowEnd: number;
  closed: boolean;
  lastDelivery: number;
  sent: number;
  delivered: number;
  deliveredInWindow: number;
  latencies: Samples;
  duplicates: number;
  orderViolations: number;
  acks: number;
  serverDuplicates: number;
  receipts: number;
  errors: number;
  errorCodes: Record<string, number>;
  sendFailures: number;
  schedulerLagMax: number;
  /** Deliveries that came after the step's drain ended. */
  late: number;
}

class Client {
  ws!: WebSocket;
  /** Messages sent by this client so far: the next k. */
  k = 0;
  /** Highest room seq received. */
  lastSeq = 0;
  /** One byte per k of the peer: 1 once received. */
  seen = new Uint8Array(256);
  ackSeq = 0;
  ackDirty = false;
  closing = false;
  readonly sendPrefix: string;
  readonly ackPrefix: string;

  readonly user: BenchUser;
  readonly peer: number;

  constructor(
    user: BenchUser,
    peer: number,
  ) {
    this.user = user;
    this.peer = peer;
    this.sendPrefix = `{"type":"message.send","to":${peer},"clientMsgId":"m`;
    this.ackPrefix = `{"type":"message.ack","room":"${directRoomId(user.id, peer)}","seq":`;
  }
}

export interface ConnectOptions {
  /** Handshakes in flight at once. Default 50. */
  concurrency?: number;
  /** Longest wait for one client's hello, ms. Default 15 000. */
  timeoutMs?: number;
  /** Message body length, characters. Default 64. */
  bodyBytes?: number;
}

export class LoadClient {
  private readonly steps: Step[] = [];
  private current: Step | undefined;
  private readonly dirty: Client[] = [];
  private ackScheduled = false;
  private rr = 0;
  private padding = '';
  /** Sockets that closed while not being closed by us. */
  unexpectedCloses = 0;
  /** message.sent frames over the whole run, and how many said duplicate: true. */
  private acksTotal = 0;
  private serverDuplicatesTotal = 0;
  /** performance.now() of the last message.new or message.sent. */
  private lastActivity = 0;

  private readonly clients: Client[];

  private constructor(clients: Client[]) {
    this.clients = clients;
  }

  /** Opens one client per user; users 2i and 2i+1 talk to each other. */
  static async connect(users: readonly BenchUser[], endpoint: Endpoint, options: ConnectOptions = {}): Promise<LoadClient> {
    if (users.length < 2 || users.length % 2 !== 0) throw new Error('an even number of users (>= 2) is needed');
    const clients = users.map((u, i) => new Client(u, users[i ^ 1]!.id));
    const load = new LoadClient(clients);
    const bodyBytes = options.bodyBytes ?? 64;
    // `step|k|intended|` takes about 20 characters.
    load.padding = 'x'.repeat(Math.max(1, bodyBytes - 20));
    const concurrency = options.concurrency ?? 50;
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < clients.length) await load.open(clients[next++]!, endpoint, options.timeoutMs ?? 15_000);
        }),
      );
    } catch (err) {
      await load.close();
      throw err;
    }
    return load;
  }

  get size(): number {
    return this.clients.length;
  }

  private open(c: Client, endpoint: Endpoint, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(endpoint.url(c.user), SUBPROTOCOL, {
        headers: endpoint.headers(c.user),
        perMessageDeflate: false,
        skipUTF8Validation: true,
        handshakeTimeout: timeoutMs,
      });
      c.ws = ws;
      const timer = setTimeout(() => fail(new Error(`no hello for user ${c.user.id} within ${timeoutMs} ms`)), timeoutMs);
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused for user ${c.user.id}: HTTP ${res.statusCode}`)));
      ws.on('error', (err) => fail(err));
      ws.on('close', () => {
        if (!settled) fail(new Error(`socket of user ${c.user.id} closed before hello`));
        else if (!c.closing) this.unexpectedCloses++;
      });
      ws.on('message', (data) => {
        if (settled) return this.onFrame(c, data as Buffer);
        const type = (JSON.parse((data as Buffer).toString()) as { type?: string }).type;
        if (type !== 'hello') return fail(new Error(`user ${c.user.id} got ${type} instead of hello`));
        settled = true;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onFrame(c: Client, data: Buffer): void {
    const now = performance.now();
    const f = JSON.parse(data.toString());
    switch (f.type) {
      case 'message.new':
        return this.onMessage(c, f.message, now);
      case 'message.sent':
        this.acksTotal++;
        this.lastActivity = now;
        if (f.duplicate) this.serverDuplicatesTotal++;
        if (this.current) {
          this.current.acks++;
          if (f.duplicate) this.current.serverDuplicates++;
        }
        return;
      case 'receipt':
        if (this.current && f.kind === 'delivered' && f.user !== c.user.id) this.current.receipts++;
        return;
      case 'error':
        if (this.current) {
          this.current.errors++;
          this.current.errorCodes[f.code] = (this.current.errorCodes[f.code] ?? 0) + 1;
        }
        return;
    }
  }

  private onMessage(c: Client, m: { seq: number; body: string }, now: number): void {
    const body = m.body;
    const a = body.indexOf('|');
    const b = body.indexOf('|', a + 1);
    const d = body.indexOf('|', b + 1);
    const step = this.steps[Number(body.slice(0, a))];
    const k = Number(body.slice(a + 1, b));
    const intended = Number(body.slice(b + 1, d));
    if (!step) return;
    while (k >= c.seen.length) {
      const bigger = new Uint8Array(c.seen.length * 2);
      bigger.set(c.seen);
      c.seen = bigger;
    }
    if (c.seen[k] === 1) {
      step.duplicates++;
      return;
    }
    c.seen[k] = 1;
    if (m.seq <= c.lastSeq) step.orderViolations++;
    else c.lastSeq = m.seq;
    step.delivered++;
    step.lastDelivery = now;
    this.lastActivity = now;
    if (step.closed) step.late++;
    if (intended >= step.windowStart && intended < step.windowEnd) step.latencies.push(now - intended);
    const cur = this.current;
    if (cur && now >= cur.windowStart && now < cur.windowEnd) cur.deliveredInWindow++;
    if (m.seq > c.ackSeq) {
      c.ackSeq = m.seq;
      if (!c.ackDirty) {
        c.ackDirty = true;
        this.dirty.push(c);
        if (!this.ackScheduled) {
          this.ackScheduled = true;
          setImmediate(this.flushAcks);
        }
      }
    }
  }

  /** One cumulative ack per room per event-loop turn, as a real client coalesces them. */
  private readonly flushAcks = (): void => {
    this.ackScheduled = false;
    for (const c of this.dirty) {
      c.ackDirty = false;
      if (c.ws.readyState === WebSocket.OPEN) c.ws.send(`${c.ackPrefix}${c.ackSeq}}`);
    }
    this.dirty.length = 0;
  };

  /** Runs one step: warm-up and window at the plan's rate, then waits for stragglers. */
  async runStep(plan: StepPlan): Promise<StepResult> {
    const start = performance.now() + 5;
    const step: Step = {
      plan,
      windowStart: start + plan.warmupMs,
      windowEnd: start + plan.warmupMs + plan.windowMs,
      closed: false,
      lastDelivery: start,
      sent: 0,
      delivered: 0,
      deliveredInWindow: 0,
      latencies: new Samples(Math.ceil((plan.rate * plan.windowMs) / 1000) + 1024),
      duplicates: 0,
      orderViolations: 0,
      acks: 0,
      serverDuplicates: 0,
      receipts: 0,
      errors: 0,
      errorCodes: {},
      sendFailures: 0,
      schedulerLagMax: 0,
      late: 0,
    };
    this.steps[plan.id] = step;
    this.current = step;
    const interval = 1000 / plan.rate;
    const total = Math.round((plan.rate * (plan.warmupMs + plan.windowMs)) / 1000);
    const clients = this.clients;
    const n = clients.length;
    let next = 0;
    let windowStarted = false;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (!windowStarted && now >= step.windowStart) {
          windowStarted = true;
          plan.onWindow?.('start');
        }
        const due = Math.min(total, Math.floor((now - start) / interval) + 1);
        if (next < due) step.schedulerLagMax = Math.max(step.schedulerLagMax, now - (start + next * interval));
        for (; next < due; next++) {
          const intended = start + next * interval;
          const c = clients[this.rr++ % n]!;
          if (c.ws.readyState !== WebSocket.OPEN) {
            step.sendFailures++;
            continue;
          }
          const k = c.k++;
          c.ws.send(`${c.sendPrefix}${k}","body":"${plan.id}|${k}|${intended.toFixed(3)}|${this.padding}"}`);
          step.sent++;
        }
        if (next < total) return void setTimeout(tick, 1);
        if (!windowStarted) plan.onWindow?.('start');
        plan.onWindow?.('end');
        resolve();
      };
      setTimeout(tick, 5);
    });
    const sendEnd = performance.now();
    // Stragglers: until everything arrived, nothing arrived for quietMs, or drainMaxMs passed.
    while (step.delivered < step.sent) {
      await sleep(25);
      const now = performance.now();
      if (now - step.lastDelivery > plan.quietMs || now - sendEnd > plan.drainMaxMs) break;
    }
    // Acks and receipts of the last messages are a round trip behind them.
    await sleep(step.delivered >= step.sent ? 200 : 0);
    const drainMs = performance.now() - sendEnd;
    step.closed = true;
    const [p50, p99, max] = step.latencies.percentiles([0.5, 0.99, 1]);
    return {
      rate: plan.rate,
      windowMs: plan.windowMs,
      sent: step.sent,
      delivered: step.delivered,
      sustained: step.deliveredInWindow / (plan.windowMs / 1000),
      p50: p50!,
      p99: p99!,
      max: max!,
      duplicates: step.duplicates,
      orderViolations: step.orderViolations,
      acks: step.acks,
      serverDuplicates: step.serverDuplicates,
      receipts: step.receipts,
      errors: step.errors,
      errorCodes: { ...step.errorCodes },
      sendFailures: step.sendFailures,
      schedulerLagMax: step.schedulerLagMax,
      drainMs,
    };
  }

  /**
   * After the last step: waits until every message sent in the run was delivered and acknowledged,
   * nothing arrived for `quietMs`, or `maxMs` passed; resolves with how long it waited, ms.
   */
  async finalDrain(quietMs: number, maxMs: number): Promise<number> {
    const start = performance.now();
    for (;;) {
      const t = this.totals();
      const now = performance.now();
      if ((t.delivered >= t.sent && t.acks >= t.sent) || now - this.lastActivity > quietMs || now - start > maxMs) break;
      await sleep(50);
    }
    return performance.now() - start;
  }

  /** Counts over the whole run (warm-ups included), as they stand now. */
  totals(): RunTotals {
    const t: RunTotals = { sent: 0, delivered: 0, acks: this.acksTotal, serverDuplicates: this.serverDuplicatesTotal, duplicates: 0, orderViolations: 0, late: 0, sendFailures: 0 };
    for (const s of this.steps) {
      if (!s) continue;
      t.sent += s.sent;
      t.delivered += s.delivered;
      t.duplicates += s.duplicates;
      t.orderViolations += s.orderViolations;
      t.late += s.late;
      t.sendFailures += s.sendFailures;
    }
    return t;
  }

  /** Closes every socket; waits at most `timeoutMs` (default 3000) before cutting the rest. */
  async close(timeoutMs = 3000): Promise<void> {
    const open = this.clients.filter((c) => c.ws && c.ws.readyState !== WebSocket.CLOSED);
    const closed = open.map((c) => {
      c.closing = true;
      return new Promise<void>((resolve) => {
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.once('close', () => resolve());
        c.ws.close();
      });
    });
    const timer = setTimeout(() => {
      for (const c of open) c.ws.terminate();
    }, timeoutMs);
    await Promise.all(closed);
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
