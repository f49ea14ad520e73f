import t from 'tap';
import type { Message, RoomEvent } from '../../protocol/frames.ts';
import { GroupMembers } from '../src/live/group.members.ts';

const room = 'g-test';
const ev = (seq: number, event: RoomEvent): Message => ({ id: `e${seq}`, room, seq, sender: 1, body: '', clientMsgId: `ev${seq}`, ts: 0, kind: 'event', event });
const text = (seq: number): Message => ({ id: `m${seq}`, room, seq, sender: 1, body: 'hi', clientMsgId: `c${seq}`, ts: 0 });

/** A loader the test answers by hand, so it decides when a load completes. */
function heldLoader(initial: { members: number[]; version: number }) {
  const pending: Array<() => void> = [];
  let state = initial;
  let calls = 0;
  return {
    set: (next: typeof initial) => (state = next),
    release: () => pending.splice(0).forEach((f) => f()),
    loads: () => calls,
    load: (_room: string) => {
      calls++;
      return new Promise<typeof initial>((resolve) => pending.push(() => resolve(state)));
    },
  };
}

t.test('a node\'s view of a group', async (t) => {
  const loader = heldLoader({ members: [1, 2, 3], version: 1 });
  const groups = new GroupMembers(loader.load, () => {});
  const got: Array<[number, number[]]> = [];
  const route = (entry?: Message, version?: number) => groups.route(room, (m) => got.push([entry?.seq ?? 0, [...m].sort()]), entry, version);

  route(text(2), 1);
  route(text(3), 1);
  t.same(got, [], 'events wait while the group loads');
  loader.release();
  await Promise.resolve();
  t.same(got, [[2, [1, 2, 3]], [3, [1, 2, 3]]], 'then go out in order, to the loaded members');

  route(ev(5, { type: 'member.removed', user: 3 }));
  t.same(got.at(-1), [5, [1, 2, 3]], 'a removal goes to the removed member too');
  route(ev(4, { type: 'member.added', user: 4, role: 'member' }));
  t.same(got.at(-1), [4, [1, 2, 4]], 'an addition arriving late (another node published it) still applies, and reaches the new member');
  route(ev(3, { type: 'member.added', user: 3, role: 'member' }));
  t.same(got.at(-1), [3, [1, 2, 4]], 'a change older than the one already applied to that user is ignored');

  loader.set({ members: [1, 2, 4, 6], version: 7 });
  route(text(8), 7);
  t.equal(loader.loads(), 2, 'a message stored under a membership this node has not seen makes it reload');
  loader.release();
  await Promise.resolve();
  t.same(got.at(-1), [8, [1, 2, 4, 6]], 'and it goes to the members as reloaded');
});
