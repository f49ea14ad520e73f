/**
 * `npm run bench`: the router under stepped open-loop load from 1,000 WebSocket clients on
 * loopback, against a bare ws forwarder (the ceiling) driven by the same load generator in the same
 * run, with a verdict against the targets. Options: bench.options.ts; the load model:
 * load.client.ts; the servers: targets.ts. Every child and every resource is removed at the end,
 * also on an error or Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, type BenchOptions } from './bench.options.ts';
import { cleanupAll, defer } from './cleanup.ts';
import { CpuSampler, machineBusyPercent } from './cpu.sampler.ts';
import { measureIdleMemory } from './idle.memory.ts';
import { scrape, serverWindow, type Scrape } from './metrics.scrape.ts';
import { summariseProfile } from './profile.summary.ts';
import { groupLayout } from './group.layout.ts';
import { comparison, groupComparison, groupVerdict, saturationNotes, stepLine, targetTables, verdict, type GroupMode, type MeasuredStep, type TargetRun } from './report.ts';
import { bytes, int } from './stats.ts';
import { newRunId, startBare, startEmbedded, startFullStack, type Target, type TargetContext } from './targets.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: stopping every child and removing what this run created...`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

/**
 * Other work on a small machine skews every figure: wait (bounded) for a quiet second, and say
 * how busy the machine was when we went ahead.
 */
async function waitQuiet(maxSeconds: number): Promise<string> {
  const deadline = performance.now() + maxSeconds * 1000;
  let busy = await machineBusyPercent(1000);
  while (busy >= 30 && performance.now() < deadline && !interrupted) busy = await machineBusyPercent(1000);
  return `machine ${busy.toFixed(0)}% busy (of ${cpus().length * 100}%) just before${busy >= 30 ? `: not quiet after waiting ${maxSeconds} s, measuring anyway` : ''}`;
}

