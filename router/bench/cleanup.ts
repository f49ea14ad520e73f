/**
 * Everything the run creates registers its undo here; the undos run last-in first-out on a normal
 * end, on an error and on SIGINT/SIGTERM, each bounded so a stuck one cannot hang the exit.
 */
interface Undo {
  name: string;
  run(): Promise<unknown> | unknown;
}

const stack: Undo[] = [];

/** Registers an undo; the returned function runs it now (once) and forgets it. */
export function defer(name: string, run: () => Promise<unknown> | unknown): () => Promise<void> {
  const undo: Undo = { name, run };
  stack.push(undo);
  return async () => {
    const i = stack.indexOf(undo);
    if (i < 0) return;
    stack.splice(i, 1);
    await runOne(undo);
  };
}

/** Runs every registered undo, newest first. */
export async function cleanupAll(): Promise<void> {
  while (stack.length > 0) await runOne(stack.pop()!);
}

async function runOne(undo: Undo, timeoutMs = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(undo.run),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), timeoutMs))),
    ]);
  } catch (err) {
    console.error(`cleanup "${undo.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
