import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { MemoryPresenceStore } from '../../db/presence.memory.ts';
import type { OwnMembership, RoomRecord, Watermarks } from '../../db/relational.port.ts';
import { MemoryBus } from '../src/live/bus.memory.ts';
import type { BusEvent } from '../src/live/bus.port.ts';
import { ConnectionRegistry } from '../src/socket/registry.ts';
import { createLogger } from '../../kit/logger.ts';
import { PresenceService, type PresenceServiceDeps } from '../src/live/presence.ts';
import { waitFor } from '../../test/support/wait.ts';
import { ManualScheduler } from '../../test/support/clock.ts';

/** A room lookup that answers only when the test says so, as a busy database would. */
function heldRoomLookups() {
  const waiting: Array<() => void> = [];
  return {
    waiting,
    roomsOf(user: number): Promise<Array<RoomRecord & Watermarks & { own: OwnMembership }>> {
      return new Promise((resolve) =>
        waiting.push(() => resolve([{ id: 'r1', kind: 'direct', members: [user, 99], delivered: {}, read: {}, own: { joinedSeq: 0, leftSeq: null, muted: false } }])),
      );
    },
  };
}

function presenceService(relational: PresenceServiceDeps['relational'], bus = new MemoryBus(), clock?: ManualScheduler): PresenceService {
  return new PresenceService({
    presence: new MemoryPresenceStore({ clock }),
    relational,
    registry: new ConnectionRegistry({ perSec: 10, burst: 10, windowMs: 10_000, closeAfter: 1000 }),
    bus,
    log: createLogger('silent'),
    clock,
  });
}

t.test('shutdown waits for announcements already reading the database', async (t) => {
  const rooms = heldRoomLookups();
  const bus = new MemoryBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const presence = presenceService(rooms, bus);

  // User 7 had a socket here and it closed: the offline announcement reads 7's rooms.
  presence.disconnected(7);
  t.ok(await waitFor(() => rooms.waiting.length === 1), 'the announcement is reading the rooms');

  presence.pause();
  let settled = false;
  const done = presence.settled().then(() => (settled = true));
  await sleep(20);
  t.notOk(settled, 'settled() waits while the lookup is still out: closing the store now would abort it');

  rooms.waiting[0]!();
  await done;
  t.ok(settled, 'and resolves once it has finished');
  await bus.flush();
  t.same(events, [], 'a paused node announces nothing, even for lookups started before the pause');
});

t.test('settled() resolves at once when nothing is under way', async (t) => {
  const presence = presenceService(heldRoomLookups());
  presence.pause();
  await presence.settled();
  t.pass('resolved');
});

t.test('an offline announcement says when the last socket closed, by the node\'s clock', async (t) => {
  const rooms = heldRoomLookups();
  const bus = new MemoryBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const clock = new ManualScheduler(1_000_000);
  const presence = presenceService(rooms, bus, clock);
  presence.disconnected(7);
  clock.advance(5_000);
  t.ok(await waitFor(() => rooms.waiting.length === 1), 'the announcement is reading the rooms');
  rooms.waiting[0]!();
  await bus.flush();
  t.ok(await waitFor(() => events.length === 1), 'one announcement went out');
  t.match(events[0], { kind: 'presence', user: 7, online: false, lastSeen: 1_000_000 }, 'with the time the socket closed, not the time it was announced');
});
