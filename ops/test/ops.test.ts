/**
 * The deployment files stay valid and consistent with the code: compose.yml (docker-compose's own
 * validation, and every router variable is one config.ts knows, with values it accepts), the
 * GitHub workflows (action-validator's schema check plus the keys CI relies on), the Dockerfile
 * and Caddyfile against compose, and ops/migrate.ts against a real PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { parse } from 'yaml';

import { loadConfig } from '../../router/src/config.ts';
import { ROUTER_NODE_FLAGS, TYPESCRIPT_NODE_ARGS } from '../../router/src/node.flags.ts';
import { loadWorkerConfig } from '../../workers/src/config.ts';
import { generateVapidKeys } from '../../workers/tasks/vapid.ts';
import { freshPgDatabase, need } from '../../test/support/services.ts';

const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const inCi = Boolean(process.env.CI);

/** The first executable called `name` on PATH, or undefined. */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

type Service = { environment?: Record<string, string | number | boolean | null> | string[]; [k: string]: unknown };
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

/** A service's environment as a map, whichever of the two compose forms it uses. */
function envOf(service: Service): Record<string, string> {
  const e = service.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => [kv.split('=')[0]!, kv.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

/** The environment variables a config module reads: the keys of its zod schema. */
async function configKeys(file = 'router/src/config.ts'): Promise<Set<string>> {
  const { CONFIG_KEYS } = (await import(join(root, file))) as { CONFIG_KEYS: readonly string[] };
  return new Set(CONFIG_KEYS);
}

/** docker-compose (v1, Debian's package) or the `docker compose` plugin (v2, GitHub's runners). */
function composeCommand(): string[] | undefined {
  const v1 = which('docker-compose');
  if (v1) return [v1];
  const docker = which('docker');
  if (docker && run(docker, ['compose', 'version']).code === 0) return [docker, 'compose'];
  return undefined;
}
const composeCmd = composeCommand();
const composeRun = (args: string[]) => run(composeCmd![0]!, [...composeCmd!.slice(1), ...args]);

t.test('compose.yml', async (t) => {
  t.test('is a valid compose file according to docker-compose', async (t) => {
    if (!composeCmd) {
      if (inCi) t.fail('neither docker-compose nor docker compose is installed, but CI must validate compose.yml (.ci/run installs docker-compose)');
      else t.comment('SKIPPED compose validation: neither docker-compose nor the docker compose plugin is on PATH');
      return;
    }
    const r = composeRun(['-f', 'compose.yml', 'config', '-q']);
    t.equal(r.code, 0, `${composeCmd.join(' ')} config -q accepts compose.yml\n${r.out}`);
  });

  // The file as docker-compose resolves it when it can (merge keys, interpolation), else as YAML.
  const resolved = composeCmd ? composeRun(['-f', 'compose.yml', 'config']) : undefined;
  const file = parse(resolved?.code === 0 ? resolved.out : read('compose.yml'), { merge: true }) as Compose;
  const services = file.services ?? {};
  const routers = Object.keys(services).filter((name) => /^router\d+$/.test(name));

  t.test('runs the stores, the migration, two routers and the proxy', async (t) => {
    for (const name of ['postgres', 'mongo', 'redis', 'rabbitmq', 'migrate', 'proxy']) {
      t.ok(services[name], `has a ${name} service`);
    }
    t.same(routers, ['router1', 'router2'], 'has the router nodes router1 and router2');
    const volumes = Object.keys(file.volumes ?? {});
    for (const name of ['postgres', 'mongo', 'redis', 'rabbitmq']) {
      // "pgdata:/path" in the file and from compose v1; { source: 'pgdata', ... } from compose v2.
      const mounts = (services[name]?.volumes as unknown[] | undefined) ?? [];
      const sources = mounts.map((m) => (typeof m === 'object' && m ? String((m as { source?: unknown }).source) : String(m).split(':')[0]!));
      const named = sources.filter((src) => volumes.includes(src));
      t.ok(named.length > 0, `${name} keeps its data in a named volume`);
      t.ok(services[name]?.healthcheck, `${name} has a healthcheck`);
    }
  });

  t.test('starts routers only after the migration succeeded and the stores are healthy', async (t) => {
    for (const name of routers) {
      const deps = services[name]?.depends_on as Record<string, { condition: string }>;
      t.equal(deps?.migrate?.condition, 'service_completed_successfully', `${name} waits for migrate to succeed`);
      for (const store of ['mongo', 'redis', 'rabbitmq']) {
        t.equal(deps?.[store]?.condition, 'service_healthy', `${name} waits for ${store} to be healthy`);
      }
    }
    const migrateDeps = services.migrate?.depends_on as Record<string, { condition: string }>;
    t.equal(migrateDeps?.postgres?.condition, 'service_healthy', 'migrate waits for postgres to be healthy');
  });

  t.test('gives the routers only variables config.ts knows, with values it accepts', async (t) => {
    const known = await configKeys();
    t.ok(known.has('DATABASE_URL') && known.has('NODE_ID'), 'the config keys were read from config.ts');
    const nodeIds = new Set<string>();
    for (const name of routers) {
      const env = envOf(services[name]!);
      for (const key of Object.keys(env)) t.ok(known.has(key), `${name}: ${key} is a key config.ts reads`);
      for (const key of ['DATABASE_URL', 'MONGO_URL', 'REDIS_URL', 'AMQP_URL', 'NODE_ID', 'PUBLIC_ORIGIN']) {
        t.ok(env[key], `${name} sets ${key}`);
      }
      t.doesNotThrow(() => loadConfig(env), `${name}'s environment passes config validation`);
      t.match(env.MONGO_URL, /[?&]replicaSet=rs0\b/, `${name} connects to MongoDB as the replica set rs0`);
      t.equal(env.PUBLIC_ORIGIN, 'http://localhost:8080', `${name}'s public origin is the proxy`);
      nodeIds.add(env.NODE_ID!);
    }
    t.equal(nodeIds.size, routers.length, 'every router has its own NODE_ID');
  });

  t.test('runs the worker from the same image with only variables its config knows', async (t) => {
    const worker = services.worker;
    t.ok(worker, 'has a worker service');
    if (!worker) return;
    t.same(worker.command, ['node', 'workers/src/main.ts'], 'starts workers/src/main.ts on Node itself, no loader');
    t.equal(worker.image, services.router1?.image, 'uses the routers\' image');
    const known = await configKeys('workers/src/config.ts');
    t.ok(known.has('AMQP_URL') && known.has('WORKER_PORT'), 'the config keys were read from workers/src/config.ts');
    const env = envOf(worker);
    for (const key of Object.keys(env)) t.ok(known.has(key), `worker: ${key} is a key workers/src/config.ts reads`);
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL']) t.ok(env[key], `the worker sets ${key}`);
    // The VAPID pair comes from the operator's environment; with a generated pair the config is valid.
    const keys = generateVapidKeys();
    t.doesNotThrow(() => loadWorkerConfig({ ...env, VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey }), 'the worker\'s environment passes config validation');
    const deps = worker.depends_on as Record<string, { condition: string }>;
    t.equal(deps?.migrate?.condition, 'service_completed_successfully', 'the worker waits for migrate');
    t.equal(deps?.rabbitmq?.condition, 'service_healthy', 'and for RabbitMQ');
  });

  t.test('puts Caddy in front of every router on port 8080', async (t) => {
    const caddyfile = read('ops/Caddyfile');
    const upstreams = /reverse_proxy\s+([^{\n]+)/.exec(caddyfile)?.[1]?.trim().split(/\s+/) ?? [];
    t.same(upstreams.sort(), routers.map((r) => `${r}:3000`).sort(), 'the proxy balances exactly the router services');
    t.match(caddyfile, /health_uri\s+\/readyz/, 'the proxy health-checks /readyz');
    t.match(caddyfile, /^:8080\s*\{/m, 'the proxy listens on 8080');
    // Short syntax in the file ("8080:8080"), long syntax once docker-compose resolved it.
    const ports = ((services.proxy?.ports as unknown[] | undefined) ?? []).map((p) =>
      typeof p === 'object' && p ? `${(p as { published: unknown }).published}:${(p as { target: unknown }).target}` : String(p),
    );
    t.ok(ports.includes('8080:8080'), `compose publishes the proxy on 8080 (${ports.join(', ')})`);
    const caddy = which('caddy');
    if (!caddy) return t.comment('SKIPPED caddy validate: no caddy binary on PATH');
    const r = run(caddy, ['validate', '--adapter', 'caddyfile', '--config', 'ops/Caddyfile']);
    t.equal(r.code, 0, `caddy validate accepts ops/Caddyfile\n${r.out}`);
  });
});

t.test('the Dockerfile', async (t) => {
  const dockerfile = read('ops/Dockerfile');
  t.match(dockerfile, /^FROM node:24-bookworm-slim|ARG NODE_IMAGE=node:24-bookworm-slim/m, 'builds on node:24-bookworm-slim');
  t.match(dockerfile, /npm ci --omit=dev/, 'installs production dependencies only in the runtime image');
  t.match(dockerfile, /^USER node$/m, 'runs as the unprivileged node user');
  t.match(dockerfile, /^EXPOSE 3000$/m, 'exposes the port the proxy targets');
  t.match(dockerfile, /^HEALTHCHECK[\s\S]*\/healthz/m, 'has a liveness healthcheck');
  t.match(dockerfile, /^CMD \["node", .*"router\/src\/main\.ts"\]$/m, 'starts router/src/main.ts with node');
  t.notMatch(dockerfile, /^CMD .*(--import|--loader|tsx)/m, 'with Node\'s own type stripping, no loader');
  for (const dir of ['router', 'db', 'protocol']) {
    t.match(dockerfile, new RegExp(`^COPY .*/${dir} \\./${dir}$`, 'm'), `the image gets ${dir}/`);
  }
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
  for (const entry of ['node_modules', 'data', '.git', '.tap']) t.ok(ignored.includes(entry), `.dockerignore leaves out ${entry}`);
});

t.test('one Node major everywhere: the image, package.json, the workflow and .ci/run', async (t) => {
  const image = /node:(\d+)-bookworm-slim/.exec(read('ops/Dockerfile'))?.[1];
  t.equal(image, '24', 'the image builds on Node 24, the current LTS');
  const pkg = JSON.parse(read('package.json')) as { engines?: { node?: string }; devDependencies?: Record<string, string>; scripts: Record<string, string> };
  t.equal(pkg.engines?.node, `>=${image}`, 'package.json asks for that Node');
  t.match(pkg.devDependencies?.['@types/node'], new RegExp(`^\\^${image}\\.`), 'and types against it');
  const workflow = parse(read('.github/workflows/ci.yml')) as { jobs: Record<string, { steps?: Array<{ uses?: string; with?: Record<string, unknown> }> }> };
  const setupNode = Object.values(workflow.jobs).flatMap((j) => j.steps ?? []).filter((s) => s.uses?.startsWith('actions/setup-node@'));
  t.ok(setupNode.length > 0, 'ci.yml sets up Node');
  for (const step of setupNode) t.equal(String(step.with?.['node-version']), image, 'ci.yml tests on that Node');
  t.match(read('.ci/run'), new RegExp(`^NODE_MAJOR=${image}$`, 'm'), '.ci/run runs everything on that Node');
  for (const name of ['start', 'worker', 'bench']) {
    t.notMatch(pkg.scripts[name], /tsx/, `npm run ${name} runs on Node's own type stripping`);
  }
});

t.test('every way of starting a router passes its Node flags', async (t) => {
  const cmd = /^CMD (\[.*"router\/src\/main\.ts"\])$/m.exec(read('ops/Dockerfile'))?.[1];
  const imageArgs: string[] = cmd ? JSON.parse(cmd) : [];
  const startArgs: string[] = JSON.parse(read('package.json')).scripts.start.split(/\s+/);
  // Exactly the list: a flag added to one way of starting and not to node.flags.ts fails too.
  t.same(imageArgs, ['node', ...ROUTER_NODE_FLAGS, 'router/src/main.ts'], `the image's CMD passes exactly ROUTER_NODE_FLAGS (${ROUTER_NODE_FLAGS.join(' ') || 'none'})`);
  t.same(startArgs, ['node', ...ROUTER_NODE_FLAGS, 'router/src/main.ts'], 'npm start passes exactly ROUTER_NODE_FLAGS');
  t.match(read('router/bench/targets.ts'), /ROUTER_NODE_FLAGS/, 'the benchmark starts its routers with them');
});

t.test('the GitHub workflows', async (t) => {
  const dir = '.github/workflows';
  const files = readdirSync(join(root, dir)).filter((f) => /\.ya?ml$/.test(f));
  t.same(files.sort(), ['ci.yml', 'release.yml'], 'are ci.yml and release.yml');
  const validator = join(root, 'node_modules/.bin/action-validator');

  for (const file of files) {
    t.test(`${file} is a valid workflow`, async (t) => {
      if (existsSync(validator)) {
        const r = run(validator, [join(dir, file)]);
        t.equal(r.code, 0, `action-validator accepts ${file}\n${r.out}`);
      } else if (inCi) {
        t.fail('@action-validator/cli is not installed (a devDependency); npm ci should have installed it');
      } else {
        t.comment('SKIPPED action-validator: node_modules/.bin/action-validator is missing; checking keys only');
      }
      const wf = parse(read(join(dir, file))) as { on?: unknown; jobs?: Record<string, { 'runs-on'?: unknown; steps?: unknown[] }> };
      t.ok(wf.on, `${file} says when it runs`);
      t.ok(wf.jobs && Object.keys(wf.jobs).length > 0, `${file} has jobs`);
      for (const [name, job] of Object.entries(wf.jobs ?? {})) {
        t.ok(job['runs-on'], `${file}: job ${name} says where it runs`);
        t.ok(Array.isArray(job.steps) && job.steps.length > 0, `${file}: job ${name} has steps`);
      }
    });
  }

  t.test('ci.yml tests against every store and builds the image', async (t) => {
    const text = read(join(dir, 'ci.yml'));
    type Job = { services?: Record<string, unknown>; env?: Record<string, string>; steps?: Array<{ run?: string }> };
    const wf = parse(text) as { on: Record<string, unknown>; jobs: Record<string, Job> };
    t.ok('push' in wf.on && 'pull_request' in wf.on, 'runs on push and pull_request');
    const test = Object.values(wf.jobs).find((j) => j.services);
    t.ok(test, 'has a job with service containers');
    t.same(Object.keys(test?.services ?? {}).sort(), ['postgres', 'rabbitmq', 'redis'], 'with PostgreSQL, Redis and RabbitMQ');
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'MONGO_URL']) t.ok(test?.env?.[key], `sets ${key} for the tests`);
    t.match(test?.env?.MONGO_URL, /replicaSet=rs0/, 'MongoDB runs as a replica set');
    const runs = (test?.steps ?? []).map((s) => s.run ?? '').join('\n');
    for (const cmd of ['npm ci', 'npm run typecheck', 'npm test', 'mongo:7 --replSet rs0', 'chromium']) {
      t.match(runs, cmd, `runs ${cmd}`);
    }
    t.match(text, /docker\/build-push-action@v\d+[\s\S]*push: false/, 'builds the image without pushing');
  });

  t.test('release.yml pushes the tagged image to ghcr.io', async (t) => {
    const text = read(join(dir, 'release.yml'));
    const wf = parse(text) as { on: { push?: { tags?: string[] } }; permissions?: Record<string, string> };
    t.same(wf.on.push?.tags, ['v*'], 'runs on v* tags');
    t.equal(wf.permissions?.packages, 'write', 'may write packages');
    t.match(text, /registry: ghcr\.io/, 'logs in to ghcr.io');
    t.match(text, /push: true/, 'pushes');
  });
});

t.test('ops/migrate.ts', async (t) => {
  const script = [...TYPESCRIPT_NODE_ARGS, 'ops/migrate.ts'];
  const baseEnv = { PATH: process.env.PATH ?? '' };

  t.test('refuses to run without a PostgreSQL URL', async (t) => {
    const r = run(process.execPath, script, baseEnv);
    t.equal(r.code, 2, 'exits 2 without DATABASE_URL');
    t.match(r.out, /DATABASE_URL is not set/, 'and says why');
    const bad = run(process.execPath, script, { ...baseEnv, DATABASE_URL: 'redis://127.0.0.1:6379' });
    t.equal(bad.code, 2, 'exits 2 for a URL that is not postgres://');
  });

  t.test('exits 1 when the database refuses', async (t) => {
    const r = run(process.execPath, script, { ...baseEnv, DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' });
    t.equal(r.code, 1, 'exits 1');
    t.notMatch(r.out, /secret/, 'and never prints the password');
  });

  t.test('migrates an empty database and is a no-op the second time', async (t) => {
    const base = need(t, 'DATABASE_URL', 'migration script');
    if (!base) return;
    const url = await freshPgDatabase(t, base);
    const first = run(process.execPath, script, { ...baseEnv, DATABASE_URL: url });
    t.equal(first.code, 0, `the first run succeeds\n${first.out}`);
    const again = run(process.execPath, script, { ...baseEnv, DATABASE_URL: url });
    t.equal(again.code, 0, `the second run succeeds\n${again.out}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = 'public'`,
      );
      const names = tables.rows.map((r) => r.table_name);
      for (const table of ['users', 'chatrooms', 'memberships', 'knex_migrations']) {
        t.ok(names.includes(table), `${table} exists`);
      }
      const applied = await client.query<{ name: string }>('select name from knex_migrations');
      t.equal(applied.rowCount, new Set(applied.rows.map((r) => r.name)).size, 'no migration was recorded twice');
    } finally {
      await client.end();
    }
  });
});

t.test('every configuration key of the router and the worker is documented in the README', async (t) => {
  const readme = read('README.md');
  for (const file of ['router/src/config.ts', 'workers/src/config.ts']) {
    for (const key of await configKeys(file)) t.match(readme, `\`${key}\``, `${key} (${file}) is in the README`);
  }
});
