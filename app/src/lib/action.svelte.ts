/**
 * One action at a time on a screen or in a section, and what came of the last one: what is running
 * (so the screen disables its buttons and can mark the one busy), a sentence when it worked, the
 * app's sentence for the error when it did not (`explain`, as everywhere). Reactive state the
 * markup reads.
 */
import { explain } from '$lib/errors.ts';

export class ActionState {
  /** What is running (a name the screen chose, '' when it needs none), or null. */
  busy = $state<string | null>(null);
  status = $state<string | null>(null);
  error = $state<string | null>(null);

  /** Something is running: the screen's buttons wait. */
  get running(): boolean {
    return this.busy !== null;
  }

  /** Runs `fn` as `what`; `done` is said when it worked (nothing when empty). True when it worked. */
  async run(what: string, fn: () => Promise<unknown>, done = ''): Promise<boolean> {
    this.busy = what;
    this.error = this.status = null;
    try {
      await fn();
      if (done) this.status = done;
      return true;
    } catch (err) {
      this.error = explain(err);
      return false;
    } finally {
      this.busy = null;
    }
  }

  /** Runs `fn` with no name (the screen marks no one button). */
  act(fn: () => Promise<unknown>, done = ''): Promise<boolean> {
    return this.run('', fn, done);
  }
}
