/**
 * The embedded default as `npm start` runs it: router/src/main.ts with the router's Node flags on
 * a data directory on disk. Its first start copies the template instead of running initdb, a
 * person at a terminal reads one plain line with the URL, and a message acknowledged just before
 * the process is killed outright (no shutdown at all) is there after the restart.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { prepareTemplate } from '../../db/pglite.prepare.ts';
import { ROUTER_NODE_FLAGS, TYPESCRIPT_NODE_ARGS } from '../src/node.flags.ts';
import { call, Jar } from '../../test/support/http.client.ts';
import { TEST_ORIGIN, TestClient } from '../../test/support/router.harness.ts';
import { spawnRouter } from '../../test/support/router.process.ts';
import { waitFor } from '../../test/support/wait.ts';
import { SoftCredential } from '../../test/support/webauthn.authenticator.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

async function freshDataDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'messenger-start-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** POSTs as the app does (our Origin, the browser's cookies); fails the test on anything but 200. */
async function post(t: Test, base: string, jar: Jar, path: string, body: unknown) {
  const answer = jar.update(await call(base, path, { body, origin: TEST_ORIGIN, cookie: jar.header() }));
  t.equal(answer.status, 200, `${path} answers 200 ${answer.status === 200 ? '' : JSON.stringify(answer.body)}`);
  return answer.body;
}

t.test('at a terminal it prints one plain line with the URL, and no JSON', async (t) => {
  const dataDir = await freshDataDir(t);
  // LOG_FORMAT=text is what a terminal on stdout picks (config.test.ts); the env says it here.
  const proc = spawn(process.execPath, [...ROUTER_NODE_FLAGS, ...TYPESCRIPT_NODE_ARGS, main], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_FORMAT: 'text' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    return exited;
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d));
  proc.stderr.on('data', (d: Buffer) => (out += d));
  await waitFor(() => /Messenger is running at /.test(out) || proc.exitCode !== null, 120_000);
  const url = /^Messenger is running at (http:\/\/localhost:\d+)$/m.exec(out)?.[1];
  t.ok(url, `one plain line names the URL to open:\n${out}`);
  const health = await fetch(`${url!.replace('localhost', '127.0.0.1')}/healthz`);
  t.equal(health.status, 200, 'and the messenger answers there');
  await (await fetch(`${url!.replace('localhost', '127.0.0.1')}/api/auth/providers`)).text();
  proc.kill('SIGINT');
  t.equal(await exited, 0, 'Ctrl-C stops it cleanly');
  const lines = out.split('\n').filter(Boolean);
  t.same(lines.filter((l) => l.startsWith('{')), [], 'no JSON line reached the terminal');
  t.same(lines, [`Messenger is running at ${url}`], 'nothing else was printed: requests and the shutdown are info, below the terminal\'s warn');
});

t.test('a message acknowledged just before a SIGKILL is there after the restart', async (t) => {
  await prepareTemplate(); // as `npm install` leaves it
  const dataDir = await freshDataDir(t);
  const first = await spawnRouter(t, { DATA_DIR: dataDir }, ROUTER_NODE_FLAGS);
  t.match(first.logs.join('\n'), /embedded database created from the template/, 'the first start copied the template instead of running initdb');
  const base = `http://127.0.0.1:${first.port}`;

  const bobCred = new SoftCredential(TEST_ORIGIN);
  const signUp = async (handle: string, cred: SoftCredential) => {
    const jar = new Jar();
    const options = await post(t, base, jar, '/api/passkeys/signup/options', { handle, displayName: handle });
    const { user } = (await post(t, base, jar, '/api/passkeys/signup/verify', cred.attest(options))) as { user: { id: number } };
    return { id: user.id, sid: jar.values.get('sid')! };
  };
  const alice = await signUp('alice', new SoftCredential(TEST_ORIGIN));
  const bob = await signUp('bob', bobCred);
  const a = await TestClient.open(t, `ws://127.0.0.1:${first.port}/ws`, alice.sid);
  const bodies = Array.from({ length: 10 }, (_, i) => `kept through a kill, ${i}`);
  for (const body of bodies) {
    const ack = await a.sendMessage({ to: bob.id }, body);
    t.equal(ack.type, 'message.sent', `"${body}" is acknowledged`);
  }
  // At once after the last acknowledgement: no shutdown, no checkpoint, nothing flushed on the way out.
  t.equal(await first.stop('SIGKILL'), null, 'the first process was killed');

  const second = await spawnRouter(t, { DATA_DIR: dataDir }, ROUTER_NODE_FLAGS);
  t.notMatch(second.logs.join('\n'), /from the template|running initdb/, 'the restart opened the database it found');
  const secondBase = `http://127.0.0.1:${second.port}`;
  const jar = new Jar();
  const options = await post(t, secondBase, jar, '/api/passkeys/signin/options', {});
  await post(t, secondBase, jar, '/api/passkeys/signin/verify', bobCred.assert(options));
  const b = await TestClient.open(t, `ws://127.0.0.1:${second.port}/ws`, jar.values.get('sid')!);
  b.send({ type: 'sync', ref: 's', rooms: [] });
  await b.next('sync.done', () => true, 30_000);
  const got = b.all('history.page').flatMap((p) => p.messages.map((m) => m.body));
  t.same(got, bodies, 'every acknowledged message is there, in order');
});
