/**
 * The benchmark's command line and environment, read once into a frozen object; a bad value stops
 * the run before anything starts, with every problem listed.
 */
import { parseGroups } from './group.layout.ts';

export interface BenchOptions {
  /** --embedded: the router on the embedded default (PGlite, memory sessions, in-process bus). Default: full stack. */
  embedded: boolean;
  /** --connections: WebSocket clients, in pairs. Default 1000. */
  connections: number;
  /** --rates: offered loads in messages/s over all connections, one step each. Default 2000,5000,10000,15000; with --groups 250,500,1000,2000. */
  rates: number[];
  /** --seconds: measured window of each step, s. Default 10. */
  seconds: number;
  /** --warmup: unmeasured sending before each step's window, s. Default 1. */
  warmup: number;
  /** --initial-warmup: unmeasured sending at the first rate right after connecting (rooms get created), s. Default 3. */
  initialWarmup: number;
  /** --drain: longest wait for stragglers after a step, s. Default 10. */
  drain: number;
  /** --body-bytes: message body length. Default 64. */
  bodyBytes: number;
  /** --wait-quiet: before each server is measured, wait up to this long for the machine to be idle (< 30% of one core busy), s. Default 30. */
  waitQuiet: number;
  /** --no-bare: skip the bare forwarder (no ceiling, no ratios). Default: run it. */
  bare: boolean;
  /**
   * --groups GxM: the group mode: G groups of M members over the same connections (group.layout.ts),
   * each message sent to a group and delivered to its other M-1 members. Default: unset, the 1:1 mode.
   */
  groups: { groups: number; members: number } | undefined;
  /**
   * --group-acks: in the group mode, members acknowledge as the 1:1 clients do (one cumulative
   * message.ack per room per event-loop turn). Off by default: every ack in a group is a receipt to
   * each of the other M-1 members, (M-1)^2 frames per message, which would measure receipts, not
   * the message fan-out.
   */
  groupAcks: boolean;
  /** DATABASE_URL: the server the fresh benchmark database is created on. Default postgres://root@127.0.0.1:5432/test. */
  databaseUrl: string;
  /** REDIS_URL. Default redis://127.0.0.1:6379. */
  redisUrl: string;
  /** AMQP_URL. Default amqp://guest:guest@127.0.0.1:5672. */
  amqpUrl: string;
  /** BENCH_PROFILE=1: run the server children with --cpu-prof and summarise their profiles (kept in the scratch dir). */
  profile: boolean;
  /** BENCH_KEEP=1: keep the scratch dir (servers' logs) after the run. */
  keep: boolean;
  /**
   * BENCH_ROUTER_FLAGS: the Node flags the routers run with instead of router/src/node.flags.ts's,
   * space-separated (empty: none), to measure what a flag still does. Default: unset, the production flags.
   */
  routerFlags: string[] | undefined;
}

export const USAGE = `usage: npm run bench -- [--embedded] [--connections N] [--rates R1,R2,...] [--seconds S]
                      [--warmup S] [--initial-warmup S] [--drain S] [--body-bytes B] [--wait-quiet S] [--no-bare]
                      [--groups GxM [--group-acks]]
env: DATABASE_URL REDIS_URL AMQP_URL (full stack services), BENCH_PROFILE=1 (CPU profiles of the servers), BENCH_KEEP=1 (keep the servers' logs),
     BENCH_ROUTER_FLAGS='...' (the routers' Node flags instead of node.flags.ts's; '' for none)`;

/** Parses argv (without node and script) and the environment. Throws with every problem listed. */
export function parseOptions(argv: readonly string[], env: Record<string, string | undefined> = process.env): Readonly<BenchOptions> {
  const o: BenchOptions = {
    embedded: false,
    connections: 1000,
    rates: [2000, 5000, 10000, 15000],
    seconds: 10,
    warmup: 1,
    initialWarmup: 3,
    drain: 10,
    bodyBytes: 64,
    bare: true,
    groups: undefined,
    groupAcks: false,
    waitQuiet: 30,
    databaseUrl: env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/test',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    amqpUrl: env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
    profile: env.BENCH_PROFILE === '1',
    keep: env.BENCH_KEEP === '1',
    routerFlags: env.BENCH_ROUTER_FLAGS === undefined ? undefined : env.BENCH_ROUTER_FLAGS.split(/\s+/).filter(Boolean),
  };
  const problems: string[] = [];
  let ratesGiven = false;
  const num = (flag: string, value: string | undefined, min: number, max: number, integer = true): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      problems.push(`${flag}: expected ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${value ?? 'nothing'}`);
      return min;
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--embedded':
        o.embedded = true;
        break;
      case '--no-bare':
        o.bare = false;
        break;
      case '--connections':
        o.connections = num(flag, value(), 2, 20_000);
        if (o.connections % 2 !== 0) problems.push('--connections: must be even (clients talk in pairs)');
        break;
      case '--rates': {
        const v = value();
        ratesGiven = true;
        o.rates = (v ?? '').split(',').map((r) => num(flag, r.trim(), 1, 1_000_000));
        break;
      }
      case '--seconds':
        o.seconds = num(flag, value(), 1, 120, false);
        break;
      case '--warmup':
        o.warmup = num(flag, value(), 0, 60, false);
        break;
      case '--initial-warmup':
        o.initialWarmup = num(flag, value(), 0, 60, false);
        break;
      case '--drain':
        o.drain = num(flag, value(), 1, 120, false);
        break;
      case '--wait-quiet':
        o.waitQuiet = num(flag, value(), 0, 600, false);
        break;
      case '--body-bytes':
        o.bodyBytes = num(flag, value(), 24, 4096);
        break;
      case '--groups': {
        const v = value();
        const parsed = parseGroups(v ?? '');
        if (!parsed) problems.push(`--groups: expected GxM (groups x members, e.g. 100x50), got ${v ?? 'nothing'}`);
        else o.groups = { groups: num('--groups (G)', String(parsed.groups), 1, 100_000), members: num('--groups (M)', String(parsed.members), 2, 1000) };
        break;
      }
      case '--group-acks':
        o.groupAcks = true;
        break;
      case '--help':
      case '-h':
        problems.push('help');
        break;
      default:
        problems.push(`${arg}: unknown option`);
    }
  }
  if (o.groups) {
    if (o.groups.members > o.connections) problems.push(`--groups: ${o.groups.members} members per group, but only ${o.connections} connections`);
    if (!ratesGiven) o.rates = [250, 500, 1000, 2000];
  } else if (o.groupAcks) problems.push('--group-acks: only with --groups');
  for (const [key, url, protocols] of [
    ['DATABASE_URL', o.databaseUrl, ['postgres:', 'postgresql:']],
    ['REDIS_URL', o.redisUrl, ['redis:']],
    ['AMQP_URL', o.amqpUrl, ['amqp:']],
  ] as const) {
    if (!URL.canParse(url) || !(protocols as readonly string[]).includes(new URL(url).protocol)) problems.push(`${key}: not a ${protocols.join(' or ')} URL`);
    // Everything stays on this machine.
    else if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) problems.push(`${key}: only loopback services are allowed`);
  }
  if (problems.length > 0) throw new Error(problems.includes('help') ? USAGE : `${problems.join('\n')}\n${USAGE}`);
  return Object.freeze(o);
}
