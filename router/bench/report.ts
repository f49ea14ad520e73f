/**
 * The printed report: one line per finished step while running, then per-target tables, the
 * router/ceiling comparison and the verdict against the targets (the 1:1 mode's, or the group
 * mode's: there a message is many deliveries, and the figures count deliveries, i.e. frames).
 */
import type { CpuFigures } from './cpu.sampler.ts';
import type { RunTotals, StepResult } from './load.client.ts';
import type { ServerWindow } from './metrics.scrape.ts';
import { bytes, fixed, int, ratio, table } from './stats.ts';

/** The goals the router is held to. */
export const TARGETS = {
  /** Delivered messages/s sustained... */
  rate: 10_000,
  /** ...with this p99 end-to-end latency, ms... */
  p99Ms: 50,
  /** ...at this many connections. */
  connections: 1000,
  /** Idle memory per connection, at most this multiple of the bare forwarder's. */
  memoryRatio: 3,
  /** Measured throughput may fall this far below the offered rate and still count as sustaining it. */
  tolerance: 0.01,
  /** The load generator is called saturated above this CPU %, of one core. */
  benchSaturated: 90,
} as const;

/** The goals of the group mode (--groups): fan-out capacity against the bare forwarder's. */
export const GROUP_TARGETS = {
  /** At this layout: G groups of M members over C connections... */
  groups: 100,
  members: 50,
  connections: 1000,
  /** ...the highest delivered frames/s of a step with this p99 and no loss... */
  p99Ms: 100,
  /** ...is at least this fraction of the bare forwarder's. */
  capacityRatio: 0.5,
} as const;

/** The group mode's layout, when a run used it. */
export interface GroupMode {
  groups: number;
  members: number;
  /** Whether members acknowledged (--group-acks). */
  acks: boolean;
}

export type MeasuredStep = StepResult & {
  cpu: CpuFigures;
  /** PostgreSQL commits/s in the router's database during the window (full stack; NaN otherwise). */
  commitsPerSec: number;
  /** The router's own metrics over the window (NaN without /metrics). */
  server: ServerWindow;
};

export interface TargetRun {
  key: 'router' | 'bare';
  /** Set in the group mode. */
  groups?: GroupMode;
  /** Time to create the groups through group.create, ms (group mode). */
  groupsMs?: number;
  label: string;
  how: string;
  stores: Record<string, string>;
  connections: number;
  connectMs: number;
  /** Whether both memory readings settled (see idle.memory.ts). */
  memorySettled: boolean;
  /** Largest max - min of the RSS readings behind rss0 and rssC. */
  rssSpread: number;
  /** Server CPU while idle with all connections open, % of a core. */
  idleCpuPercent: number;
  rss0: number;
  rssC: number;
  /** V8 heap used + external, settled, with 0 and with all connections. */
  heap0: number;
  heapC: number;
  warmup: StepResult;
  steps: MeasuredStep[];
  /** The whole run, counted after the final drain. */
  totals: RunTotals;
  finalDrainMs: number;
  unexpectedCloses: number;
  logLines: number;
}

/** Idle memory per connection: growth of the settled RSS from 0 to all connections, per connection. */
export const memPerConn = (run: TargetRun): number => (run.rssC - run.rss0) / run.connections;
/** The same from V8's heap + external figures (steadier; misses native memory such as libuv handles). */
export const heapPerConn = (run: TargetRun): number => (run.heapC - run.heap0) / run.connections;
/**
 * What the memory verdict compares: the RSS growth, but never less than the heap + external growth.
 * The connections' objects must live somewhere; an RSS growth below theirs means they landed in
 * pages the process already held (freed earlier and kept by malloc or V8), and then RSS says
 * nothing of what a connection costs (runs here read 0.2 to 3.3 KiB for the same bare forwarder).
 */
export const judgedPerConn = (run: TargetRun): number => Math.max(memPerConn(run), heapPerConn(run));

const pct = (v: number) => fixed(v, 0);
const ms = (v: number) => fixed(v, 1);

