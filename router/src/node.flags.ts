/**
 * The Node flags a router process runs with. `npm start`, the image's CMD and the benchmark all pass
 * them; ops/test/ops.test.ts checks that each of them does.
 *
 * --max-semi-space-size=32 (MiB; V8's default on Node 20 is 16): under load the router allocates
 * short-lived objects (frames, parsed JSON, promises) at tens of MB/s, and each scavenge of the
 * young generation costs about the same whatever its size, so a larger one halves how often they
 * run. The benchmark at 8,000 msgs/s showed GC at 10% of a core before, 7% after.
 *
 * --no-allocation-site-pretenuring: V8 watches which allocation sites' objects survive a scavenge
 * and, past a threshold, allocates that site's objects straight in the old generation. A router's
 * per-message objects (the batch's arrays, actor messages, their promises) live a few
 * milliseconds, but a scavenge that lands during a stall finds many of them in flight, and V8
 * then tenured those sites for good: ~16 MB/s at 10,000 msgs/s went to the old generation to die
 * there (a sampling heap profile of objects freed by major GCs), and the marking and sweeping it
 * cost stalled every socket. Without it they die young. The benchmark at 10,000 msgs/s, three runs
 * each: p99 19.7, 24.7, 21.9 ms against 40.6, 41.9, 54.2 ms; GC 1.7-2.0% of a core against 3-5%.
 */
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--no-allocation-site-pretenuring'];

/**
 * The Node arguments that run one of the project's TypeScript entry points on the running Node:
 * none where Node strips the types itself (Node 24, the production runtime: `npm start` and the
 * image run `node router/src/main.ts`), tsx's loader on an older Node (a machine still on Node 20).
 * Tests and the benchmark spawn their children with these, so a child runs as in production
 * wherever the runtime allows. (`process.features.typescript` is 'strip' or 'transform' where Node
 * reads .ts files, false where that is turned off; @types/node 20 does not know it.)
 */
export const TYPESCRIPT_NODE_ARGS: readonly string[] = (process.features as { typescript?: string | false }).typescript
  ? []
  : ['--import', 'tsx'];
