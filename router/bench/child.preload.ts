/**
 * Preloaded into every benchmark child (`--import`), so router/src/main.ts runs unchanged:
 *  - the IPC request `{type:'bench.memory'}` runs two full garbage collections (needs --expose-gc)
 *    and answers with process.memoryUsage(), for settled memory readings;
 *  - losing the IPC channel (the bench died, even by SIGKILL) stops the child, so no server is
 *    ever left behind; SIGTERM goes through the entry script's own graceful shutdown when it has one.
 */
// Plain gc(), not gc({ type: 'major', flavor: 'last-resort' }): on Node 20 (V8 11.3) the latter
// runs minor GCs only, so readings carried whatever garbage the old generation held (several MiB
// after each presence heartbeat) and never settled.
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

process.on('message', (msg: { type?: string }) => {
  if (msg?.type !== 'bench.memory') return;
  gc();
  // A second pass collects what the first one's finalizers released.
  setTimeout(() => {
    gc();
    process.send?.({ type: 'bench.memory', ...process.memoryUsage() });
  }, 100);
});

process.on('disconnect', () => {
  process.kill(process.pid, 'SIGTERM');
  // main.ts exits by itself; an entry without a SIGTERM handler has already died of it.
  setTimeout(() => process.exit(1), 10_000).unref();
});
