/**
 * The load generator: C WebSocket clients in this process as C/2 one-to-one conversations or, in
 * the group mode, as members of G groups of M (createGroups), driven open-loop. Every message has
 * an intended send time computed from the rate alone, is sent on schedule whatever the replies, and
 * carries that time in its body; latency is the recipient's receive time minus the intended time,
 * so a server that falls behind cannot hide its queueing (no coordinated omission). In a group,
 * every member's copy is a delivery of its own: its latency, its loss, its duplicates, its order.
 *
 * Body: `<step>|<k>|<intended ms>|<padding>`; clientMsgId: `m<k>`, k counting per sender over the
 * whole run (1:1) or over all senders (groups: one message, many recipients), so a recipient
 * detects duplicates by k and order violations by the room's seq.
 * Receivers acknowledge as a real client does: one cumulative message.ack per room per
 * event-loop turn, with the highest seq seen (in the group mode only with `groupAcks`).
 *
 * Hot paths build frames by string concatenation and parse each frame once.
 */
import { WebSocket } from 'ws';
import { directRoomId, SUBPROTOCOL } from '../../protocol/frames.ts';
import type { GroupLayout } from './group.layout.ts';
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
  /** Deliveries due: sent x recipients per message (1, or M-1 in a group). */
  expected: number;
  /** Distinct (message, recipient) deliveries. */
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
  /** Messages sent in the step (warm-up included), deliveries due (sent x recipients each) and made. */
  sent: number;
  expected: number;
  delivered: number;
  /** Deliveries received inside the measured window, per second (frames/s in a group). */
  sustained: number;
  /** Latency of the deliveries of messages intended inside the window, ms (every member's copy in a group). */
  p50: number;
  p99: number;
  max: number;
  duplicates: number;
  orderViolations: number;
  /** message.sent frames; how many of them said duplicate: true. */
  acks: number;
  serverDuplicates: number;
  /** Delivered receipts received (by senders; in a group, by every other member). */
  receipts: number;
  /** message.new of rooms this client is not in: a server fanning out to the wrong sockets. */
  strays: number;
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
  strays: number;
  errors: number;
  errorCodes: Record<string, number>;
  sendFailures: number;
  schedulerLagMax: number;
  /** Deliveries that came after the step's drain ended. */
  late: number;
}

/** A client's view of one room: order checks and the ack it owes. */
class RoomView {
  /** Highest room seq received. */
  lastSeq = 0;
  ackSeq = 0;
  ackDirty = false;
  readonly ackPrefix: string;
  readonly client: Client;

  constructor(client: Client, room: string) {
    this.client = client;
    this.ackPrefix = `{"type":"message.ack","room":"${room}","seq":`;
  }
}

class Client {
  ws!: WebSocket;
  /** Messages sent by this client so far: the next k (1:1 only; groups count over all senders). */
  k = 0;
  /** One bit per k (of the peer, or of all senders in a group): set once received. */
  seen = new Uint8Array(32);
  closing = false;
  /** The 1:1 room with the peer. */
  readonly direct: RoomView;
  /** The group rooms this client is a member of, by room id. */
  readonly groups = new Map<string, RoomView>();
  readonly sendPrefix: string;

  readonly user: BenchUser;
  readonly peer: number;

  constructor(
    user: BenchUser,
    peer: number,
  ) {
    this.user = user;
    this.peer = peer;
    this.sendPrefix = `{"type":"message.send","to":${peer},"clientMsgId":"m`;
    this.direct = new RoomView(this, directRoomId(user.id, peer));
  }

  /** Marks k as received; false when it already was (a duplicate). */
  markSeen(k: number): boolean {
    const byte = k >>> 3;
    while (byte >= this.seen.length) {
      const bigger = new Uint8Array(this.seen.length * 2);
      bigger.set(this.seen);
      this.seen = bigger;
    }
    const bit = 1 << (k & 7);
    if (this.seen[byte]! & bit) return false;
    this.seen[byte]! |= bit;
    return true;
  }
}

/** A group of the group mode: its room and members; members take turns sending to it. */
interface BenchGroup {
  room: string;
  members: Client[];
  /** The member who sends next. */
  turn: number;
  /** `message.send` to this room up to the clientMsgId's number. */
  sendPrefix: string;
}

export interface ConnectOptions {
  /** Handshakes in flight at once. Default 50. */
  concurrency?: number;
  /** Longest wait for one client's hello, ms. Default 15 000. */
  timeoutMs?: number;
  /** Message body length, characters. Default 64. */
  bodyBytes?: number;
  /** Group mode: whether members acknowledge (see BenchOptions.groupAcks). Default false. */
  groupAcks?: boolean;
}

export class LoadClient {
  private readonly steps: Step[] = [];
  private current: Step | undefined;
  private readonly dirty: RoomView[] = [];
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
  /** The group mode's groups (empty in the 1:1 mode), and whether their members acknowledge. */
  private groups: BenchGroup[] = [];
  private groupAcks = false;
  /** Group mode: the next message's k, over all senders. */
  private nextK = 0;
  /** Requests waiting for their reply, by ref (group.create). */
  private readonly pending = new Map<string, { resolve(room: string): void; reject(err: Error): void }>();

