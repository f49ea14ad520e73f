/**
 * The WebSocket edge: authenticates each upgrade (path, Origin allow-list, subprotocol, session
 * cookie) before any WebSocket exists, then hands the socket to a new connection actor. Also runs
 * the heartbeat that closes sockets whose peer has gone.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { dispatch, stop, type Ref } from 'nact';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { systemScheduler, type Scheduler } from '../../../db/clock.ts';
import { ERROR_CODES, type ErrorCode } from '../../../protocol/errors.ts';
import { LIMITS, PROTOCOL_VERSION, SUBPROTOCOL, type GroupLimits } from '../../../protocol/frames.ts';
import type { Config } from '../config.ts';
import type { RouterMetrics } from '../health/metrics.ts';
import type { Caller } from '../http/caller.ts';
import type { PresenceService } from '../live/presence.ts';
import { spawnConnection, type ConnectionActorDeps, type ConnectionMsg } from './connection.actor.ts';
import { Connection, type ConnectionPolicy } from './connection.ts';
import type { ConnectionRegistry } from './registry.ts';

/** What the WebSocket edge uses: its own needs, and what it hands every connection and its actor. */
export interface SocketDeps extends ConnectionActorDeps {
  config: Pick<Config, 'allowedOrigins' | 'heartbeatMs' | 'editWindowMs'>;
  registry: ConnectionRegistry;
  metrics: Pick<RouterMetrics, 'framesIn' | 'framesRateLimited'>;
  /** Told when a user's sockets open and close. */
  presence: Pick<PresenceService, 'connected' | 'disconnected'>;
  /** The signed-in caller of an upgrade request (its session cookie), or null. */
  callerOf(req: IncomingMessage): Promise<Caller | null>;
  /** Shared by every Connection. */
  connections: ConnectionPolicy;
  /** The group limits `hello` announces (GROUP_MEMBERS_MAX, GROUPS_PER_USER_MAX). */
  groups: GroupLimits;
  /** The heartbeat runs on it. Default: the real clock and timers. */
  scheduler?: Scheduler;
}

export interface Gateway {
  /** Stops taking frames from every socket (drain before shutdown). */
  pause(): void;
  close(): void;
}

/** What the sockets of one gateway share. */
interface GatewayState {
  deps: SocketDeps;
  parent: Ref<unknown>;
  /** Set by pause(): frames are no longer handed to the actors. */
  paused: boolean;
  /** Sockets adopted so far: deals them round the heartbeat's slices. */
  adopted: number;
}

/** The heartbeat's ticks per interval: each tick pings one slice of the sockets. */
export const HEARTBEAT_SLICES = 10;

/**
 * A server socket that carries its connection, its actor and its gateway, so that its listeners are
 * functions shared by every socket instead of closures made for each one: on a node with many idle
 * sockets, what each socket keeps is most of the memory.
 */
class GatewaySocket extends WebSocket {
  conn!: Connection;
  actor!: Ref<ConnectionMsg>;
  gateway!: GatewayState;
}

/** Attaches the WebSocket endpoint `/ws` to an HTTP server. */
export function attachGateway(server: Server, parent: Ref<unknown>, deps: SocketDeps): Gateway {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: LIMITS.maxFrameBytes,
    maxFragments: LIMITS.maxFragments,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    WebSocket: GatewaySocket,
  });
  const gateway: GatewayState = { deps, parent, paused: false, adopted: 0 };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // An error on a socket we have not adopted yet must not become an uncaught exception.
    socket.on('error', destroySocket);
    authenticate(req, deps).then(
      (auth) => {
        if ('code' in auth) return refuse(socket, auth.code);
        wss.handleUpgrade(req, socket, head, (ws) => {
          // ws now handles the socket's errors; our listener would keep this upgrade's request alive.
          socket.off('error', destroySocket);
          adopt(ws, auth, gateway);
        });
      },
      (err) => {
        deps.log.error({ err }, 'upgrade failed');
        refuse(socket, 'unavailable');
      },
    );
  });

  // Each tick visits one slice of the sockets, so each is still pinged once per heartbeatMs, but a
  // node never pings all of them in one go: a write costs ~10 µs here, so 1,000 pings (and their
  // pongs right after) held the event loop, and every socket of the node, for 10 ms or more.
  let tick = 0;
  const heartbeat = (deps.scheduler ?? systemScheduler).every(deps.config.heartbeatMs / HEARTBEAT_SLICES, () => {
    const slice = tick++ % HEARTBEAT_SLICES;
    for (const conn of deps.registry.all()) {
      if (conn.heartbeatSlice !== slice) continue;
      if (!conn.alive) conn.terminate();
      else conn.ping();
    }
  });

  return {
    pause: () => void (gateway.paused = true),
    close: () => {
      heartbeat.cancel();
      wss.close();
    },
  };
}

