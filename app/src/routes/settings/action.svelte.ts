/**
 * One action at a time in a settings section, and what came of the last one: what is running (so
 * the section disables its buttons and marks the one busy), a sentence when it worked, the
 * app's sentence for the error when it did not. Reactive state the section's markup reads.
 */
import { explain } from '$lib/errors.ts';

export class SectionAction {
  /** What is running (a name the section chose), or null. */
  busy = $state<string | null>(null);
  status = $state<string | null>(null);
  error = $state<string | null>(null);

  /** Runs `fn` as `what`; `done` is said when it worked (nothing when ''). */
  async run(what: string, fn: () => Promise<unknown>, done: string): Promise<void> {
    this.busy = what;
    this.error = this.status = null;
    try {
      await fn();
      if (done) this.status = done;
    } catch (err) {
      this.error = explain(err);
    } finally {
      this.busy = null;
    }
  }
}