/** Server CPU per delivery, µs (CPU % of a core over deliveries/s). */
export const serverUsPerDelivery = (s: MeasuredStep): number => (s.cpu.server * 1e4) / s.sustained;
/** The same with the services the server leans on (PostgreSQL, RabbitMQ, Redis) added. */
export const stackUsPerDelivery = (s: MeasuredStep): number =>
  ((s.cpu.server + (s.cpu.postgres || 0) + (s.cpu.rabbitmq || 0) + (s.cpu.redis || 0)) * 1e4) / s.sustained;

/** One progress line for a finished step. */
export function stepLine(label: string, s: MeasuredStep, grouped = false): string {
  if (grouped) {
    return (
      `  [${label}] ${int(s.rate)} msgs/s offered: ${int(s.sustained)} frames/s delivered, p50 ${ms(s.p50)} p99 ${ms(s.p99)} max ${ms(s.max)} ms, ` +
      `${int(s.delivered)}/${int(s.expected)} deliveries, dup ${s.duplicates}, order ${s.orderViolations}, strays ${s.strays}, errors ${s.errors}, ` +
      `server ${pct(s.cpu.server)}% bench ${pct(s.cpu.bench)}% other ${pct(s.cpu.other)}% CPU, ${fixed(serverUsPerDelivery(s), 1)} µs server CPU per frame`
    );
  }
  return (
    `  [${label}] ${int(s.rate)}/s offered: ${int(s.sustained)}/s delivered, p50 ${ms(s.p50)} p99 ${ms(s.p99)} max ${ms(s.max)} ms, ` +
    `${int(s.delivered)}/${int(s.sent)} delivered, dup ${s.duplicates}, order ${s.orderViolations}, errors ${s.errors}, ` +
    `server ${pct(s.cpu.server)}% bench ${pct(s.cpu.bench)}% CPU`
  );
}

/** The cells both results tables open with: rate, volume, latency, and the delivery checks. */
function deliveryCells(s: TargetRun['steps'][number]): string[] {
  return [
    int(s.rate),
    int(s.sent),
    int(s.sustained),
    ms(s.p50),
    ms(s.p99),
    ms(s.max),
    fixed(s.expected ? s.delivered / s.expected : Number.NaN, 4),
    String(s.duplicates),
    String(s.orderViolations),
  ];
}

