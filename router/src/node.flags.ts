/**
 * The Node flags a router process runs with. `npm start`, the image's CMD and the benchmark all pass
 * them; ops/test/ops.test.ts checks that each of them does.
 *
 * --max-semi-space-size=32 (MiB; V8's default on Node 20 is 16): under load the router allocates
 * short-lived objects (frames, parsed JSON, promises) at tens of MB/s, and each scavenge of the
 * young generation costs about the same whatever its size, so a larger one halves how often they
 * run. The benchmark at 8,000 msgs/s showed GC at 10% of a core before, 7% after.
 */
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
