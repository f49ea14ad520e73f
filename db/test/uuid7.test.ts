import t from 'tap';
import { createUuid7, uuid7, uuid7Time } from '../uuid7.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A clock the test moves by hand. */
function manualClock(start: number) {
  let ms = start;
  return { now: () => ms, set: (to: number) => void (ms = to) };
}

t.test('an id is a version 7, RFC 9562 variant uuid in lower case', async (t) => {
  const ids = Array.from({ length: 1000 }, () => uuid7());
  t.ok(ids.every((id) => V7.test(id)), 'every id has version 7 and variant 10');
  t.equal(new Set(ids).size, ids.length, 'no id repeats');
});

t.test('the id carries the clock in its first 48 bits', async (t) => {
  const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0, 123));
  const make = createUuid7({ now: clock.now });
  t.equal(uuid7Time(make()), clock.now(), 'the timestamp reads back');
  t.equal(make().slice(0, 13), '01a22bae-b6fb', 'big-endian milliseconds, known value');
  clock.set(2 ** 48 - 1);
  t.equal(make().slice(0, 13), 'ffffffff-ffff', 'the largest timestamp fills 48 bits');
  clock.set(0);
  t.equal(uuid7Time(createUuid7({ now: clock.now })()), 0, 'the epoch is all zeros');
});

t.test('ids sort in the order they were made', async (t) => {
  t.test('within one millisecond, far past the 12-bit counter', async (t) => {
    const clock = manualClock(1_700_000_000_000);
    const make = createUuid7({ now: clock.now });
    const ids = Array.from({ length: 10_000 }, () => make());
    t.same([...ids].sort(), ids, 'lexicographic order is creation order');
    t.ok(uuid7Time(ids.at(-1)!) > clock.now(), 'the timestamp ran ahead of a clock that did not move');
    clock.set(clock.now() + 1);
    const next = make();
    t.ok(next > ids.at(-1)!, 'the clock catching up does not go back behind the ids it ran ahead with');
  });

  t.test('when the clock steps back', async (t) => {
    const clock = manualClock(1_700_000_000_000);
    const make = createUuid7({ now: clock.now });
    const before = make();
    clock.set(clock.now() - 60_000);
    const after = make();
    t.ok(after > before, 'a later id still sorts after an earlier one');
    t.equal(uuid7Time(after), uuid7Time(before), 'it keeps the last timestamp rather than the earlier clock');
  });

  t.test('across milliseconds', async (t) => {
    const clock = manualClock(1_700_000_000_000);
    const make = createUuid7({ now: clock.now });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      clock.set(clock.now() + (i % 3));
      ids.push(make());
    }
    t.same([...ids].sort(), ids, 'lexicographic order is creation order');
  });
});

t.test('the random part comes from the random source', async (t) => {
  const clock = manualClock(1_700_000_000_000);
  const zeros = createUuid7({ now: clock.now, random: (b) => b.fill(0) });
  t.equal(zeros().slice(14), '7000-8000-000000000000', 'all-zero randomness leaves only version and variant bits');
  const ones = createUuid7({ now: clock.now, random: (b) => b.fill(0xff) });
  t.equal(ones().slice(14), '77ff-bfff-ffffffffffff', 'the counter starts in its lower half; rand_b keeps 62 bits');
});

t.test('a time outside 48 bits is refused', async (t) => {
  const make = createUuid7({ now: () => 2 ** 48 });
  t.throws(() => make(), RangeError, 'a timestamp past 48 bits throws');
});