/** The two tables of one target: results, then resources. */
export function targetTables(run: TargetRun, cores: number): string {
  const results = run.groups ? groupResults(run) : table([
    ['offered/s', 'sent', 'delivered/s', 'p50 ms', 'p99 ms', 'max ms', 'deliv/sent', 'dups', 'order', 'acks', 'receipts', 'errors', 'server CPU%', 'bench CPU%'],
    ...run.steps.map((s) => [
      ...deliveryCells(s),
      int(s.acks),
      int(s.receipts),
      String(s.errors),
      pct(s.cpu.server),
      pct(s.cpu.bench),
    ]),
  ]);
  const resources = table([
    ['offered/s', 'postgres CPU%', 'rabbitmq CPU%', 'redis CPU%', `machine CPU% (of ${cores * 100})`, 'other CPU%', 'server preempted/s', 'server waited for a core ms/s', 'pg commits/s', 'msgs/commit', 'sched lag max ms', 'drain s', 'error codes'],
    ...run.steps.map((s) => [
      int(s.rate),
      pct(s.cpu.postgres),
      pct(s.cpu.rabbitmq),
      pct(s.cpu.redis),
      pct(s.cpu.machine),
      pct(s.cpu.other),
      fixed(s.cpu.serverPreemptions, 0),
      fixed(s.cpu.serverWaitMs, 0),
      fixed(s.commitsPerSec, 0),
      fixed(s.rate / s.commitsPerSec, 1),
      ms(s.schedulerLagMax),
      fixed(s.drainMs / 1000, 1),
      Object.entries(s.errorCodes)
        .map(([code, n]) => `${code}:${n}`)
        .join(' ') || '-',
    ]),
  ]);
  const hasMetrics = run.steps.some((s) => Number.isFinite(s.server.loopMaxMs));
  const server = table([
    ['offered/s', 'batches/s', 'msgs/batch', 'commit ms', 'stored->socket ms', 'bus confirm ms', 'loop delay p99 ms', 'loop delay max ms', 'GC %'],
    ...run.steps.map((s) => [
      int(s.rate),
      fixed(s.server.batchesPerSec, 0),
      fixed(s.server.batchMean, 1),
      ms(s.server.commitMeanMs),
      ms(s.server.deliveryMeanMs),
      ms(s.server.busConfirmMeanMs),
      ms(s.server.loopP99Ms),
      ms(s.server.loopMaxMs),
      fixed(s.server.gcPercent, 1),
    ]),
  ]);
  const w = run.warmup;
  const t = run.totals;
  const g = run.groups;
  return [
    `== ${run.label}: ${run.how}`,
    ...(g
      ? [
          `   group mode: ${int(g.groups)} groups of ${g.members} members over ${int(run.connections)} connections, created through group.create in ${fixed((run.groupsMs ?? Number.NaN) / 1000, 1)} s; ` +
            `each message goes to ${g.members - 1} members; members ${g.acks ? 'acknowledge (message.ack per room per event-loop turn)' : 'do not acknowledge (no receipts)'}`,
        ]
      : []),
    `   stores: ${Object.entries(run.stores).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `   ${run.connections} connections opened in ${fixed(run.connectMs / 1000, 1)} s; RSS idle: ${bytes(run.rss0)} with 0, ` +
      `${bytes(run.rssC)} with ${run.connections} -> ${bytes(memPerConn(run))} per connection ` +
      `(V8 heap + external: ${bytes(heapPerConn(run))} per connection); RSS readings spread up to ${bytes(run.rssSpread)} (${fixed(run.rssSpread / run.connections / 1024, 1)} KiB per connection)${run.memorySettled ? '' : ', not settled within 30 s'}; ` +
      `server CPU idle with ${run.connections} connections: ${fixed(run.idleCpuPercent, 1)}%`,
    `   initial warm-up: ${int(w.sent)} sent at ${int(w.rate)}/s, ${int(w.delivered)} delivered, ${w.errors} errors (not measured)`,
    results,
    g
      ? `   frames/s: message.new deliveries inside the measured window, over all members; latencies: every member's copy of the messages intended inside it; deliv/due: by the end of the step's drain; µs/frame: CPU per delivered frame (stack: with PostgreSQL, RabbitMQ and Redis)`
      : `   delivered/s: deliveries inside the measured window; latencies: messages intended inside it; deliv/sent: by the end of the step's drain`,
    '',
    resources,
    ...(hasMetrics ? ['', `   the server's own metrics (GET /metrics at the window's start and end; means over the window):`, server] : []),
    `   whole run (warm-ups included), after a final drain of ${fixed(run.finalDrainMs / 1000, 1)} s: ${int(t.sent)} sent, ` +
      (g ? `${int(t.expected)} deliveries due, ` : '') +
      `${int(t.acks)} acknowledged, ${int(t.delivered)} delivered (${int(t.late)} after their step's drain), ` +
      `${int(t.expected - t.delivered)} never delivered, ${t.duplicates} duplicates, ${t.orderViolations} order violations, ` +
      `${run.totals.sendFailures} sends on closed sockets; ${run.unexpectedCloses} sockets closed unexpectedly; ` +
      `server log: ${run.logLines} lines at warn or above`,
  ].join('\n');
}

/** The group mode's results table: deliveries (frames) and CPU per frame. */
function groupResults(run: TargetRun): string {
  return table([
    ['offered msgs/s', 'sent', 'frames/s', 'p50 ms', 'p99 ms', 'max ms', 'deliv/due', 'dups', 'order', 'strays', 'acks', 'receipts', 'errors', 'server CPU%', 'bench CPU%', 'other CPU%', 'server µs/frame', 'stack µs/frame'],
    ...run.steps.map((s) => [
      ...deliveryCells(s),
      String(s.strays),
      int(s.acks),
      int(s.receipts),
      String(s.errors),
      pct(s.cpu.server),
      pct(s.cpu.bench),
      pct(s.cpu.other),
      fixed(serverUsPerDelivery(s), 1),
      fixed(stackUsPerDelivery(s), 1),
    ]),
  ]);
}

