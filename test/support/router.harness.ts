/**
 * Starts real router nodes in the test process (port 0, real sockets) on either the embedded
 * default or the full stack, and drives them with real WebSocket clients.
 */
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { Test } from 'tap';
import { WebSocket } from 'ws';
import type { Scheduler } from '../../db/clock.ts';
import type { PublicUser, ServerFrame } from '../../protocol/frames.ts';
import { SUBPROTOCOL } from '../../protocol/frames.ts';
import { loadConfig } from '../../router/src/config.ts';
import { createLogger } from '../../kit/logger.ts';
import { startRouter, type RouterNode } from '../../router/src/node.ts';
import { openStores, type Stores } from '../../router/src/stores.ts';
import { deleteQueues } from './amqp.queues.ts';
import { freshRedisPrefix } from './redis.keys.ts';
import { freshMongoDatabase, freshPgDatabase, need, uniqueName } from './services.ts';

export const TEST_ORIGIN = 'http://localhost:3000';

export interface Mode {
  name: string;
  /** Environment for a node of this mode; each call gives fresh, isolated databases and exchange. */
  env(t: Test): Promise<Record<string, string>>;
}

/**
 * The modes this machine can run: the embedded default always, the full stack when its services are
 * set and, with `mongoHistory`, the full stack with its history in MongoDB when MONGO_URL is set too
 * (the GitHub workflow sets it; MongoDB cannot run on the project's machines).
 */
export function modes(t: Test, what: string, { mongoHistory = false }: { mongoHistory?: boolean } = {}): Mode[] {
  const list: Mode[] = [{ name: 'embedded default', env: async () => ({}) }];
  const db = need(t, 'DATABASE_URL', `${what} on the full stack`);
  const redis = need(t, 'REDIS_URL', `${what} on the full stack`);
  const amqp = need(t, 'AMQP_URL', `${what} on the full stack`);
  if (!db || !redis || !amqp) return list;
  // User ids restart at 1 in every fresh database, and Redis keys name them (presence, rate limits,
  // idempotency): without a prefix and a task queue of its own, one test's user 2 is another's.
  const fullStack = async (tt: Test) => {
    const taskQueue = uniqueName('tasks');
    tt.teardown(() => deleteQueues(amqp, taskQueue, []));
    return {
      DATABASE_URL: await freshPgDatabase(tt, db),
      REDIS_URL: redis,
      REDIS_KEY_PREFIX: freshRedisPrefix(tt, redis, 'node').prefix,
      AMQP_URL: amqp,
      AMQP_EXCHANGE: uniqueName('live'),
      TASK_QUEUE: taskQueue,
    };
  };
  list.push({ name: 'full stack', env: fullStack });
  const mongo = mongoHistory ? need(t, 'MONGO_URL', `${what} on the full stack with history in MongoDB`) : undefined;
  if (mongo) {
    list.push({
      name: 'full stack with history in MongoDB',
      env: async (tt) => ({ ...(await fullStack(tt)), MONGO_URL: await freshMongoDatabase(tt, mongo) }),
    });
  }
  return list;
}

export interface Harness {
  node: RouterNode;
  stores: Stores;
  /** ws://127.0.0.1:PORT/ws */
  wsUrl: string;
  httpUrl: string;
  /** Creates a user with a session. */
  user(handle?: string): Promise<TestUser>;
}

export interface TestUser extends PublicUser {
  sessionId: string;
  connect(options?: ConnectOptions): Promise<TestClient>;
}

export interface ConnectOptions {
  /** Answer pings (default true); false simulates a peer that vanished. */
  autoPong?: boolean;
  /** The Origin header (default TEST_ORIGIN). */
  origin?: string;
}

/** A test node's environment: a free port on loopback, memory PGlite, the test origin, its own node id; `env` on top. */
export function testNodeEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: 'memory://',
    PUBLIC_ORIGIN: TEST_ORIGIN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ID: uniqueName('node'),
    // Suites sign up many users from 127.0.0.1; the sign-in limits have their own test.
    SIGNUP_RATE_LIMIT: '1000000',
    SIGNIN_RATE_LIMIT: '1000000',
    ...env,
  };
}

/**
 * Starts a node with the test defaults, stopped in teardown. Shares `stores` when given; `options`
 * go to startRouter, and its `scheduler` (test/support/clock.ts; default real) to the node's own stores too.
 */
