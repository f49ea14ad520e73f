/**
 * Runs each nact actor's next message on a microtask instead of nact's own setImmediate.
 *
 * Why: nact hands every message to its actor in a fresh setImmediate, and one dispatched from
 * inside an immediate (which is where every actor runs) waits for the next turn of the event loop.
 * A chat message crosses two actors and then the group commit, so it waited two or three whole turns,
 * and under load a turn is as long as all the work that arrived during the previous one: tens of
 * milliseconds at 10,000 messages/s. On a microtask, the frame, both actors and the hand-off to the
 * group commit all happen in the I/O callback that read the frame. Each actor still handles one
 * message at a time, in mailbox order, and supervision is unchanged.
 *
 * Fairness: a mailbox drains without yielding to I/O, which is bounded by what is in it; no actor
 * of the router sends to itself, so no chain refills its own mailbox forever.
 *
 * nact keeps these members private, so package.json pins nact to the exact release this was written
 * against, and router/test/nact.shape.test.ts fails when an upgrade changes any of them.
 */
import { createRequire } from 'node:module';

/** The members of nact's Actor (lib/actor.js, nact 7.6.2) that its handleMessage uses. */
interface ActorInternals {
  busy: boolean;
  stopped: boolean;
  state: unknown;
  f: (this: object, state: unknown, msg: unknown, ctx: object) => unknown;
  createContext(sender: unknown): object;
  afterMessage(): void;
  processNext(): void;
  handleFault(msg: unknown, sender: unknown, err: unknown): void;
  handleMessage(msg: unknown, sender: unknown): void;
}

// The same module instance `import 'nact'` uses: ESM imports of CommonJS share require's cache.
const { Actor } = createRequire(import.meta.url)('nact/lib/actor.js') as { Actor: { prototype: ActorInternals } };
let installed = false;

/** Installs the microtask scheduling into nact, once per process; nact's stock behaviour otherwise. */
export function runActorsOnMicrotasks(): void {
  if (installed) return;
  if (typeof Actor?.prototype?.handleMessage !== 'function' || typeof Actor.prototype.processNext !== 'function') {
    throw new Error('nact changed: its Actor no longer has the handleMessage/processNext this router replaces');
  }
  installed = true;
  Actor.prototype.handleMessage = function (this: ActorInternals, message: unknown, sender: unknown): void {
    this.busy = true;
    queueMicrotask(async () => {
      // nact's stop() cancels a pending immediate; a microtask cannot be cancelled, so it looks.
      if (this.stopped) return;
      try {
        const ctx = this.createContext(sender);
        this.state = await this.f.call(ctx, this.state, message, ctx);
        this.afterMessage();
        this.processNext();
      } catch (err) {
        this.handleFault(message, sender, err);
      }
    });
  };
}