/** The group mode's router/ceiling comparison: frames/s, p99 and CPU per frame, and capacity. */
export function groupComparison(router: TargetRun, bare: TargetRun): string {
  const rows = router.steps.map((r) => {
    const b = bare.steps.find((s) => s.rate === r.rate);
    const nan = Number.NaN;
    return [
      int(r.rate),
      int(r.sustained),
      b ? int(b.sustained) : '-',
      ratio(r.sustained, b?.sustained ?? nan),
      ms(r.p99),
      b ? ms(b.p99) : '-',
      fixed(serverUsPerDelivery(r), 1),
      fixed(stackUsPerDelivery(r), 1),
      b ? fixed(serverUsPerDelivery(b), 1) : '-',
      ratio(stackUsPerDelivery(r), b ? serverUsPerDelivery(b) : nan),
      pct(r.cpu.other),
      b ? pct(b.cpu.other) : '-',
    ];
  });
  const capR = capacity(router, GROUP_TARGETS.p99Ms);
  const capB = capacity(bare, GROUP_TARGETS.p99Ms);
  const fanout = (router.groups?.members ?? 2) - 1;
  return [
    `== ${router.label} / ceiling (bare ws fan-out forwarder), group mode`,
    table([
      ['offered msgs/s', 'router frames/s', 'bare frames/s', 'throughput', 'router p99', 'bare p99', 'router µs/frame', 'router+services µs/frame', 'bare µs/frame', 'CPU/frame', 'other CPU% router', 'other CPU% bare'],
      ...rows,
    ]),
    `   capacity (highest delivered frames/s of a step with p99 <= ${GROUP_TARGETS.p99Ms} ms and no loss): router ${int(capR)}/s (${int(capR / fanout)} msgs/s), ` +
      `bare ${int(capB)}/s (${int(capB / fanout)} msgs/s) -> ${ratio(capR, capB)}` +
      (ceilingKeptUp(bare) ? ' (the ceiling kept up with every step: its real capacity is higher, so the ratio is an upper bound)' : ''),
  ].join('\n');
}

/** True when the bare run met the goal at every step, so its capacity is more than measured. */
function ceilingKeptUp(bare: TargetRun, p99Ms: number = bare.groups ? GROUP_TARGETS.p99Ms : TARGETS.p99Ms): boolean {
  const top = bare.steps.reduce<MeasuredStep | undefined>((a, s) => (!a || s.rate > a.rate ? s : a), undefined);
  return !!top && top.p99 <= p99Ms && top.delivered === top.expected && top.sustained >= top.rate * (top.expected / Math.max(1, top.sent)) * (1 - TARGETS.tolerance);
}

/** Router figures over the ceiling's, step by step, and memory. */
export function comparison(router: TargetRun, bare: TargetRun): string {
  const rows = router.steps.map((r) => {
    const b = bare.steps.find((s) => s.rate === r.rate);
    return [int(r.rate), int(r.sustained), b ? int(b.sustained) : '-', ratio(r.sustained, b?.sustained ?? Number.NaN), ms(r.p99), b ? ms(b.p99) : '-', ratio(r.p99, b?.p99 ?? Number.NaN)];
  });
  const capR = capacity(router);
  const capB = capacity(bare);
  return [
    `== ${router.label} / ceiling (bare ws forwarder)`,
    table([['offered/s', 'router deliv/s', 'bare deliv/s', 'throughput', 'router p99', 'bare p99', 'p99'], ...rows]),
    `   capacity (highest delivered/s of a step with p99 <= ${TARGETS.p99Ms} ms and no loss): router ${int(capR)}/s, bare ${int(capB)}/s -> ${ratio(capR, capB)}` +
      (capB >= Math.max(...bare.steps.map((s) => s.rate)) * (1 - TARGETS.tolerance) ? ' (the ceiling kept up with every step: its real capacity is higher)' : ''),
    `   idle memory per connection (RSS): router ${bytes(memPerConn(router))}, bare ${bytes(memPerConn(bare))} -> ${ratio(memPerConn(router), memPerConn(bare))}`,
    `   idle memory per connection (V8 heap + external): router ${bytes(heapPerConn(router))}, bare ${bytes(heapPerConn(bare))} -> ${ratio(heapPerConn(router), heapPerConn(bare))}`,
  ].join('\n');
}

