/**
 * The ceiling: the least a server must do to relay the benchmark's traffic. A bare `ws` server in
 * its own process, no actors, no validation beyond JSON.parse, no persistence, no bus. The user id
 * comes from the URL (`/ws?u=ID`), a per-room counter stands in for the seq, and frames have the
 * router's shapes so the same load generator drives both:
 *   message.send → message.new to the recipient, message.sent to the sender;
 *   message.ack  → receipt (delivered) to the other member.
 * And the group mode's fan-out, with groups in memory:
 *   group.create              → message.new of the room.created entry (seq 1) to every member, the
 *                               creator included, then group.done;
 *   message.send to a group   → message.new to every other member (serialised once), message.sent;
 *   message.ack of a group    → receipt to every other member.
 * Reports `{type:'ready', port}` over IPC. Env: PORT (default 0), HOST (default 127.0.0.1).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { SUBPROTOCOL } from '../../protocol/frames.ts';

const sockets = new Map<number, WebSocket>();
const seqs = new Map<string, number>();
/** Group room id → members (the creator first). */
const groups = new Map<string, number[]>();
let nextId = 0;
let nextGroup = 0;

/** Sends one text to every member but `except`. */
function toMembers(members: readonly number[], except: number, text: string): void {
  for (const member of members) if (member !== except) sockets.get(member)?.send(text);
}

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({
  server,
  path: '/ws',
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 64 * 1024,
  handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

wss.on('connection', (ws, req) => {
  const me = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('u'));
  if (!Number.isSafeInteger(me) || me <= 0) return ws.close(1008, 'u');
  sockets.set(me, ws);
  ws.on('close', () => {
    if (sockets.get(me) === ws) sockets.delete(me);
  });
  ws.on('error', () => ws.terminate());
  ws.on('message', (data) => {
    let f: { type?: string; to?: number; clientMsgId?: string; body?: string; room?: string; seq?: number; ref?: string; name?: string; members?: number[] };
    try {
      f = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (f.type === 'message.send' && typeof f.to === 'number') {
      const room = me < f.to ? `${me}-${f.to}` : `${f.to}-${me}`;
      const seq = (seqs.get(room) ?? 0) + 1;
      seqs.set(room, seq);
      const ts = Date.now();
      const id = `${++nextId}`;
      const message = { id, room, seq, sender: me, body: f.body, clientMsgId: f.clientMsgId, ts };
      sockets.get(f.to)?.send(JSON.stringify({ type: 'message.new', message }));
      ws.send(JSON.stringify({ type: 'message.sent', ref: f.clientMsgId, room, id, seq, ts, duplicate: false }));
    } else if (f.type === 'message.send' && typeof f.room === 'string') {
      const members = groups.get(f.room);
      if (!members?.includes(me)) return ws.send(JSON.stringify({ type: 'error', code: 'room_not_found', message: 'no such room', ref: f.clientMsgId }));
      const seq = (seqs.get(f.room) ?? 0) + 1;
      seqs.set(f.room, seq);
      const ts = Date.now();
      const id = `${++nextId}`;
      const message = { id, room: f.room, seq, sender: me, body: f.body, clientMsgId: f.clientMsgId, ts };
      toMembers(members, me, JSON.stringify({ type: 'message.new', message }));
      ws.send(JSON.stringify({ type: 'message.sent', ref: f.clientMsgId, room: f.room, id, seq, ts, duplicate: false }));
    } else if (f.type === 'group.create' && Array.isArray(f.members)) {
      const room = `g-${++nextGroup}`;
      const members = [me, ...f.members];
      groups.set(room, members);
      seqs.set(room, 1);
      const id = `${++nextId}`;
      const event = { type: 'room.created', name: f.name, members: members.map((user, i) => ({ user, role: i === 0 ? 'owner' : 'member' })) };
      const message = { id, room, seq: 1, sender: me, body: '', clientMsgId: `ev-${id}`, ts: Date.now(), kind: 'event', event };
      toMembers(members, 0, JSON.stringify({ type: 'message.new', message }));
      ws.send(JSON.stringify({ type: 'group.done', ref: f.ref, room, seq: 1 }));
    } else if (f.type === 'message.ack' && typeof f.room === 'string' && groups.has(f.room)) {
      toMembers(groups.get(f.room)!, me, JSON.stringify({ type: 'receipt', room: f.room, user: me, kind: 'delivered', seq: f.seq }));
    } else if (f.type === 'message.ack' && typeof f.room === 'string') {
      const [a, b] = f.room.split('-').map(Number);
      const other = a === me ? b : a;
      if (other !== undefined) sockets.get(other)?.send(JSON.stringify({ type: 'receipt', room: f.room, user: me, kind: 'delivered', seq: f.seq }));
    }
  });
  ws.send(JSON.stringify({ type: 'hello', v: 1, user: { id: me, handle: `u${me}`, displayName: `U${me}` } }));
});

// A clean exit, so --cpu-prof (BENCH_PROFILE=1) writes its profile.
process.on('SIGTERM', () => process.exit(0));

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});
