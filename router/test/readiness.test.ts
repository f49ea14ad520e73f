/**
 * /readyz answers promptly whatever a store does: every check runs at once under a deadline, and
 * the answer names the stores that are not ready. The deadline's timer is the test's; the Redis
 * cases cut or freeze a TCP proxy in front of the shared Redis (never Redis itself).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { need, uniqueName } from '../../test/support/services.ts';
import { startNode } from '../../test/support/router.harness.ts';
import { readinessProbe, ReadinessTimeout, type Schedule } from '../src/health/readiness.ts';

/** A Schedule the test fires by hand. */
function manualSchedule() {
  const pending: Array<{ ms: number; fn: () => void; cancelled: boolean }> = [];
  const schedule: Schedule = (ms, fn) => {
    const entry = { ms, fn, cancelled: false };
    pending.push(entry);
    return () => (entry.cancelled = true);
  };
  return { schedule, pending, fire: () => pending.filter((e) => !e.cancelled).forEach((e) => e.fn()) };
}

const never = () => new Promise<void>(() => {});
const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('the readiness probe', async (t) => {
  t.test('is ready when every check answers, and cancels the deadlines', async (t) => {
    const timer = manualSchedule();
    const probe = readinessProbe({ a: async () => {}, b: async () => {} }, { timeoutMs: 250, schedule: timer.schedule });
    t.same(await probe(), [], 'no store is named');
    t.same(timer.pending.map((e) => [e.ms, e.cancelled]), [[250, true], [250, true]], 'each check had a 250 ms deadline, cancelled once it answered');
  });

  t.test('names a store that hangs once its deadline passes, and one that fails at once', async (t) => {
    const timer = manualSchedule();
    const failures: Array<[string, unknown]> = [];
    const probe = readinessProbe(
      { relational: async () => {}, sessions: never, bus: () => Promise.reject(new Error('closed')), tasks: () => { throw new Error('sync'); } },
      { timeoutMs: 500, schedule: timer.schedule, onFailure: (store, err) => failures.push([store, err]) },
    );
    let answer: string[] | undefined;
    void probe().then((a) => (answer = a));
    await tick();
    t.equal(answer, undefined, 'no answer while a check hangs within its deadline');
    timer.fire();
    await tick();
    t.same(answer, ['sessions', 'bus', 'tasks'], 'the hanging, the failing and the throwing store are named, in order');
    t.ok(failures.find(([s, e]) => s === 'sessions' && e instanceof ReadinessTimeout), 'the log is told the sessions store timed out');
    t.ok(failures.find(([s, e]) => s === 'bus' && (e as Error).message === 'closed'), 'and why the bus failed');
  });

  t.test('runs the checks concurrently', async (t) => {
    const started: string[] = [];
    const release: Array<() => void> = [];
    const gated = (name: string) => () => {
      started.push(name);
      return new Promise<void>((resolve) => release.push(resolve));
    };
    const probe = readinessProbe({ a: gated('a'), b: gated('b'), c: gated('c') }, { timeoutMs: 500, schedule: manualSchedule().schedule });
    const answer = probe();
    await tick();
    t.same(started, ['a', 'b', 'c'], 'every check started before any answered');
    release.forEach((r) => r());
    t.same(await answer, [], 'ready once they all answer');
  });
});

/** A TCP proxy to `target` that the test can freeze (bytes stop, sockets stay open) or cut (sockets and listener closed). */
async function tcpProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let frozen = false;
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.on('data', (d) => frozen || upstream.write(d));
        upstream.on('data', (d) => frozen || client.write(d));
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return {
    port,
    freeze: () => void (frozen = true),
    cut,
    restore: async () => {
      frozen = false;
      await listen(port);
    },
    close: () => cut().catch(() => {}),
  };
}

t.test('/readyz while Redis is unreachable', async (t) => {
  const redisUrl = need(t, 'REDIS_URL', 'readiness with Redis severed');
  if (!redisUrl) return;
  const proxy = await tcpProxy(Number(new URL(redisUrl).port || 6379));
  t.teardown(proxy.close);
  const h = await startNode(t, { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_KEY_PREFIX: `${uniqueName('ready')}:`, READY_TIMEOUT_MS: '200' });
  // A bound many times the deadline: without one, a frozen Redis holds /readyz for good.
  const readyz = async () => {
    const res = await fetch(`${h.httpUrl}/readyz`, { signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: (await res.json()) as { status: string; stores?: string[] } };
  };
  const until = async (status: number) => {
    for (let i = 0; i < 300; i++) {
      const answer = await readyz();
      if (answer.status === status) return answer;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`/readyz never answered ${status}`);
  };

  t.equal((await until(200)).body.status, 'ready', 'ready while Redis answers through the proxy');

  t.test('frozen (connections open, no answer): 503 at the deadline, naming the Redis stores', async (t) => {
    proxy.freeze();
    const answer = await readyz();
    t.equal(answer.status, 503, '503, not a wait for Redis');
    t.same(answer.body, { status: 'unavailable', stores: ['sessions', 'attempts', 'rateLimits'] }, 'the Redis stores are named, nothing else');
  });

  t.test('cut (connection refused): 503 naming the Redis stores', async (t) => {
    await proxy.cut();
    const answer = await until(503);
    t.same(answer.body.stores, ['sessions', 'attempts', 'rateLimits'], 'the Redis stores are named');
  });

  t.test('Redis back: ready again by itself', async (t) => {
    await proxy.restore();
    t.equal((await until(200)).body.status, 'ready', 'ready again');
  });
});
