/**
 * The RabbitMQ bus's wire format: one AMQP message carries a JSON array of events. A peer is our
 * own code, but a malformed message or event is reported and dropped, never thrown.
 */
import type { BusEvent } from './bus.port.ts';

/** One batch as a JSON array; an event that cannot be serialised is reported and left out. */
export function encode(events: BusEvent[], onError: (err: Error) => void): Buffer | undefined {
  try {
    return Buffer.from(JSON.stringify(events));
  } catch {
    const parts: string[] = [];
    for (const event of events) {
      try {
        parts.push(JSON.stringify(event));
      } catch (err) {
        onError(new Error(`dropped an event that cannot be serialised (${event.kind})`, { cause: err }));
      }
    }
    return parts.length > 0 ? Buffer.from(`[${parts.join(',')}]`) : undefined;
  }
}

/** The events of one incoming message; anything malformed is reported and dropped, never thrown. */
export function decode(content: Buffer, onError: (err: Error) => void): BusEvent[] {
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch (err) {
    onError(new Error(`dropped a bus message that is not JSON (${content.length} bytes)`, { cause: err }));
    return [];
  }
  if (!Array.isArray(value)) {
    onError(new Error('dropped a bus message that is not a JSON array'));
    return [];
  }
  const events = value.filter(isBusEvent);
  if (events.length < value.length) onError(new Error(`dropped ${value.length - events.length} malformed bus events`));
  return events;
}

/** A peer is our own code at the same version, so field types are all we check. */
const MESSAGE_FIELDS = Object.entries({ id: 'string', room: 'string', seq: 'number', sender: 'number', body: 'string', clientMsgId: 'string', ts: 'number' });

const PROFILE_FIELDS = Object.entries({ id: 'number', handle: 'string', displayName: 'string' });

function hasFields(x: unknown, fields: Array<[string, string]>): boolean {
  return typeof x === 'object' && x !== null && fields.every(([key, type]) => typeof (x as Record<string, unknown>)[key] === type);
}

const numbersOrAbsent = (x: unknown): boolean => x === undefined || (Array.isArray(x) && x.every((m) => typeof m === 'number'));

function isBusEvent(x: unknown): x is BusEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  const addressed =
    typeof e.room === 'string' && Array.isArray(e.members) && e.members.every((m) => typeof m === 'number') && (e.origin === undefined || typeof e.origin === 'string');
  switch (e.kind) {
    case 'message':
      return addressed && hasFields(e.message, MESSAGE_FIELDS) && (e.version === undefined || typeof e.version === 'number');
    case 'receipt':
      return addressed && typeof e.user === 'number' && (e.receipt === 'delivered' || e.receipt === 'read') && typeof e.seq === 'number' && numbersOrAbsent(e.hideFrom) && (e.private === undefined || e.private === true);
    case 'typing':
      return addressed && typeof e.user === 'number' && typeof e.active === 'boolean' && numbersOrAbsent(e.hideFrom);
    case 'privacy':
      return (
        typeof e.user === 'number' &&
        (e.settings === undefined || hasFields(e.settings, [['lastSeen', 'string'], ['readReceipts', 'boolean']])) &&
        (e.block === undefined || hasFields(e.block, [['user', 'number'], ['on', 'boolean']]))
      );
    case 'presence':
      return addressed && typeof e.user === 'number' && typeof e.online === 'boolean' && (e.lastSeen === undefined || typeof e.lastSeen === 'number');
    case 'profile':
      return addressed && hasFields(e.profile, PROFILE_FIELDS);
    case 'hidden':
      return typeof e.user === 'number' && typeof e.room === 'string' && typeof e.seq === 'number' && (e.origin === undefined || typeof e.origin === 'string');
    case 'session.ended':
      return typeof e.user === 'number' && Array.isArray(e.sessions) && e.sessions.every((s) => typeof s === 'string');
    case 'account.deleted':
      return typeof e.user === 'number';
    default:
      return false;
  }
}