/** Highest sustained rate (deliveries/s) of a step that met the latency goal without loss; 0 when none did. */
export function capacity(run: TargetRun, p99Ms: number = TARGETS.p99Ms): number {
  return Math.max(0, ...run.steps.filter((s) => s.p99 <= p99Ms && s.delivered === s.expected).map((s) => s.sustained));
}

/** The group mode's verdict: capacity against the ceiling's, no loss, no duplicates, order, layout. */
export function groupVerdict(router: TargetRun, bare: TargetRun | undefined): string {
  const g = router.groups!;
  const t = router.totals;
  const fanout = g.members - 1;
  const lost = t.expected - t.delivered + t.sendFailures * fanout;
  const dups = t.duplicates + t.serverDuplicates;
  const strays = router.steps.reduce((n, s) => n + s.strays, 0);
  const capR = capacity(router, GROUP_TARGETS.p99Ms);
  const capB = bare ? capacity(bare, GROUP_TARGETS.p99Ms) : Number.NaN;
  const layoutOk = g.groups >= GROUP_TARGETS.groups && g.members >= GROUP_TARGETS.members && router.connections >= GROUP_TARGETS.connections;
  const checks: Array<[boolean, string]> = [
    [
      bare !== undefined && capB > 0 && capR / capB >= GROUP_TARGETS.capacityRatio,
      `capacity at p99 <= ${GROUP_TARGETS.p99Ms} ms >= ${GROUP_TARGETS.capacityRatio}x the bare fan-out's: ` +
        (bare ? `${int(capR)} vs ${int(capB)} frames/s -> ${ratio(capR, capB)}${ceilingKeptUp(bare) ? ' (the ceiling kept up with every step: offer higher rates for its real capacity)' : ''}` : 'not measured (--no-bare)'),
    ],
    [
      lost === 0,
      `zero loss: ${int(lost)} of ${int(t.expected)} deliveries (${int(t.sent)} messages x ${fanout} members) never made (waited ${fixed(router.finalDrainMs / 1000, 1)} s after the last step)` +
        (t.late > 0 ? `; ${int(t.late)} arrived only after their step's drain (late, counted as delivered)` : ''),
    ],
    [dups === 0, `zero duplicates: ${dups}`],
    [t.orderViolations === 0, `in order at every member: ${t.orderViolations} violations`],
    [strays === 0, `no message at a non-member: ${strays}`],
    [layoutOk, `layout: ${g.groups} groups x ${g.members} members on ${router.connections} connections (the target's: ${GROUP_TARGETS.groups} x ${GROUP_TARGETS.members} on ${int(GROUP_TARGETS.connections)})`],
  ];
  const pass = checks.every(([ok]) => ok);
  return [
    `== verdict for ${router.label}, group mode`,
    ...checks.map(([ok, text]) => `   [${ok ? 'ok' : 'MISS'}] ${text}`),
    `VERDICT: ${pass ? 'PASS' : 'MISS'} (${router.label}, ${g.groups}x${g.members} groups, ${router.connections} connections)`,
  ].join('\n');
}

/** The step `better` prefers over all others; undefined when there are none. */
function bestOf<T>(steps: readonly T[], better: (a: T, b: T) => boolean): T | undefined {
  return steps.length ? steps.reduce((a, b) => (better(a, b) ? b : a)) : undefined;
}

