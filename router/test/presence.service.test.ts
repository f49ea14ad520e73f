import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { MemoryPresenceStore } from '../../db/presence.memory.ts';
import type { RoomRecord, Watermarks } from '../../db/relational.port.ts';
import { MemoryBus } from '../src/bus.memory.ts';
import type { BusEvent } from '../src/bus.port.ts';
import { ConnectionRegistry } from '../src/connection.registry.ts';
import { createLogger } from '../src/logger.ts';
import { PresenceService } from '../src/presence.service.ts';

/** A room lookup that answers only when the test says so, as a busy database would. */
function heldRoomLookups() {
  const waiting: Array<() => void> = [];
  return {
    waiting,
    roomsOf(user: number): Promise<Array<RoomRecord & Watermarks>> {
      return new Promise((resolve) => waiting.push(() => resolve([{ id: 'r1', kind: 'direct', members: [user, 99], delivered: {}, read: {} }])));
    },
  };
}

t.test('shutdown waits for announcements already reading the database', async (t) => {
  const rooms = heldRoomLookups();
  const bus = new MemoryBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const presence = new PresenceService({
    presence: new MemoryPresenceStore(),
    relational: rooms,
    registry: new ConnectionRegistry({ perSec: 10, burst: 10 }),
    bus,
    log: createLogger('silent'),
  });

  // User 7 had a socket here and it closed: the offline announcement reads 7's rooms.
  presence.disconnected(7);
  await sleep(5);
  t.equal(rooms.waiting.length, 1, 'the announcement is reading the rooms');

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
  const presence = new PresenceService({
    presence: new MemoryPresenceStore(),
    relational: heldRoomLookups(),
    registry: new ConnectionRegistry({ perSec: 10, burst: 10 }),
    bus: new MemoryBus(),
    log: createLogger('silent'),
  });
  presence.pause();
  await presence.settled();
  t.pass('resolved');
});
