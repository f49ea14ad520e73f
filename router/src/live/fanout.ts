/**
 * Delivers bus events to the sockets of this node: every member's connections, except the one the
 * event came from. Each event is serialised once, whatever the number of recipients.
 */
import type { ServerFrame } from '../../../protocol/frames.ts';
import type { BusEvent } from './bus.port.ts';
import type { ConnectionRegistry } from '../socket/registry.ts';
import type { RouterMetrics } from '../health/metrics.ts';

/** Returns the bus handler that fans events out to local sockets. */
export function liveFanout(registry: ConnectionRegistry, metrics: RouterMetrics): (event: BusEvent) => void {
  return (event) => {
    if (event.kind === 'session.ended') {
      for (const id of event.sessions) {
        for (const conn of [...(registry.ofSession(id) ?? [])]) conn.close('session_ended');
      }
      return;
    }
    const text = JSON.stringify(toFrame(event));
    // Typing and presence are news to everyone but their user; messages and receipts also go to
    // the other devices of the user they came from, so every device shows the same conversation.
    const skipUser = event.kind === 'typing' || event.kind === 'presence' ? event.user : undefined;
    let written = 0;
    for (const member of event.members) {
      if (member === skipUser) continue;
      const conns = registry.ofUser(member);
      if (!conns) continue;
      for (const conn of conns) {
        if (conn.id === event.origin) continue;
        conn.sendText(text);
        written++;
      }
    }
    if (written === 0) return;
    metrics.framesOut.inc({ kind: event.kind }, written);
    if (event.kind === 'message') metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.message.ts) / 1000);
  };
}

function toFrame(event: Exclude<BusEvent, { kind: 'session.ended' }>): ServerFrame {
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
  }
}
