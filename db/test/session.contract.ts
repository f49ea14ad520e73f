/**
 * What every SessionStore must do, run against each implementation by session.test.ts. Expiry is
 * decided by the store's clock, which each case moves itself: TTLs are minutes and hours of that
 * clock, so neither a slow machine nor Redis's own (real-time) expiry can decide an outcome.
 */
import type { Test } from 'tap';

import { ManualScheduler } from '../../test/support/clock.ts';
import type { Clock } from '../clock.ts';
import { SESSION_METHOD_MAX, SESSION_USER_AGENT_MAX, type SessionStore } from '../session.port.ts';

/** Makes a fresh store on `clock` (at most `maxPerUser` sessions per user) for one case; the factory closes it (and cleans up) in `t.teardown`. */
export type MakeSessionStore = (t: Test, clock: Clock, maxPerUser?: number) => Promise<SessionStore>;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const MALFORMED_IDS = ['', '../x', 'x'.repeat(10_000), '{"$ne":null}', 'user:7', 'A'.repeat(42)];

/** Runs the session store contract as nested tests of `t`. */
export async function sessionContract(t: Test, makeOn: MakeSessionStore): Promise<void> {
  /** A store on a clock of the case's own. */
  const make = async (t: Test, clock = new ManualScheduler()) => makeOn(t, clock);

  t.test('a created session can be read back', async (t) => {
    const clock = new ManualScheduler();
    const store = await make(t, clock);
    const session = await store.create(42, HOUR);
    t.equal(session.userId, 42, 'the session belongs to the user it was created for');
    t.equal(session.createdAt, clock.now(), 'createdAt is the creation time');
    t.equal(session.expiresAt, session.createdAt + HOUR, 'expiresAt is createdAt plus the TTL');
    t.same(session.evicted, [], 'a first session ends no other');
    const { evicted: _, ...stored } = session;
    t.same(await store.get(session.id), stored, 'get returns the same session');
    t.equal(stored.lastActiveAt, stored.createdAt, 'a new session was last active when it was created');
    t.equal(stored.userAgent, '', 'without metadata the user agent is empty');
    t.equal(stored.method, '', 'and so is the method');
  });

  t.test('a session keeps the device and the method it was signed in with, within bounds', async (t) => {
    const store = await make(t);
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 "quoted" \\ é';
    const session = await store.create(11, HOUR, { userAgent: ua, method: 'passkey' });
    t.match(await store.get(session.id), { userAgent: ua, method: 'passkey' }, 'get returns the user agent and method exactly');
    t.ok(await store.touch(session.id, HOUR), 'the session is touched');
    t.match(await store.get(session.id), { userAgent: ua, method: 'passkey' }, 'touch keeps them');
    const long = await store.create(11, HOUR, { userAgent: 'x'.repeat(SESSION_USER_AGENT_MAX * 4), method: 'm'.repeat(SESSION_METHOD_MAX * 4) });
    const kept = await store.get(long.id);
    t.equal(kept?.userAgent.length, SESSION_USER_AGENT_MAX, `a user agent is cut to ${SESSION_USER_AGENT_MAX} characters`);
    t.equal(kept?.method.length, SESSION_METHOD_MAX, `a method is cut to ${SESSION_METHOD_MAX} characters`);
  });

  t.test('touch marks the session active at the time of the touch', async (t) => {
    const clock = new ManualScheduler();
    const store = await make(t, clock);
    const session = await store.create(12, HOUR);
    clock.advance(5 * MINUTE);
    t.equal(await store.touch(session.id, HOUR), true, 'the session is touched');
    const after = await store.get(session.id);
    t.equal(after?.lastActiveAt, session.createdAt + 5 * MINUTE, 'lastActiveAt is the touch time');
    t.equal(after?.createdAt, session.createdAt, 'createdAt stays');
  });

  t.test('listOf gives a user\'s live sessions, most recently active first', async (t) => {
    const clock = new ManualScheduler();
    const store = await make(t, clock);
    const first = await store.create(21, HOUR, { method: 'passkey' });
    clock.advance(MINUTE);
    const second = await store.create(21, HOUR, { method: 'github' });
    clock.advance(MINUTE);
    const third = await store.create(21, HOUR);
    const gone = await store.create(21, HOUR);
    await store.delete(gone.id);
    const expired = await store.create(21, 2 * MINUTE);
    await store.create(22, HOUR);
    clock.advance(2 * MINUTE);
    t.equal(await store.touch(first.id, HOUR), true, 'the first session is used again');

    const list = await store.listOf(21);
    t.same(list.map((s) => s.id), [first.id, third.id, second.id], 'live sessions only, the one used last first');
    t.notOk(list.some((s) => s.id === expired.id || s.id === gone.id), 'neither an expired nor a deleted session is listed');
    t.match(list[0], { userId: 21, method: 'passkey', lastActiveAt: clock.now() }, 'each carries its metadata and activity');
    t.match(list[2], { method: 'github' }, 'whatever it signed in with');
    t.same(await store.listOf(9999), [], 'a user without sessions has none');
  });

  t.test('a user has at most maxPerUser sessions: a new one ends the least recently used', async (t) => {
    const clock = new ManualScheduler();
    const store = await makeOn(t, clock, 3);
    const a = await store.create(31, HOUR);
    clock.advance(MINUTE);
    const b = await store.create(31, HOUR);
    clock.advance(MINUTE);
    const c = await store.create(31, HOUR);
    clock.advance(MINUTE);
    t.equal(await store.touch(a.id, HOUR), true, 'the oldest session is used again, so b is now the least recently used');
    const other = await store.create(32, HOUR);
    const d = await store.create(31, HOUR);
    t.same(d.evicted, [b.id], 'the fourth session ends the least recently used one');
    t.equal(await store.get(b.id), null, 'which is gone');
    t.same((await store.listOf(31)).map((s) => s.id).sort(), [a.id, c.id, d.id].sort(), 'the user keeps three');
    t.ok(await store.get(other.id), 'another user\'s session is untouched');
    const e = await store.create(31, HOUR);
    t.same(e.evicted, [c.id], 'the next one ends the next least recently used');
  });

  t.test('ids carry at least 128 random bits and never repeat', async (t) => {
    const store = await make(t);
    const sessions = await Promise.all(Array.from({ length: 500 }, (_, i) => store.create(i + 1, HOUR)));
    for (const { id } of sessions) {
      if (!/^[A-Za-z0-9_-]{22,}$/.test(id)) t.fail(`id ${JSON.stringify(id)} is not >= 22 base64url characters`);
    }
    t.pass('every id is at least 22 base64url characters (>= 128 bits)');
    t.equal(new Set(sessions.map((s) => s.id)).size, sessions.length, 'all 500 ids are distinct');
  });

  t.test('an expired session reads as null', async (t) => {
    const clock = new ManualScheduler();
    const store = await make(t, clock);
    const session = await store.create(1, MINUTE);
    clock.advance(MINUTE - 1);
    t.ok(await store.get(session.id), 'the session is there until the last millisecond of its TTL');
    clock.advance(1);
    t.equal(await store.get(session.id), null, 'the session is gone once its TTL has passed');
    t.equal(await store.touch(session.id, HOUR), false, 'an expired session cannot be touched back to life');
  });

  t.test('touch extends a live session past its original TTL', async (t) => {
    const clock = new ManualScheduler();
    const store = await make(t, clock);
    const session = await store.create(1, MINUTE);
    clock.advance(MINUTE / 2);
    t.equal(await store.touch(session.id, HOUR), true, 'touching a live session succeeds');
    clock.advance(MINUTE);
    const after = await store.get(session.id);
    t.ok(after, 'the session outlives its original TTL');
    t.equal(after?.expiresAt, session.createdAt + MINUTE / 2 + HOUR, 'the stored expiresAt is the touch time plus the new TTL');
    t.equal(after?.createdAt, session.createdAt, 'createdAt is unchanged by touch');
    t.equal(after?.userId, session.userId, 'the user is unchanged by touch');
  });

  t.test('touch of an unknown id is false', async (t) => {
    const store = await make(t);
    t.equal(await store.touch('A'.repeat(43), HOUR), false, 'a well-formed unknown id is not touched');
    t.equal(await store.touch('../x', HOUR), false, 'a malformed id is not touched');
  });

  t.test('delete removes a session and deleting an unknown one is fine', async (t) => {
    const store = await make(t);
    const session = await store.create(5, HOUR);
    const other = await store.create(5, HOUR);
    await store.delete(session.id);
    t.equal(await store.get(session.id), null, 'the deleted session is gone');
    t.ok(await store.get(other.id), 'the same user\'s other session is untouched');
    await t.resolves(store.delete(session.id), 'deleting it again resolves');
    await t.resolves(store.delete('A'.repeat(43)), 'deleting an unknown id resolves');
    await t.resolves(store.delete('../x'), 'deleting a malformed id resolves');
  });

  t.test('deleteAllOf removes only that user\'s sessions and returns their ids', async (t) => {
    const clock = new ManualScheduler();
    const store = await make(t, clock);
    const live = [await store.create(7, HOUR), await store.create(7, HOUR)];
    const deleted = await store.create(7, HOUR);
    await store.delete(deleted.id);
    const expired = await store.create(7, MINUTE);
    const others = [await store.create(8, HOUR), await store.create(70, HOUR)];
    clock.advance(MINUTE);

    const ids = await store.deleteAllOf(7);
    t.same([...ids].sort(), live.map((s) => s.id).sort(), 'it returns exactly the live sessions of the user');
    t.notOk(ids.includes(expired.id), 'an expired session is not reported');
    for (const s of live) t.equal(await store.get(s.id), null, `session ${s.id} of the user is gone`);
    for (const s of others) t.ok(await store.get(s.id), `session of user ${s.userId} is untouched`);
    t.same(await store.deleteAllOf(7), [], 'a second call finds nothing');
    t.same(await store.deleteAllOf(9999), [], 'a user without sessions gets an empty list');
  });

  t.test('deleteAllOf can keep one session: signing out the others', async (t) => {
    const store = await make(t);
    const keep = await store.create(41, HOUR);
    const others = [await store.create(41, HOUR), await store.create(41, HOUR)];
    const ids = await store.deleteAllOf(41, keep.id);
    t.same([...ids].sort(), others.map((s) => s.id).sort(), 'it ends exactly the others');
    t.ok(await store.get(keep.id), 'the kept session lives');
    t.same((await store.listOf(41)).map((s) => s.id), [keep.id], 'and is the only one listed');
    t.same(await store.deleteAllOf(41, keep.id), [], 'a second call finds nothing to end');
  });

  t.test('malformed ids read as null without throwing', async (t) => {
    const store = await make(t);
    await store.create(7, HOUR); // so 'user:7' would hit the user index if ids were not checked
    for (const id of MALFORMED_IDS) {
      t.equal(await store.get(id), null, `get(${JSON.stringify(id.slice(0, 20))}${id.length > 20 ? '…' : ''}) is null`);
    }
  });
}
