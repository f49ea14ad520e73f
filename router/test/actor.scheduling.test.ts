/**
 * nact with the router's microtask scheduling: a chain of actors runs within the I/O callback that
 * started it, and nact's guarantees (one message at a time, mailbox order, stop, supervision) hold.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dispatch, spawn, start, stop, type Ref } from 'nact';
import t from 'tap';

import { runActorsOnMicrotasks } from '../src/actor.scheduling.ts';

runActorsOnMicrotasks();

t.test('a message crosses a chain of actors before the next turn of the event loop', async (t) => {
  const system = start();
  t.teardown(() => stop(system));
  const seen: string[] = [];
  const last = spawn(system, (state: null, msg: string) => (seen.push(`last:${msg}`), state), 'last', { initialState: null });
  const middle = spawn(system, (state: null, msg: string) => (dispatch(last, msg), state), 'middle', { initialState: null });
  const first = spawn(system, (state: null, msg: string) => (dispatch(middle, msg), state), 'first', { initialState: null });
  await new Promise<void>((resolve) => {
    dispatch(first, 'hello');
    setImmediate(() => {
      t.same(seen, ['last:hello'], 'the third actor handled it before an immediate queued alongside ran');
      resolve();
    });
  });
});

t.test('an actor handles one message at a time, in mailbox order, even when it awaits', async (t) => {
  const system = start();
  t.teardown(() => stop(system));
  const log: string[] = [];
  let running = 0;
  let overlapped = false;
  const done = new Promise<void>((resolve) => {
    const actor = spawn(
      system,
      async (count: number, msg: number) => {
        overlapped ||= ++running > 1;
        log.push(`start ${msg}`);
        await sleep(msg % 2 === 0 ? 5 : 0);
        log.push(`end ${msg}`);
        running--;
        if (count + 1 === 4) resolve();
        return count + 1;
      },
      'serial',
      { initialState: 0 },
    );
    for (const n of [0, 1, 2, 3]) dispatch(actor, n);
  });
  await done;
  t.notOk(overlapped, 'no two messages were handled at once');
  t.same(log, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3'], 'in the order they were dispatched');
});

t.test('a message still queued when its actor stops is never handled', async (t) => {
  const system = start();
  t.teardown(() => stop(system));
  const handled: number[] = [];
  const actor: Ref<number> = spawn(system, (state: null, msg: number) => (handled.push(msg), state), 'stopping', { initialState: null });
  dispatch(actor, 1);
  stop(actor);
  await sleep(10);
  t.same(handled, [], 'the message dispatched before stop() was dropped, as nact drops it');
});

t.test('a crash goes to the supervision policy, and a reset actor goes on with its mailbox', async (t) => {
  const system = start();
  t.teardown(() => stop(system));
  const handled: string[] = [];
  const crashes: string[] = [];
  await new Promise<void>((resolve) => {
    const actor = spawn(
      system,
      (state: { n: number }, msg: string) => {
        if (msg === 'boom') throw new Error('boom');
        handled.push(`${msg}@${state.n}`);
        if (msg === 'after') resolve();
        return { n: state.n + 1 };
      },
      'crashing',
      {
        initialStateFunc: () => ({ n: 0 }),
        onCrash: (msg, err, sup) => {
          crashes.push(`${String(msg)}: ${(err as Error).message}`);
          return sup.reset;
        },
      },
    );
    for (const msg of ['before', 'boom', 'after']) dispatch(actor, msg);
  });
  t.same(crashes, ['boom: boom'], 'the crash reached onCrash with its message');
  t.same(handled, ['before@0', 'after@0'], 'the message after the crash was handled, on a fresh state');
});
