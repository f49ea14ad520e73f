/**
 * `npm run bench:open`: how long the installed app takes to paint the last open conversation from
 * IndexedDB. A node of the embedded default (in this process, PGlite in memory, the built app) and a
 * phone-sized Chromium with the real service worker: Bob writes `--messages` (1,000) messages to
 * Alice while her app is open, so her IndexedDB holds them all; she opens the chat and reads to the
 * end (the conversation she last had open, opening at its end). Then she opens `/chat/<room>` again
 * and again, online and offline, and each time the page itself marks (performance.mark) the frame
 * after the newest message is in the DOM; the figure is that mark's time from navigation start.
 *
 * Each run opens the chat twice, in turn: windowed (the app as shipped: the newest rows, growing as
 * one scrolls up) and with `?rows=all`, which renders every message held, as the app did before the
 * window (the baseline). Medians of `--runs` (5). Needs /usr/bin/chromium and a built app (built
 * first when stale). Figures from a shared machine are indicative: run it on an idle one.
 *
 *   npm run bench:open [-- --runs 5 --messages 1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { intOption } from '../../kit/bench.ts';
import { CHROMIUM, CHROMIUM_FLAGS, freePort, markPaintedWhenShown, storedReadMark } from '../../test/support/browser.ts';
import { startNode, TestClient } from '../../test/support/router.harness.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const runs = intOption('runs', 5);
const messages = intOption('messages', 1000);
const WAIT = { timeout: 60_000 };
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));

/** What the test harness wants of a tap test: its teardowns, run here at the end. */
const teardowns: Array<() => unknown> = [];
const owner = { teardown: (fn: () => unknown) => void teardowns.push(fn) } as unknown as Test;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Messages of `room` in the page's IndexedDB. */
function stored(page: Page, room: string): Promise<number> {
  return page.evaluate(
    (room) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('messenger');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('messages').objectStore('messages').getAll();
          all.onsuccess = () => {
            resolve((all.result as { room: string }[]).filter((m) => m.room === room).length);
            open.result.close();
          };
        };
      }),
    room,
  );
}

/** Opens `url`; the time from navigation start to the frame after the newest message is in the DOM, and how many message rows the DOM then holds. */
async function open(page: Page, url: string): Promise<{ painted: number; rows: number }> {
  await page.goto(url);
  const painted = await page.waitForFunction(() => performance.getEntriesByName('conversation-painted')[0]?.startTime, undefined, WAIT);
  const rows = await page.locator('[data-testid=message]').count();
  return { painted: Math.round((await painted.jsonValue()) as number), rows };
}

buildAppIfStale();
const profile = mkdtempSync(join(tmpdir(), 'bench-open-profile-'));
try {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const h = await startNode(owner, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR, RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' });
  const alice = await h.user();
  const bob = await h.user();
  const room = `${Math.min(alice.id, bob.id)}-${Math.max(alice.id, bob.id)}`;

  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP localhost 127.0.0.1'],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    hasTouch: true,
  });
  teardowns.push(() => context.close());
  await context.addCookies([{ name: 'sid', value: alice.sessionId, url: origin }]);
  const page = context.pages()[0] ?? (await context.newPage());
  // Marks the frame after the newest message is in the DOM (each navigation).
  await markPaintedWhenShown(page, `m${messages}`);

  await page.goto(`${origin}/`);
  await page.locator('[data-testid=connection][data-state=online]').waitFor(WAIT);
  const bobSocket = await TestClient.open(owner, h.wsUrl, bob.sessionId, { origin });
  for (let i = 1; i <= messages; i++) await bobSocket.sendMessage({ to: alice.id }, `m${i}`);
  await until(`${messages} messages in IndexedDB`, async () => (await stored(page, room)) >= messages);
  // Alice reads the chat to its end: it is the one she last had open, and it opens at its end.
  await page.goto(`${origin}/chat/${room}`);
  await page.locator('[data-testid=jump]').click(WAIT);
  await until('her device to keep the chat read to its end', async () => (await storedReadMark(page, room, alice.id)) === messages);
  await until('the chat to open read, at its end', async () => {
    await open(page, `${origin}/chat/${room}`);
    return (await page.locator('[data-testid=unread-divider]').count()) === 0;
  });

  const figures: Record<string, { painted: number[]; rows: number }> = {};
  for (const offline of [false, true]) {
    await context.setOffline(offline);
    for (let run = 0; run < runs; run++) {
      for (const all of [false, true]) {
        const r = await open(page, `${origin}/chat/${room}${all ? '?rows=all' : ''}`);
        const key = `${offline ? 'offline' : 'online'}, ${all ? 'every message rendered (before)' : 'windowed'}`;
        (figures[key] ??= { painted: [], rows: r.rows }).painted.push(r.painted);
      }
    }
  }
  await context.setOffline(false);

  console.log(`navigation → conversation painted with ${messages} messages in IndexedDB (phone-sized Chromium, median of ${runs}):`);
  for (const [key, f] of Object.entries(figures)) console.log(`  ${key.padEnd(42)} ${String(median(f.painted)).padStart(5)} ms   (${f.painted.join(', ')}; ${f.rows} message rows in the DOM)`);
} finally {
  for (const fn of teardowns.reverse()) await fn();
  rmSync(profile, { recursive: true, force: true });
}
