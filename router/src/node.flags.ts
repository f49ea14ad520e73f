/**
 * The Node flags a router process runs with. `npm start`, the image's CMD and the benchmark all
 * pass this list (ops/test/ops.test.ts checks that each passes exactly it), so a flag a later
 * measurement finds worth having goes here, with its figures.
 *
 * --liftoff-only: WebAssembly runs on V8's baseline compiler (Liftoff) only, never tiered up to
 * TurboFan. The one WebAssembly a router runs hot is PGlite on the embedded default, and
 * TurboFan compiling its hottest functions in the first seconds after PGlite opens took the
 * process from ~220 MB to ~750 MB for about a second, and left ~50 MB more resident for good
 * (Node 24.22.3, the PGlite of package-lock.json; a process that only opens PGlite and runs the
 * migrations: peak 725-755 MB and 224-256 MB five seconds later without the flag, 177-179 MB
 * peak and 170-179 MB after with it). Its queries were not slower: 3,000 single-row INSERTs
 * and 1,000 indexed SELECTs took 2.5-2.8 s and 2.8-3.6 s with it, 3.0-3.9 s and 2.8-3.3 s
 * without (interleaved runs on the busy 2-core machine). On the full stack no WebAssembly runs
 * hot, and the flag changes nothing there.
 *
 * Node 20 ran with two, both dropped on Node 24 because the benchmark no longer shows their effect
 * (figures and method in router/bench/README.md, "Node flags"):
 * - --max-semi-space-size=32 (MiB): on Node 20 it doubled V8's 16 MiB young generation, so
 *   scavenges ran half as often under load. Node 24's V8 grows the semi-spaces to 64 MiB by
 *   itself: the flag now halves them (40 scavenges against 28 for the same allocations) and the
 *   benchmark's GC share at 10,000 msgs/s went up with it.
 * - --no-allocation-site-pretenuring: on Node 20 V8 tenured the sites of the router's per-message
 *   objects during stalls and p99 at 10,000 msgs/s doubled; on Node 24 runs without it are as good
 *   or better (p99, GC share) as runs with it.
 */
export const ROUTER_NODE_FLAGS: readonly string[] = ['--liftoff-only'];

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
