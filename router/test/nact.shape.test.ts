/**
 * The nact internals router/src/actor.scheduling.ts replaces and leans on, as the installed nact
 * has them. The patch rewrites Actor.prototype.handleMessage and calls members nact keeps private;
 * if an upgrade changes any of them, this test fails before the router misbehaves, and whoever
 * upgrades reads the patch again. It runs in its own process without the patch installed, so it
 * sees nact's own method.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import t from 'tap';

/** The nact release the scheduling patch was written against and checked with. */
const PATCHED_AGAINST = '7.6.2';

const require = createRequire(import.meta.url);
const { Actor } = require('nact/lib/actor.js') as { Actor?: { prototype: Record<string, unknown> } };
const proto = Actor?.prototype ?? {};
/** A method's source with whitespace collapsed, so formatting alone does not fail the test. */
const source = (name: string) => String(proto[name]).replace(/\s+/g, ' ');

t.test('the installed nact is the exact version package.json pins and the patch was written against', async (t) => {
  const root = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
  const installed = (require('nact/package.json') as { version: string }).version;
  t.equal(root.dependencies.nact, PATCHED_AGAINST, 'package.json pins nact exactly (no range)');
  t.equal(lock.packages['']?.dependencies?.nact, PATCHED_AGAINST, 'and so does package-lock.json');
  t.equal(lock.packages['node_modules/nact']?.version, PATCHED_AGAINST, 'the lock resolves it to that version');
  t.equal(installed, PATCHED_AGAINST, 'node_modules holds that version');
});

t.test("the Actor's handleMessage, which the patch replaces, is still nact's setImmediate dispatch", async (t) => {
  t.type(proto.handleMessage, 'function', 'Actor.prototype.handleMessage is a function');
  t.equal((proto.handleMessage as (...args: unknown[]) => unknown).length, 2, 'it takes (message, sender)');
  const body = source('handleMessage');
  t.match(body, /^handleMessage ?\(message, sender\)/, 'its parameters are named message and sender');
  t.match(body, /this\.busy = true;/, 'it marks the actor busy first, as the patch does');
  t.match(body, /this\.immediate = setImmediate\(/, 'it runs the message on an immediate that stop() can cancel (the patch checks `stopped` instead)');
  t.match(body, /this\.createContext\(sender\)/, 'it builds the context from the sender');
  t.match(body, /this\.f\.call\(ctx, this\.state, message, ctx\)/, 'it calls the actor function with (state, message, context) and the context as `this`');
  t.match(body, /this\.state = next;/, 'it stores what the function returned (awaited) as the new state');
  t.match(body, /this\.afterMessage\(\); this\.processNext\(\);/, 'then runs afterMessage and processNext, in that order');
  t.match(body, /catch \(e\) \{ this\.handleFault\(message, sender, e\);/, 'and hands a throw to handleFault with the message and sender');
  const members = [...new Set(body.match(/this\.\w+/g))].sort();
  t.same(members, ['this.afterMessage', 'this.busy', 'this.createContext', 'this.f', 'this.handleFault', 'this.immediate', 'this.processNext', 'this.state'], 'and touches no other member of the actor');
});

t.test('the members the patched handleMessage calls are there, with the behaviour it relies on', async (t) => {
  for (const [name, arity] of [
    ['createContext', 1],
    ['afterMessage', 0],
    ['processNext', 0],
    ['handleFault', 3],
    ['stop', 0],
    ['dispatch', 1],
  ] as const) {
    t.type(proto[name], 'function', `Actor.prototype.${name} is a function`);
    t.equal((proto[name] as (...args: unknown[]) => unknown).length, arity, `${name} takes ${arity} argument(s) before any default`);
  }
  t.match(source('stop'), /this\.clearImmediate\(\);.*this\.stopped = true;/, 'stop() cancels the pending immediate and sets `stopped`, which the patch reads instead');
  t.match(source('processNext'), /if \(!this\.stopped\) \{ const nextMsg = this\.mailbox\.shift\(\); if \(nextMsg\) \{ this\.handleMessage\(nextMsg\.message, nextMsg\.sender\);.*this\.busy = false;/, 'processNext hands the next mailbox message to handleMessage, or marks the actor idle');
  t.match(source('dispatch'), /if \(!this\.busy\) \{ this\.handleMessage\(message, sender\); \} else \{ this\.mailbox\.push\(\{ message, sender \}\);/, 'dispatch runs a message at once only when the actor is idle, and queues it otherwise');
});