/**
 * Makes an authenticated socket a connection: registered, announced, with its actor. Kept apart
 * from the upgrade handler so that nothing of the upgrade (request, headers, first packet) stays
 * reachable from the socket.
 */
function adopt(ws: GatewaySocket, auth: Authenticated, gateway: GatewayState): void {
  const { deps } = gateway;
  const conn = new Connection(randomUUID(), auth.user, auth.sessionId, ws, deps.connections);
  conn.heartbeatSlice = gateway.adopted++ % HEARTBEAT_SLICES;
  conn.sessionActiveAt = auth.sessionActiveAt;
  deps.registry.add(conn);
  deps.presence.connected(conn.user.id);
  // Loading starts now, so it is usually done when the first frame needs it (the actor waits otherwise).
  deps.privacy.ensure(conn.user.id).catch((err: unknown) => deps.log.warn({ err, user: conn.user.id }, 'could not load a user\'s privacy'));
  ws.conn = conn;
  ws.gateway = gateway;
  ws.actor = spawnConnection(gateway.parent, conn, deps);
  ws.on('message', onMessage);
  ws.on('pong', onPong);
  ws.on('error', onError);
  ws.on('close', onClose);
  conn.reply({ type: 'hello', v: PROTOCOL_VERSION, user: auth.user, connectionId: conn.id, limits: LIMITS, groups: deps.groups, editWindowMs: deps.config.editWindowMs });
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const { conn, actor, gateway } = this as GatewaySocket;
  gateway.deps.metrics.framesIn.inc();
  if (isBinary) return conn.close('unsupported_data');
  if (!gateway.paused) dispatch(actor, { type: 'frame', text: data.toString() });
}

function onPong(this: WebSocket): void {
  (this as GatewaySocket).conn.alive = true;
}

function onError(this: WebSocket, err: Error): void {
  const { conn, gateway } = this as GatewaySocket;
  gateway.deps.log.debug({ err, conn: conn.id }, 'socket error');
}

function onClose(this: WebSocket): void {
  const { conn, actor, gateway } = this as GatewaySocket;
  gateway.deps.registry.remove(conn);
  gateway.deps.presence.disconnected(conn.user.id);
  if (!gateway.deps.registry.ofUser(conn.user.id)) gateway.deps.privacy.forget(conn.user.id);
  stop(actor);
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

type Authenticated = { user: { id: number; handle: string; displayName: string }; sessionId: string; sessionActiveAt: number };
type Auth = Authenticated | { code: ErrorCode };

async function authenticate(req: IncomingMessage, deps: SocketDeps): Promise<Auth> {
  // A request target no URL parser accepts (`//[`) is the client's mistake, not a store outage.
  const target = req.url ?? '/';
  if (!URL.canParse(target, 'http://x') || new URL(target, 'http://x').pathname !== '/ws') return { code: 'not_found' };
  // Browsers always send Origin on a WebSocket; a missing or foreign one is cross-site or not a browser we serve.
  if (!deps.config.allowedOrigins.has(req.headers.origin ?? '')) return { code: 'forbidden_origin' };
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(SUBPROTOCOL)) return { code: 'bad_subprotocol' };
  const caller = await deps.callerOf(req);
  // The id may be a slice of the Cookie header, which would keep the whole header alive as long as
  // the socket: a copy keeps only the id.
  return caller ? { user: caller.user, sessionId: Buffer.from(caller.session.id).toString(), sessionActiveAt: caller.session.lastActiveAt } : { code: 'unauthenticated' };
}

/** Answers a refused upgrade with a plain HTTP error, as JSON with a documented code. */
function refuse(socket: Duplex, code: ErrorCode): void {
  const { status, text } = ERROR_CODES[code];
  const body = JSON.stringify({ error: { code, message: text } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
