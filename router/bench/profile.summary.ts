/**
 * Reads a V8 .cpuprofile (from --cpu-prof) and says where the time went: the functions with the
 * most self time, and self time grouped by module (a router file, a package, node internals).
 */
import { readFile } from 'node:fs/promises';
import { fixed, table } from './stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * A printable summary: top `topN` functions and modules by self time, and the repository's own
 * functions by inclusive time (self plus everything they call), which says which path of the
 * router the library and kernel time belongs to.
 */
export async function summariseProfile(path: string, topN = 25): Promise<string> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (frame: ProfileNode['callFrame']) => {
    const where = moduleOf(frame.url, frame.functionName);
    // tsx's output puts a module's code on line 1: a line number would say nothing there.
    return `${frame.functionName || '(anonymous)'}  ${where}${frame.url && frame.lineNumber > 0 ? `:${frame.lineNumber + 1}` : ''}`;
  };
  // Inclusive time of our own functions: each sample counts once for every distinct one on its stack.
  const inclusive = new Map<string, number>();
  const ownLabel = new Map<number, string | null>();
  const ownOf = (id: number): string | null => {
    let v = ownLabel.get(id);
    if (v === undefined) {
      const frame = byId.get(id)!.callFrame;
      v = /^(router|db|protocol)\//.test(moduleOf(frame.url, frame.functionName)) && !frame.url.includes('/bench/') ? label(frame) : null;
      ownLabel.set(id, v);
    }
    return v;
  };
  profile.samples.forEach((leaf, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const own = ownOf(id);
      if (own && !seen.has(own)) {
        seen.add(own);
        inclusive.set(own, (inclusive.get(own) ?? 0) + dt);
      }
    }
  });

  const fns = new Map<string, number>();
  const modules = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const where = moduleOf(frame.url, frame.functionName);
    const fn = label(frame);
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    modules.set(where, (modules.get(where) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => [name, `${fixed(us / 1000, 0)} ms`, `${fixed((us / total) * 100, 1)} %`]);
  return [
    `profile ${path}: ${fixed(total / 1e6, 1)} s on CPU, ${fixed(idle / 1e6, 1)} s idle (whole process life)`,
    '',
    'self time by module:',
    table([['module', 'self', 'of busy'], ...top(modules, 15)]),
    '',
    `top ${topN} functions by self time:`,
    table([['function  location', 'self', 'of busy'], ...top(fns, topN)]),
    '',
    'router/db functions by inclusive time (self + callees; nested ones overlap):',
    table([['function  location', 'inclusive', 'of busy'], ...top(inclusive, 20)]),
  ].join('\n');
}

/** `router/src/x.ts`, `db/x.ts`, `pkg <name>`, `node:internal`, or V8's own `(garbage collector)` etc. */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `pkg ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const repo = url.match(/\/(router|db|protocol|workers)\/(.+)$/);
  if (repo) return `${repo[1]}/${repo[2]}`;
  return url;
}