export async function startNode(
  t: Test,
  env: Record<string, string> = {},
  shared?: Stores,
  options: Parameters<typeof startRouter>[3] = {},
): Promise<Harness> {
  const config = loadConfig(testNodeEnv(env));
  const log = createLogger(config.logLevel);
  const stores = shared ?? (await openStores(config, log, { scheduler: options.scheduler }));
  const node = await startRouter(config, stores, log, options);
  t.teardown(async () => {
    await node.close();
    if (!shared) await stores.close();
  });
  const httpUrl = `http://127.0.0.1:${node.port}`;
  const wsUrl = `ws://127.0.0.1:${node.port}/ws`;
  let n = 0;
  return {
    node,
    stores,
    wsUrl,
    httpUrl,
    async user(handle = `user${++n}_${Math.random().toString(36).slice(2, 8)}`) {
      const user = await stores.relational.createUser(handle, handle.toUpperCase());
      const session = await stores.sessions.create(user.id, 3600_000);
      return {
        ...user,
        sessionId: session.id,
        connect: (options) => TestClient.open(t, wsUrl, session.id, options),
      };
    },
  };
}

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** A real WebSocket client that records every frame and lets a test wait for the ones it expects. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  private readonly taken = new Set<number>();
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Connects with a session cookie, the test origin and the protocol's subprotocol. */
  static async open(t: Test, url: string, sessionId: string, options: ConnectOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, SUBPROTOCOL, {
      headers: { cookie: `sid=${sessionId}`, origin: options.origin ?? TEST_ORIGIN },
      autoPong: options.autoPong ?? true,
    });
    const client = new TestClient(ws);
    t.teardown(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    await client.next('hello');
    return client;
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame of a type (and matching `where`) not taken by an earlier call; waits for it. */
  next<T extends ServerFrame['type']>(type: T, where: (f: FrameOf<T>) => boolean = () => true, timeoutMs = 10_000): Promise<FrameOf<T>> {
    return this.nextWhere((f): f is FrameOf<T> => f.type === type && where(f as FrameOf<T>), timeoutMs, type);
  }

  /** The first frame matching `match` not taken by an earlier call; waits for it. */
  nextWhere<F extends ServerFrame>(match: (f: ServerFrame) => f is F, timeoutMs = 10_000, what = 'matching'): Promise<F> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const i = this.frames.findIndex((f, idx) => !this.taken.has(idx) && match(f));
        if (i < 0) return false;
        this.taken.add(i);
        resolve(this.frames[i] as F);
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wait);
        reject(new Error(`no ${what} frame within ${timeoutMs} ms; last frames: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      timer.unref();
      const wait = () => {
        if (check()) clearTimeout(timer);
        else this.waiters.push(wait);
      };
      this.waiters.push(wait);
    });
  }

  /** Frames of a type received so far (taken or not). */
  all<T extends ServerFrame['type']>(type: T): FrameOf<T>[] {
    return this.frames.filter((f) => f.type === type) as FrameOf<T>[];
  }

  /** Sends a message and waits for its ack (or error). */
  async sendMessage(
    to: { to: number } | { room: string },
    body: string,
    clientMsgId = `c${Math.random().toString(36).slice(2)}`,
  ): Promise<FrameOf<'message.sent'> | FrameOf<'error'>> {
    this.send({ type: 'message.send', ...to, body, clientMsgId });
    return this.nextWhere(
      (f): f is FrameOf<'message.sent'> | FrameOf<'error'> => (f.type === 'message.sent' || f.type === 'error') && f.ref === clientMsgId,
      10_000,
      `ack of ${clientMsgId}`,
    );
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

export interface UpgradeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body of a refused upgrade; empty on 101. */
  body: string;
}

/**
 * Sends one raw WebSocket upgrade request to `url` (ws:// or http://) with the handshake's own
 * headers plus `headers` (an undefined value leaves that header out), and reports the HTTP answer.
 * A 101 socket is destroyed at once: this is for testing refusals, TestClient for real sessions.
 */
export function rawUpgrade(
  url: string,
  headers: Record<string, string | undefined>,
  /** The request target sent verbatim instead of the URL's path (e.g. one a URL parser refuses). */
  path?: string,
): Promise<UpgradeAnswer> {
  const extra = Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
  const { hostname, port, pathname, search } = new URL(url.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      path: path ?? pathname + search,
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...extra,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
