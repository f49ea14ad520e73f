/**
 * Delivers bus events to the sockets of this node: every member's connections, except the one the
 * event came from. Each event is serialised once, whatever the number of recipients. A 1:1 event
 * names its two members; a group event names none, and this node's GroupMembers says who they are,
 * so a node's work for a group event follows its own sockets, not the group's size.
 */
import { roomKindOf, type ServerFrame } from '../../../protocol/frames.ts';
import type { BusEvent } from './bus.port.ts';
import type { GroupMembers } from './group.members.ts';
import type { ConnectionRegistry } from '../socket/registry.ts';
import type { RouterMetrics } from '../health/metrics.ts';
import type { PrivacyCache } from '../privacy/privacy.cache.ts';

type Addressed = Exclude<BusEvent, { kind: 'session.ended' | 'account.deleted' | 'hidden' | 'privacy' }>;

/**
 * Returns the bus handler that fans events out to local sockets; `privacy` says which of this
 * node's users see read marks (docs/protocol.md, "Privacy settings").
 */
export function liveFanout(registry: ConnectionRegistry, metrics: RouterMetrics, groups: GroupMembers, privacy: Pick<PrivacyCache, 'seesReads'>): (event: BusEvent) => void {
  return (event) => {
    if (event.kind === 'privacy') {
      // A new block: each side stops seeing the other online at once (the next sync.done agrees).
      if (!event.block?.on) return;
      const gone = (user: number) => JSON.stringify({ type: 'presence', user, online: false } satisfies ServerFrame);
      for (const conn of registry.ofUser(event.block.user) ?? []) conn.sendText(gone(event.user));
      for (const conn of registry.ofUser(event.user) ?? []) conn.sendText(gone(event.block.user));
      return;
    }
    if (event.kind === 'session.ended') {
      for (const id of event.sessions) {
        for (const conn of [...(registry.ofSession(id) ?? [])]) conn.close('session_ended');
      }
      return;
    }
    if (event.kind === 'account.deleted') {
      // Every socket of the user, whatever session it came with: one opened while the sessions
      // were being deleted must not outlive the account either.
      for (const conn of [...(registry.ofUser(event.user) ?? [])]) conn.close('account_deleted');
      return;
    }
    if (event.kind === 'hidden') {
      // Only the user's own devices are told; the socket that asked was answered with its ref.
      const text = JSON.stringify({ type: 'message.hidden', room: event.room, seq: event.seq } satisfies ServerFrame);
      for (const conn of registry.ofUser(event.user) ?? []) if (conn.id !== event.origin) conn.sendText(text);
      return;
    }
    if (event.kind === 'profile') {
      // This node's sockets of the user speak for them from now on with the new profile (push notifications name the sender by it).
      for (const conn of registry.ofUser(event.profile.id) ?? []) conn.user = event.profile;
      deliver(event, event.members, registry, metrics, privacy);
      return;
    }
    if (event.kind !== 'presence' && roomKindOf(event.room) === 'group') {
      const entry = event.kind === 'message' ? event.message : undefined;
      groups.route(event.room, (members) => deliver(event, members, registry, metrics, privacy), entry, event.kind === 'message' ? event.version : undefined);
      return;
    }
    deliver(event, event.members, registry, metrics, privacy);
  };
}

/** Writes one event to this node's sockets of `members` (a 1:1 room's two, or a group's set). */
function deliver(event: Addressed, members: readonly number[] | ReadonlySet<number>, registry: ConnectionRegistry, metrics: RouterMetrics, privacy: Pick<PrivacyCache, 'seesReads'>): void {
  const text = JSON.stringify(toFrame(event));
  // Typing and presence are news to everyone but their user; messages and receipts also go to
  // the other devices of the user they came from, so every device shows the same conversation.
  const skipUser = event.kind === 'typing' || event.kind === 'presence' ? event.user : undefined;
  // A block keeps typing and receipts from the other side; a read mark a recipient may not see
  // (its reader or the recipient turned read receipts off) goes as "delivered", serialised once too.
  const hideFrom = event.kind === 'typing' || event.kind === 'receipt' ? event.hideFrom : undefined;
  const read = event.kind === 'receipt' && event.receipt === 'read' ? event : undefined;
  let asDelivered: string | undefined;
  let written = 0;
  // A big group on a node with few users: walk the node's users, not the group's.
  const recipients = members instanceof Set && registry.userCount < members.size ? [...registry.userIds()].filter((u) => members.has(u)) : members;
  for (const member of recipients) {
    if (member === skipUser || hideFrom?.includes(member)) continue;
    const conns = registry.ofUser(member);
    if (!conns) continue;
    let out = text;
    if (read && member !== read.user && (read.private || !privacy.seesReads(member))) {
      out = asDelivered ??= JSON.stringify({ type: 'receipt', room: read.room, user: read.user, kind: 'delivered', seq: read.seq } satisfies ServerFrame);
    }
    for (const conn of conns) {
      if (conn.id === event.origin) continue;
      conn.sendText(out);
      written++;
    }
  }
  if (written === 0) return;
  metrics.framesOut.inc({ kind: event.kind }, written);
  if (event.kind === 'message') metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.message.ts) / 1000);
}

function toFrame(event: Addressed): ServerFrame {
  switch (event.kind) {
    case 'message':
      return { type: 'message.new', message: event.message };
    case 'receipt':
      return { type: 'receipt', room: event.room, user: event.user, kind: event.receipt, seq: event.seq };
    case 'typing':
      return { type: 'typing', room: event.room, user: event.user, active: event.active };
    case 'presence':
      return event.lastSeen === undefined
        ? { type: 'presence', user: event.user, online: event.online }
        : { type: 'presence', user: event.user, online: event.online, lastSeen: event.lastSeen };
    case 'profile':
      return { type: 'user.updated', user: event.profile };
  }
}
