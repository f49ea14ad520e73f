/**
 * The benchmarks' /proc readings agree with what Node reports of its own process.
 */
import t from 'tap';
import { cpuSeconds, rssBytes } from '../bench.ts';

const used = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

t.test('the CPU time of this process is what Node counts, to within a few clock ticks', async (t) => {
  const before = used();
  const seconds = cpuSeconds(process.pid);
  const after = used();
  t.ok(seconds >= before - 0.1 && seconds <= after + 0.1, `${seconds} s from /proc lies within [${before}, ${after}] s (0.1 s either side)`);
});

t.test('the resident memory of this process is what Node counts, to within a quarter', async (t) => {
  const rss = rssBytes(process.pid);
  const node = process.memoryUsage().rss;
  t.ok(Math.abs(rss - node) < node / 4, `${rss} bytes from /proc, ${node} from Node`);
});

t.test('a process that does not exist is an error, not a zero', async (t) => {
  t.throws(() => cpuSeconds(2 ** 30), { code: 'ENOENT' }, 'no CPU time for a pid that does not exist');
  t.throws(() => rssBytes(2 ** 30), { code: 'ENOENT' }, 'no memory either');
});