async function measure(target: Target, options: Readonly<BenchOptions>): Promise<TargetRun> {
  const pid = target.child.pid;
  console.log(`\n-- ${target.label}: pid ${pid}, ${target.users.length} users ready; ${await waitQuiet(options.waitQuiet)}`);
  const { idle0, idleC, connectMs, load } = await measureIdleMemory(target, { bodyBytes: options.bodyBytes, groupAcks: options.groupAcks });
  const closeLoad = defer(`close ${target.label} clients`, () => load.close());
  console.log(
    `   idle RSS ${bytes(idle0.rss)} with 0 connections, ${bytes(idleC.rss)} with ${load.size}: ${bytes((idleC.rss - idle0.rss) / load.size)} per connection ` +
      `(V8 heap + external: ${bytes((idleC.heap - idle0.heap) / load.size)} per connection)` +
      `; RSS spread of the readings ${bytes(idle0.rssSpread)} / ${bytes(idleC.rssSpread)}` +
      (idle0.settled && idleC.settled ? '' : ' (not settled within 30 s: noisy)') +
      `; server CPU while idle with ${load.size} connections: ${idleC.cpuPercent.toFixed(1)}%`,
  );

  // The group mode's groups, through the protocol, after the idle reading (they are not idle memory).
  let groups: GroupMode | undefined;
  let groupsMs: number | undefined;
  if (options.groups) {
    const { groups: g, members: m } = options.groups;
    const t0 = performance.now();
    await load.createGroups(groupLayout(load.size, g, m), { name: `bench ${target.key}` }).catch((err: unknown) => {
      throw new Error(`${target.label}: creating the groups failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    groupsMs = performance.now() - t0;
    groups = { groups: g, members: m, acks: options.groupAcks };
    console.log(`   ${int(g)} groups of ${m} members created through group.create in ${(groupsMs / 1000).toFixed(1)} s`);
  }
  const base = { quietMs: 2000, drainMaxMs: options.drain * 1000 };
  const warmup = await load.runStep({ id: 0, rate: options.rates[0]!, warmupMs: options.initialWarmup * 1000, windowMs: 0, ...base });
  console.log(`   initial warm-up: ${int(warmup.sent)} sent, ${int(warmup.delivered)}${groups ? ` of ${int(warmup.expected)} deliveries` : ''} delivered`);

  const steps: MeasuredStep[] = [];
  const sampler = new CpuSampler(pid);
  const commits = target.commits ?? (async () => Number.NaN);
  for (const [i, rate] of options.rates.entries()) {
    if (interrupted) break;
    let commits0: Promise<number> = Promise.resolve(Number.NaN);
    let commits1: Promise<number> = Promise.resolve(Number.NaN);
    let scrape0: Promise<Scrape> = Promise.resolve(new Map());
    let scrape1: Promise<Scrape> = Promise.resolve(new Map());
    const result = await load.runStep({
      id: i + 1,
      rate,
      warmupMs: options.warmup * 1000,
      windowMs: options.seconds * 1000,
      ...base,
      onWindow: (edge) => {
        if (edge === 'start') {
          sampler.start();
          commits0 = commits();
          scrape0 = scrape(target.metricsUrl);
        } else {
          sampler.end();
          commits1 = commits();
          scrape1 = scrape(target.metricsUrl);
        }
      },
    });
    const step: MeasuredStep = {
      ...result,
      cpu: sampler.result(),
      commitsPerSec: ((await commits1) - (await commits0)) / options.seconds,
      server: serverWindow(await scrape0, await scrape1, options.seconds),
    };
    steps.push(step);
    console.log(stepLine(target.key, step, groups !== undefined));
    if (!target.child.alive()) throw new Error(`${target.label} exited during the run; log: ${target.child.logPath}`);
  }
  // Stragglers of an overloaded step are late, not lost: wait for them before counting losses.
  const finalDrainMs = await load.finalDrain(3000, 30_000);
  const totals = load.totals();
  const unexpectedCloses = load.unexpectedCloses;
  await closeLoad();
  return {
    key: target.key,
    ...(groups ? { groups, groupsMs } : {}),
    label: target.label,
    how: target.how,
    stores: target.stores,
    connections: load.size,
    connectMs,
    memorySettled: idle0.settled && idleC.settled,
    rssSpread: Math.max(idle0.rssSpread, idleC.rssSpread),
    idleCpuPercent: idleC.cpuPercent,
    rss0: idle0.rss,
    rssC: idleC.rss,
    heap0: idle0.heap,
    heapC: idleC.heap,
    warmup,
    steps,
    totals,
    finalDrainMs,
    unexpectedCloses,
    logLines: 0,
  };
}

async function runTarget(start: (ctx: TargetContext) => Promise<Target>, ctx: TargetContext, profiles: string[]): Promise<TargetRun> {
  const target = await start(ctx);
  const run = await measure(target, ctx.options);
  const profile = await target.close();
  if (profile) profiles.push(profile);
  const log = readFileSync(target.child.logPath, 'utf8').split('\n').filter(Boolean);
  run.logLines = log.length;
  if (log.length > 0) console.log(`   last server log lines (${target.child.logPath}):\n     ${log.slice(-3).map((l) => l.slice(0, 300)).join('\n     ')}`);
  return run;
}

/** The commit and the uncommitted changes the servers run with (others edit the tree while we measure). */
function codeVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trimEnd();
    // Porcelain lines are `XY path`; X may be a space, so no trimming at the start.
    const dirty = git('status', '--porcelain', '--', 'router/src', 'db', 'protocol')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return `git ${git('rev-parse', '--short', 'HEAD')}${dirty.length ? `, uncommitted changes in ${dirty.join(' ')}` : ', no uncommitted changes in router/src db protocol'}`;
  } catch {
    return 'unknown (no git)';
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cpu = cpus();
  console.log('messenger router benchmark');
  console.log(`code: ${codeVersion()}`);
  console.log(
    `machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? '?'}), ${bytes(totalmem())} RAM, Linux ${release()}, ` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`,
  );
  console.log(
    `settings: ${options.connections} connections (${options.groups ? `${options.groups.groups}x${options.groups.members} groups` : `${options.connections / 2} pairs`}), rates ${options.rates.join(', ')} msgs/s, ` +
      `${options.seconds} s per step after ${options.warmup} s warm-up (initial warm-up ${options.initialWarmup} s), drain <= ${options.drain} s, ` +
      `${options.bodyBytes}-byte bodies, open loop, latency = recipient receive - intended send time`,
  );
  if (options.groups) {
    const { groups: g, members: m } = options.groups;
    console.log(
      `group mode: ${g} groups of ${m} members over the ${options.connections} connections (~${((g * m) / options.connections).toFixed(1)} groups per user); ` +
        `the rates are messages/s sent to the groups in turn (each by its members in turn), each delivered to ${m - 1} members: ` +
        `${options.rates.map((r) => int(r * (m - 1))).join(', ')} frames/s; members ${options.groupAcks ? 'acknowledge' : 'do not acknowledge (--group-acks to)'}`,
    );
  }
  console.log(`machine CPU before the run: ${(await machineBusyPercent(1000)).toFixed(0)}% of ${cpu.length * 100}% busy (other work on this machine skews the figures)`);
  console.log(`mode: ${options.embedded ? 'embedded default' : 'full stack'}; everything on loopback; the bench process is the load generator, the servers are child processes`);

  const tmp = await mkdtemp(join(tmpdir(), 'messenger-bench-'));
  const keepScratch = options.profile || options.keep;
  if (!keepScratch) defer('remove scratch directory', () => rm(tmp, { recursive: true, force: true }));
  const ctx: TargetContext = { options, root: ROOT, tmp, runId: newRunId() };
  const profiles: string[] = [];
  const runs: TargetRun[] = [];
  try {
    runs.push(await runTarget(options.embedded ? startEmbedded : startFullStack, ctx, profiles));
    if (options.bare && !interrupted) runs.push(await runTarget(startBare, ctx, profiles));
  } finally {
    await cleanupAll();
  }
  if (interrupted) return;

  const cores = cpu.length;
  console.log(`\n================ summary (${options.embedded ? 'embedded default' : 'full stack'}) ================`);
  console.log(`machine: ${cores} cores, node ${process.version}`);
  for (const run of runs) console.log(`\n${targetTables(run, cores)}`);
  const [router, bare] = runs;
  const grouped = options.groups !== undefined;
  if (router && bare) console.log(`\n${grouped ? groupComparison(router, bare) : comparison(router, bare)}`);
  const notes = saturationNotes(runs, cores);
  if (notes.length > 0) console.log(`\n${notes.join('\n')}`);
  if (router) console.log(`\n${grouped ? groupVerdict(router, bare) : verdict(router, bare)}`);
  for (const p of profiles) console.log(`\n${await summariseProfile(p)}`);
  if (keepScratch) console.log(`\n${options.profile ? 'profiles and ' : ''}server logs kept in ${tmp}`);
}

main().then(
  () => process.exit(interrupted ? 130 : 0),
  async (err) => {
    console.error(err instanceof Error ? err.message : err);
    await cleanupAll();
    process.exit(1);
  },
);