/** The verdict lines: each goal with its measured value, then PASS or MISS. */
export function verdict(router: TargetRun, bare: TargetRun | undefined): string {
  const atRate = router.steps.filter((s) => s.rate >= TARGETS.rate);
  const good = atRate.filter((s) => s.sustained >= TARGETS.rate * (1 - TARGETS.tolerance) && s.p99 <= TARGETS.p99Ms);
  // The step that shows the goal best: one that met it; else, of those that kept the rate, the one
  // with the lowest p99; else the one that delivered most.
  const kept = atRate.filter((s) => s.sustained >= TARGETS.rate * (1 - TARGETS.tolerance));
  const best = good[0] ?? bestOf(kept, (a, b) => b.p99 < a.p99) ?? bestOf(atRate, (a, b) => b.sustained > a.sustained);
  const t = router.totals;
  const sent = t.sent;
  const lost = t.sent - t.delivered + t.sendFailures;
  const dups = t.duplicates + t.serverDuplicates;
  const order = t.orderViolations;
  const memRatio = bare ? judgedPerConn(router) / judgedPerConn(bare) : Number.NaN;
  const checks: Array<[boolean, string]> = [
    [
      good.length > 0,
      `throughput: >= ${int(TARGETS.rate)} delivered/s with p99 <= ${TARGETS.p99Ms} ms: ` +
        (best ? `${int(best.sustained)}/s at p99 ${ms(best.p99)} ms (offered ${int(best.rate)}/s)` : `no step offered ${int(TARGETS.rate)}/s`),
    ],
    [
      lost === 0,
      `zero loss: ${int(lost)} of ${int(sent)} messages never delivered (waited ${fixed(router.finalDrainMs / 1000, 1)} s after the last step)` +
        (t.late > 0 ? `; ${int(t.late)} arrived only after their step's drain (late, counted as delivered)` : ''),
    ],
    [dups === 0, `zero duplicates: ${dups}`],
    [order === 0, `in order: ${order} violations`],
    [memRatio <= TARGETS.memoryRatio, `idle memory <= ${TARGETS.memoryRatio}x the bare forwarder's per connection (RSS growth, or heap + external where larger): ` +
        (bare
          ? `${ratio(judgedPerConn(router), judgedPerConn(bare))} (${bytes(judgedPerConn(router))} vs ${bytes(judgedPerConn(bare))}; RSS alone: ${ratio(memPerConn(router), memPerConn(bare))}; V8 heap + external alone: ${ratio(heapPerConn(router), heapPerConn(bare))})`
          : 'not measured (--no-bare)'),
    ],
  ];
  const pass = checks.every(([ok]) => ok) && router.connections >= TARGETS.connections;
  const lines = checks.map(([ok, text]) => `   [${ok ? 'ok' : 'MISS'}] ${text}`);
  if (router.connections !== TARGETS.connections) {
    lines.push(`   [${router.connections >= TARGETS.connections ? 'ok' : 'MISS'}] the targets are set at ${int(TARGETS.connections)} connections; this run used ${int(router.connections)}`);
  }
  return [`== verdict for ${router.label}`, ...lines, `VERDICT: ${pass ? 'PASS' : 'MISS'} (${router.label}, ${router.connections} connections)`].join('\n');
}

/** Notes on steps where the load generator itself ran out of CPU. */
export function saturationNotes(runs: TargetRun[], cores: number): string[] {
  return runs.flatMap((run) =>
    run.steps.flatMap((s) => [
      ...(s.cpu.bench >= TARGETS.benchSaturated
        ? [`NOTE: the load generator used ${pct(s.cpu.bench)}% of a core during ${run.label} at ${int(s.rate)}/s: it may be the bottleneck of that step.`]
        : []),
      ...(s.cpu.other >= 20
        ? [`NOTE: other processes used ${pct(s.cpu.other)}% CPU during ${run.label} at ${int(s.rate)}/s (machine ${pct(s.cpu.machine)}% of ${cores * 100}%): that step competed for the cores.`]
        : []),
    ]),
  );
}