  private readonly clients: Client[];

  private constructor(clients: Client[]) {
    this.clients = clients;
  }

  /** Opens one client per user; users 2i and 2i+1 talk to each other. */
  static async connect(users: readonly BenchUser[], endpoint: Endpoint, options: ConnectOptions = {}): Promise<LoadClient> {
    if (users.length < 2 || users.length % 2 !== 0) throw new Error('an even number of users (>= 2) is needed');
    const clients = users.map((u, i) => new Client(u, users[i ^ 1]!.id));
    const load = new LoadClient(clients);
    load.groupAcks = options.groupAcks ?? false;
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

  /** Recipients of one message: 1 in the 1:1 mode, M-1 in the group mode. */
  get fanout(): number {
    return this.groups.length > 0 ? this.groups[0]!.members.length - 1 : 1;
  }

  /**
   * Switches to the group mode: creates every group of `layout` (member indices into the users
   * this client connected) through the protocol, each by its first member with `group.create`,
   * `concurrency` at a time; from then on every step sends to the groups in turn. Resolves when
   * every group is created and every member has its `room.created` entry (seq 1), so the steps
   * start on settled groups.
   */
  async createGroups(layout: GroupLayout, options: { name: string; concurrency?: number; timeoutMs?: number }): Promise<void> {
    if (this.groups.length > 0) throw new Error('the groups are already created');
    const sizes = new Set(layout.map((g) => g.length));
    if (sizes.size !== 1) throw new Error('every group must have the same number of members');
    const timeoutMs = options.timeoutMs ?? 30_000;
    const groups: BenchGroup[] = new Array(layout.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 10 }, async () => {
        while (next < layout.length) {
          const i = next++;
          const members = layout[i]!.map((m) => this.clients[m]!);
          const creator = members[0]!;
          const ref = `g${i}`;
          const room = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => {
              this.pending.delete(ref);
              reject(new Error(`no group.done for group ${i} within ${timeoutMs} ms`));
            }, timeoutMs);
            this.pending.set(ref, {
              resolve: (r) => (clearTimeout(timer), resolve(r)),
              reject: (e) => (clearTimeout(timer), reject(e)),
            });
            creator.ws.send(JSON.stringify({ type: 'group.create', ref, name: `${options.name} ${i}`, members: members.slice(1).map((c) => c.user.id) }));
          });
          for (const c of members) if (!c.groups.has(room)) c.groups.set(room, new RoomView(c, room));
          groups[i] = { room, members, turn: 0, sendPrefix: `{"type":"message.send","room":"${room}","clientMsgId":"m` };
        }
      }),
    );
    const deadline = performance.now() + timeoutMs;
    while (groups.some((g) => g.members.some((c) => c.groups.get(g.room)!.lastSeq < 1))) {
      if (performance.now() > deadline) throw new Error(`not every member got its group's room.created within ${timeoutMs} ms`);
      await sleep(20);
    }
    this.groups = groups;
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
    if (this.groups.length > 0) {
      const m = readMessageNew(data);
      if (m) return this.onMessage(c, m, now);
    }
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
      case 'group.done': {
        const waiting = this.pending.get(f.ref);
        if (waiting) {
          this.pending.delete(f.ref);
          waiting.resolve(f.room);
        }
        return;
      }
      case 'error': {
        const waiting = f.ref === undefined ? undefined : this.pending.get(f.ref);
        if (waiting) {
          this.pending.delete(f.ref);
          return waiting.reject(new Error(`user ${c.user.id}: ${f.code}: ${f.message}`));
        }
        if (this.current) {
          this.current.errors++;
          this.current.errorCodes[f.code] = (this.current.errorCodes[f.code] ?? 0) + 1;
        }
        return;
      }
    }
  }

  private onMessage(c: Client, m: { room: string; seq: number; body: string; kind?: string }, now: number): void {
    let view = c.direct;
    if (this.groups.length > 0 || m.kind === 'event') {
      const group = c.groups.get(m.room);
      if (!group) {
        // Before createGroups has the id, only a room.created can come (the creator's may arrive
        // before its group.done): that view is made here.
        if (m.kind === 'event' && m.seq === 1) c.groups.set(m.room, (view = new RoomView(c, m.room)));
        else if (this.current) return void this.current.strays++;
        else return;
      } else view = group;
    }
    // Membership entries keep the order check honest; they are not load.
    if (m.kind === 'event') {
      if (m.seq > view.lastSeq) view.lastSeq = m.seq;
      else if (this.current) this.current.orderViolations++;
      return;
    }
    const body = m.body;
    const a = body.indexOf('|');
    const b = body.indexOf('|', a + 1);
    const d = body.indexOf('|', b + 1);
    const step = this.steps[Number(body.slice(0, a))];
    const k = Number(body.slice(a + 1, b));
    const intended = Number(body.slice(b + 1, d));
    if (!step) return;
    if (!c.markSeen(k)) {
      step.duplicates++;
      return;
    }
    if (m.seq <= view.lastSeq) step.orderViolations++;
    else view.lastSeq = m.seq;
    step.delivered++;
    step.lastDelivery = now;
    this.lastActivity = now;
    if (step.closed) step.late++;
    if (intended >= step.windowStart && intended < step.windowEnd) step.latencies.push(now - intended);
    const cur = this.current;
    if (cur && now >= cur.windowStart && now < cur.windowEnd) cur.deliveredInWindow++;
    if (m.seq > view.ackSeq && (view === c.direct || this.groupAcks)) {
      view.ackSeq = m.seq;
      if (!view.ackDirty) {
        view.ackDirty = true;
        this.dirty.push(view);
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
    for (const v of this.dirty) {
      v.ackDirty = false;
      if (v.client.ws.readyState === WebSocket.OPEN) v.client.ws.send(`${v.ackPrefix}${v.ackSeq}}`);
    }
    this.dirty.length = 0;
  };

  /** Runs one step: warm-up and window at the plan's rate, then waits for stragglers. */
  async runStep(plan: StepPlan): Promise<StepResult> {
    const start = performance.now() + 5;
    const fanout = this.fanout;
    const step: Step = {
      plan,
      windowStart: start + plan.warmupMs,
      windowEnd: start + plan.warmupMs + plan.windowMs,
      closed: false,
      lastDelivery: start,
      sent: 0,
      delivered: 0,
      deliveredInWindow: 0,
      latencies: new Samples(Math.ceil((plan.rate * fanout * plan.windowMs) / 1000) + 1024),
      duplicates: 0,
      orderViolations: 0,
      acks: 0,
      serverDuplicates: 0,
      receipts: 0,
      strays: 0,
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
    const groups = this.groups;
    const g = groups.length;
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
          if (g > 0) {
            // Groups in turn, and in each group its members in turn.
            const group = groups[this.rr++ % g]!;
            const c = group.members[group.turn++ % group.members.length]!;
            if (c.ws.readyState !== WebSocket.OPEN) {
              step.sendFailures++;
              continue;
            }
            const k = this.nextK++;
            c.ws.send(`${group.sendPrefix}${k}","body":"${plan.id}|${k}|${intended.toFixed(3)}|${this.padding}"}`);
            step.sent++;
            continue;
          }
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
    while (step.delivered < step.sent * fanout) {
      await sleep(25);
      const now = performance.now();
      if (now - step.lastDelivery > plan.quietMs || now - sendEnd > plan.drainMaxMs) break;
    }
    // Acks and receipts of the last messages are a round trip behind them.
    await sleep(step.delivered >= step.sent * fanout ? 200 : 0);
    const drainMs = performance.now() - sendEnd;
    step.closed = true;
    const [p50, p99, max] = step.latencies.percentiles([0.5, 0.99, 1]);
    return {
      rate: plan.rate,
      windowMs: plan.windowMs,
      sent: step.sent,
      expected: step.sent * fanout,
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
      strays: step.strays,
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
      if ((t.delivered >= t.expected && t.acks >= t.sent) || now - this.lastActivity > quietMs || now - start > maxMs) break;
      await sleep(50);
    }
    return performance.now() - start;
  }

  /** Counts over the whole run (warm-ups included), as they stand now. */
  totals(): RunTotals {
    const t: RunTotals = { sent: 0, expected: 0, delivered: 0, acks: this.acksTotal, serverDuplicates: this.serverDuplicatesTotal, duplicates: 0, orderViolations: 0, late: 0, sendFailures: 0 };
    for (const s of this.steps) {
      if (!s) continue;
      t.sent += s.sent;
      t.expected += s.sent * this.fanout;
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

const MESSAGE_NEW = '{"type":"message.new"';

/**
 * A text message's `message.new` read by a few searches instead of JSON.parse: in the group mode
 * the load generator receives M-1 frames per message sent, and it must not become the bottleneck
 * before the server does. Anything else (events, other frames, a body with escapes) is undefined,
 * and goes through JSON.parse. A key cannot match inside a JSON string, where quotes are escaped.
 */
function readMessageNew(data: Buffer): { room: string; seq: number; body: string } | undefined {
  const text = data.toString('latin1');
  if (!text.startsWith(MESSAGE_NEW) || text.includes('"kind":')) return undefined;
  const r = text.indexOf('"room":"');
  const s = text.indexOf('"seq":');
  const b = text.indexOf('"body":"');
  if (r < 0 || s < 0 || b < 0) return undefined;
  const bodyEnd = text.indexOf('"', b + 8);
  const body = text.slice(b + 8, bodyEnd);
  if (body.includes('\\')) return undefined;
  return { room: text.slice(r + 8, text.indexOf('"', r + 8)), seq: parseInt(text.slice(s + 6, s + 24), 10), body };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
