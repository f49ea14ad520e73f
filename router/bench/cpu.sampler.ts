/**
 * CPU use over a measured window, as % of one core (like top): the server under test, this bench
 * process, the local services it leans on, and the whole machine. On a small machine the services
 * and the load generator compete with the router for the same cores, so the report shows them all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds } from '../../kit/bench.ts';

export interface CpuFigures {
  server: number;
  bench: number;
  postgres: number;
  rabbitmq: number;
  redis: number;
  /** All cores together (100 per fully busy core). */
  machine: number;
  /** The machine minus all of the above: other work on this machine competing for the cores. */
  other: number;
  /**
   * Times per second the server's main thread was taken off a core while runnable (preempted):
   * where this is high, other processes competed for its core, which stretches latency and shows
   * in a CPU profile as time inside whatever syscall it was preempted in (often writev).
   */
  serverPreemptions: number;
  /**
   * Milliseconds per second the server's main thread was runnable but waiting for a core
   * (/proc/<pid>/schedstat). Messages queue for as long, so on a shared machine this, more than
   * the server's own CPU, is what turns into latency spikes.
   */
  serverWaitMs: number;
}

/** Process names of the local services, by /proc/<pid>/comm. */
const SERVICES: Record<string, 'postgres' | 'rabbitmq' | 'redis'> = {
  postgres: 'postgres',
  'beam.smp': 'rabbitmq',
  erl_child_setup: 'rabbitmq',
  epmd: 'rabbitmq',
  'redis-server': 'redis',
};

interface Snapshot {
  at: number;
  server: number;
  serverPreemptions: number;
  serverWaitMs: number;
  bench: NodeJS.CpuUsage;
  services: Map<number, { kind: 'postgres' | 'rabbitmq' | 'redis'; cpu: number }>;
  machineBusy: number;
}

export class CpuSampler {
  private begin: Snapshot | undefined;
  private last: CpuFigures | undefined;

  private readonly serverPid: number;

  constructor(serverPid: number) {
    this.serverPid = serverPid;
  }

  /** Marks the start of a window. */
  start(): void {
    this.begin = this.snapshot();
    this.last = undefined;
  }

  /** Marks the end of the window started last. */
  end(): void {
    const a = this.begin;
    if (!a) return;
    const b = this.snapshot();
    const seconds = (b.at - a.at) / 1000;
    const pct = (cpu: number) => (seconds > 0 ? (cpu / seconds) * 100 : Number.NaN);
    const svc = { postgres: 0, rabbitmq: 0, redis: 0 };
    for (const [pid, s] of b.services) {
      const before = a.services.get(pid);
      // A process that started inside the window counts from zero.
      svc[s.kind] += s.cpu - (before?.cpu ?? 0);
    }
    const server = b.server - a.server;
    const bench = (b.bench.user - a.bench.user + b.bench.system - a.bench.system) / 1e6;
    const machine = b.machineBusy - a.machineBusy;
    this.last = {
      server: pct(server),
      bench: pct(bench),
      postgres: pct(svc.postgres),
      rabbitmq: pct(svc.rabbitmq),
      redis: pct(svc.redis),
      machine: pct(machine),
      other: pct(Math.max(0, machine - server - bench - svc.postgres - svc.rabbitmq - svc.redis)),
      serverPreemptions: seconds > 0 ? (b.serverPreemptions - a.serverPreemptions) / seconds : Number.NaN,
      serverWaitMs: seconds > 0 ? (b.serverWaitMs - a.serverWaitMs) / seconds : Number.NaN,
    };
  }

  /** The figures of the last completed window. */
  result(): CpuFigures {
    const nan = Number.NaN;
    return this.last ?? { server: nan, bench: nan, postgres: nan, rabbitmq: nan, redis: nan, machine: nan, other: nan, serverPreemptions: nan, serverWaitMs: nan };
  }

  private snapshot(): Snapshot {
    const services = new Map<number, { kind: 'postgres' | 'rabbitmq' | 'redis'; cpu: number }>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      try {
        const kind = SERVICES[readFileSync(`/proc/${pid}/comm`, 'utf8').trim()];
        if (kind) services.set(pid, { kind, cpu: cpuSeconds(pid) });
      } catch {
        // Gone between readdir and read.
      }
    }
    return {
      at: performance.now(),
      server: cpuSeconds(this.serverPid),
      serverPreemptions: preemptions(this.serverPid),
      serverWaitMs: runQueueWaitMs(this.serverPid),
      bench: process.cpuUsage(),
      services,
      machineBusy: machineBusySeconds(),
    };
  }
}

/** Involuntary context switches of a process's main thread so far. */
function preemptions(pid: number): number {
  const m = /nonvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** Time a process's main thread has spent runnable but not running, ms (NaN without schedstats). */
function runQueueWaitMs(pid: number): number {
  try {
    const [, waitNs] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return waitNs === undefined ? Number.NaN : waitNs / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** How busy the machine is over `ms` milliseconds, in % of one core (100 per fully busy core). */
export async function machineBusyPercent(ms: number): Promise<number> {
  const a = machineBusySeconds();
  const t = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((machineBusySeconds() - a) / ((performance.now() - t) / 1000)) * 100;
}

/** Busy CPU time of all cores since boot, in seconds (/proc/stat, everything but idle and iowait). */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return busy / 100;
}
