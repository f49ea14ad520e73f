/**
 * Offline-first in a real browser (Debian's Chromium, the real service worker, the embedded
 * default): the conversation paints from IndexedDB before the socket connects, with 1,000 cached
 * messages, online and offline, rendering only a window of the newest (how long that takes is
 * measured by `npm run bench:open`, not here: no test depends on the machine's speed); a push delivered with Alice's app closed
 * lands in IndexedDB and Bob's page shows two ticks; Alice opening the app offline shows it; the
 * same push again shows no second notification; a device with the old localStorage cache keeps
 * every cached message and its outbox.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import type { Message } from '../../protocol/frames.ts';
import { appDevice, appSignUp, chromiumOrSkip, freePort, markPaintedWhenShown, settledScreenshot, storedReadMark, type AppDevice } from '../../test/support/browser.ts';
import { pushTask, registration } from '../../test/support/push.devtools.ts';
import { startNode, TestClient } from '../../test/support/router.harness.ts';
import { waitFor } from '../../test/support/wait.ts';
import { pushPayload } from '../../workers/src/push.job.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const WAIT = { timeout: 20_000 };
const CACHED = 1000;
/** Most message rows a conversation opening at its end puts in the DOM (lib/chat/window.ts's OPEN_ROWS, with room to change it). */
const WINDOW_MAX = 100;

const errors: string[] = [];

/** Messages of `room` in this device's IndexedDB. */
function storedSeqs(d: AppDevice, room: string): Promise<number[]> {
  return d.page.evaluate(
    (room) =>
      new Promise<number[]>((resolve, reject) => {
        const open = indexedDB.open('messenger');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('messages').objectStore('messages').getAll();
          all.onsuccess = () => {
            resolve((all.result as { room: string; seq: number }[]).filter((m) => m.room === room).map((m) => m.seq));
            open.result.close();
          };
        };
      }),
    room,
  );
}

/**
 * Opens `path` and reads, in the page, the order of events: the IndexedDB read, the frame after the
 * newest message is in the DOM, and the socket being online (null: not yet); and the message rows then in the DOM.
 */
async function openRead(d: AppDevice, path: string): Promise<{ painted: number; online: number | null; loaded: number; rows: number }> {
  await d.page.goto(`${d.origin}${path}`);
  const painted = await d.page.waitForFunction(() => performance.getEntriesByName('conversation-painted')[0]?.startTime, undefined, WAIT);
  const rows = await d.page.locator('[data-testid=message]').count();
  const [online, loaded] = await d.page.evaluate(() => ['chat:online', 'chat:cache-loaded'].map((n) => performance.getEntriesByName(n)[0]?.startTime ?? null));
  const ms = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x));
  return { painted: ms((await painted.jsonValue()) as number)!, online: ms(online), loaded: ms(loaded) ?? -1, rows };
}

if (chromiumOrSkip(t, 'the offline-first browser suite')) {
  t.test('offline-first in Chromium on the embedded default', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    // Bob's other device writes a thousand messages as fast as the acks come: no rate limit for it.
    const h = await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR, RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' });
    const alice = await appDevice(t, chromium, origin, 'Alice', 'light', 'offline', errors);
    const bob = await appDevice(t, chromium, origin, 'Bob', 'dark', 'offline', errors);
    await alice.context.grantPermissions(['notifications'], { origin });
    const tag = process.pid;
    await appSignUp(alice, `alice_o${tag}`, 'Alice Example');
    await appSignUp(bob, `bob_o${tag}`, 'Bob Example');
    const aliceId = (await h.stores.relational.findUserByHandle(`alice_o${tag}`))!.id;
    const bobUser = (await h.stores.relational.findUserByHandle(`bob_o${tag}`))!;
    const room = `${Math.min(aliceId, bobUser.id)}-${Math.max(aliceId, bobUser.id)}`;
    // Bob's other device, a plain socket: it writes the thousand messages and hears his own.
    const bobSocket = await TestClient.open(t, h.wsUrl, (await h.stores.sessions.create(bobUser.id, 3600_000)).id, { origin });

    // Marks the frame after the last cached message is in the DOM (each navigation of Alice's page).
    await markPaintedWhenShown(alice.page, `m${CACHED}`);

    await t.test(`the conversation paints from IndexedDB with ${CACHED} cached messages, online and offline`, async (t) => {
      for (let i = 1; i <= CACHED; i++) await bobSocket.sendMessage({ to: aliceId }, `m${i}`);
      // Alice's open app got them live and keeps every one (no 50-per-room cap).
      await waitFor(async () => (await storedSeqs(alice, room)).length >= CACHED, 60_000);
      t.equal((await storedSeqs(alice, room)).length, CACHED, `all ${CACHED} messages are in IndexedDB`);
      await t.test('a thousand unread open at the divider with a window of them, which grows as she scrolls down', async (t) => {
        await alice.page.goto(`${origin}/chat/${room}`);
        await alice.page.locator('[data-testid=unread-divider]').waitFor(WAIT);
        const rows = alice.page.locator('[data-testid=message]');
        const bodies = () => alice.page.locator('[data-testid=message] .body').allTextContents();
        const first = await rows.count();
        t.ok(first > 20 && first <= WINDOW_MAX, `a window from the divider down is rendered (${first} of ${CACHED} unread)`);
        t.notOk((await bodies()).includes(`m${CACHED}`), 'not down to the newest');
        t.ok(Number(await alice.page.getByTestId('jump').getAttribute('data-unread')) > CACHED - WINDOW_MAX, 'the jump button counts the unread below, rendered or not');
        await settledScreenshot(alice.page, `${SHOTS}offline-window-at-divider-phone-light.png`);
        // The view's end is the window's, not the chat's: what she read is what was on screen.
        const read = await bobSocket.next('receipt', (f) => f.room === room && f.kind === 'read', WAIT.timeout);
        t.ok(read.seq < first, `her first read receipt names a message on screen (${read.seq}), not the newest`);
        // Down to the window's end, twice: each time rows are added below, and the row on screen stays put.
        for (let step = 1, count = first; step <= 2; step++) {
          const before = await alice.page.evaluate(() => {
            const scroller = document.querySelector<HTMLElement>('main.messages')!;
            scroller.scrollTop = scroller.scrollHeight;
            const rows = [...scroller.querySelectorAll<HTMLElement>('[data-testid=message]')];
            const last = rows.at(-1)!;
            return { body: last.querySelector('.body')!.textContent!, y: Math.round(last.getBoundingClientRect().top) };
          });
          await waitFor(async () => (await rows.count()) > count, WAIT.timeout);
          const grown = await rows.count();
          const y = await alice.page.locator('[data-testid=message] .body', { hasText: new RegExp(`^${before.body}$`) }).evaluate((b) => Math.round(b.closest('[data-testid=message]')!.getBoundingClientRect().top));
          t.ok(grown > count, `step ${step}: the window grew below, from ${count} to ${grown} rows`);
          t.equal(y, before.y, `step ${step}: ${before.body} stayed where it was on screen`);
          count = grown;
        }
        // The jump goes to the newest: their window replaces this one, and everything is read.
        await alice.page.getByTestId('jump').click();
        await alice.page.locator('[data-testid=message] .body', { hasText: new RegExp(`^m${CACHED}$`) }).waitFor(WAIT);
        t.ok((await rows.count()) <= WINDOW_MAX, `the jump renders the newest window (${await rows.count()} rows)`);
        await bobSocket.next('receipt', (f) => f.room === room && f.kind === 'read' && f.seq === CACHED, WAIT.timeout);
        t.pass(`and reads to the newest (${CACHED})`);
      });
      // Alice read to the end: once her device keeps that, the chat opens at its end, not at a divider.
      await waitFor(async () => (await storedReadMark(alice.page, room, aliceId)) === CACHED, WAIT.timeout);
      await waitFor(async () => (await openRead(alice, `/chat/${room}`)) && (await alice.page.locator('[data-testid=unread-divider]').count()) === 0, 20_000);
      const online = await openRead(alice, `/chat/${room}`);
      t.ok(online.loaded < online.painted, `online: painted from IndexedDB (read by ${online.loaded} ms, painted at ${online.painted} ms, socket online at ${online.online ?? 'not yet'} ms)`);
      t.ok(online.rows > 20 && online.rows <= WINDOW_MAX, `only a window of the newest messages is rendered (${online.rows} of ${CACHED})`);
      await alice.context.setOffline(true);
      const offline = await openRead(alice, `/chat/${room}`);
      t.equal(offline.online, null, `offline: painted with no socket (read by ${offline.loaded} ms, painted at ${offline.painted} ms)`);
      t.ok(offline.rows <= WINDOW_MAX, `offline too only the window (${offline.rows})`);
      t.equal((await openRead(alice, `/chat/${room}?rows=all`)).rows, CACHED, 'the benchmark\'s baseline, ?rows=all, renders every message held');

      await t.test('scrolling up grows the window without moving what is on screen, to the oldest held (offline)', async (t) => {
        await alice.page.goto(`${origin}/chat/${room}`);
        await scrollUpThroughWindow(t, alice, 'offline-window-scrolled-up-phone-light.png');
      });
      await alice.context.setOffline(false);
      await t.test('the same on Bob\'s phone (online, his own messages)', async (t) => {
        await bob.page.goto(`${origin}/chat/${room}`);
        await scrollUpThroughWindow(t, bob, 'offline-window-scrolled-up-phone-dark.png');
      });
    });

    await t.test('a push with Alice\'s app closed lands in IndexedDB and Bob sees two ticks', async (t) => {
      await bob.page.goto(`${origin}/chat/${room}`);
      await bob.page.locator('[data-testid=message]').last().waitFor(WAIT);
      // Alice's app closes: her tab leaves the site, her browser (and its service worker) stays.
      await alice.page.goto('about:blank');
      const body = 'While you were away';
      await bob.page.getByLabel('Message', { exact: true }).fill(body);
      await bob.page.getByLabel('Message', { exact: true }).press('Enter');
      const m = (await bobSocket.next('message.new', (f) => f.message.body === body)).message;
      const mine = bob.page.locator('[data-testid=message][data-mine=true]').last();
      await bob.page.locator('[data-testid=message][data-mine=true][data-status=sent]').last().waitFor(WAIT);
      t.equal(await mine.getAttribute('data-status'), 'sent', 'one tick: Alice has no socket');

      const cdp = await alice.context.newCDPSession(alice.page);
      const registrationId = await registration(cdp, origin);
      const payload = pushPayload(pushTask(aliceId, bobUser, m));
      t.ok(JSON.parse(payload).body === body, 'the payload carries the whole message');
      await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: payload });
      await bob.page.locator('[data-testid=message][data-mine=true][data-status=delivered]').last().waitFor(WAIT);
      t.equal(await mine.getAttribute('data-status'), 'delivered', 'two ticks once Alice\'s service worker stored it, her app still closed');
      await settledScreenshot(bob.page, `${SHOTS}offline-two-ticks-app-closed-phone-dark.png`);

      await t.test('Alice opens the app offline and the message is there', async (t) => {
        await alice.context.setOffline(true);
        await alice.page.goto(`${origin}/chat/${room}`);
        await alice.page.locator('[data-testid=message] .body', { hasText: body }).waitFor(WAIT);
        t.ok((await storedSeqs(alice, room)).includes(m.seq), 'the pushed seq is in IndexedDB');
        const shown = await alice.page.evaluate(async (room) => (await (await navigator.serviceWorker.ready).getNotifications({ tag: `room:${room}` })).map((n) => n.body), room);
        t.same(shown, [body], 'one notification was shown for it');
        await alice.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).forEach((n) => n.close()));
        await settledScreenshot(alice.page, `${SHOTS}offline-opened-offline-phone-light.png`);
      });

      await t.test('the same push again is not shown twice', async (t) => {
        await alice.page.goto('about:blank');
        await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: payload });
        // A later push of another room: once it shows, the repeated one was handled before it.
        const other = { ...JSON.parse(payload), room: `${aliceId}-999999`, tag: `${aliceId}-999999`, seq: 1, preview: 'sentinel' };
        delete other.body;
        await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(other) });
        await alice.page.goto(`${origin}/`);
        let bodies: string[] = [];
        await waitFor(async () => (bodies = await alice.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.body))).includes('sentinel'), 20_000);
        t.same(bodies, ['sentinel'], 'only the other room\'s notification: the repeated seq showed nothing');
        await alice.context.setOffline(false);
      });
    });

    await t.test('a device with the old localStorage cache keeps every cached message and its outbox', async (t) => {
      const old = await appDevice(t, chromium, origin, 'Bob-old', 'dark', 'offline-legacy', errors);
      await old.context.addCookies(await bob.context.cookies());
      const legacyRoom = `${bobUser.id}-999998`;
      const messages: Message[] = Array.from({ length: 120 }, (_, i) => ({ id: `l${i + 1}`, room: legacyRoom, seq: i + 1, sender: bobUser.id, body: `legacy ${i + 1}`, clientMsgId: `lc${i + 1}`, ts: 1_700_000_000_000 + i }));
      const rooms = [{ room: legacyRoom, kind: 'direct', members: [], lastSeq: 120, delivered: {}, read: {}, messages }];
      const outbox = ['queued one', 'queued two'].map((b, i) => ({ clientMsgId: `legacy-${tag}-${i}`, room, to: aliceId, body: b, createdAt: Date.now() }));
      // The build before IndexedDB wrote these; the first start of this build finds them.
      await old.page.addInitScript(
        ([user, rooms, outbox]) => {
          if (localStorage.getItem('seeded')) return;
          localStorage.setItem('seeded', '1');
          localStorage.setItem(`rooms:${user}`, rooms);
          localStorage.setItem(`outbox:${user}`, outbox);
        },
        [String(bobUser.id), JSON.stringify(rooms), JSON.stringify(outbox)] as const,
      );
      await old.page.goto(`${origin}/`);
      await old.page.getByRole('heading', { name: 'Chats' }).waitFor(WAIT);
      await waitFor(async () => (await storedSeqs(old, legacyRoom)).length === 120, 20_000);
      t.same(await storedSeqs(old, legacyRoom), messages.map((m) => m.seq), 'every cached message moved to IndexedDB');
      for (const o of outbox) t.match((await bobSocket.next('message.new', (f) => f.message.clientMsgId === o.clientMsgId)).message, { body: o.body, room }, `the outbox item "${o.body}" went out`);
      t.same(await old.page.evaluate((user) => [localStorage.getItem(`rooms:${user}`), localStorage.getItem(`outbox:${user}`)], bobUser.id), [null, null], 'and the localStorage copy is gone');
    });

    // Offline, the socket's attempts fail by design.
    t.same(errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED')), [], 'no page errors');
  });
}

/**
 * Scrolls `d`'s open conversation to the top of its window again and again: each time the window
 * grows (more message rows), the row that was at the top stays where it was on screen, until the
 * window holds all ${CACHED} messages and the chat's beginning shows. A screenshot after the first step.
 */
async function scrollUpThroughWindow(t: Test, d: AppDevice, shot: string): Promise<void> {
  const rows = d.page.locator('[data-testid=message]');
  await d.page.locator('[data-testid=message] .body', { hasText: `m${CACHED}` }).waitFor(WAIT);
  let count = await rows.count();
  const start = count;
  let steps = 0;
  let moved = 0;
  while (count < CACHED) {
    // The top row's place just after the scroll to the top, before the window grows (the observer reports later).
    const before = await d.page.evaluate(() => {
      const scroller = document.querySelector<HTMLElement>('main.messages')!;
      scroller.scrollTop = 0;
      const top = scroller.querySelector<HTMLElement>('[data-testid=message]')!;
      return { body: top.querySelector('.body')!.textContent!, y: top.getBoundingClientRect().top };
    });
    await waitFor(async () => (await rows.count()) > count, 20_000);
    count = await rows.count();
    steps++;
    // After the step is laid out and the position kept (two frames).
    const after = await d.page.evaluate(
      (body) =>
        new Promise<number>((resolve) =>
          requestAnimationFrame(() => requestAnimationFrame(() => {
            const row = [...document.querySelectorAll<HTMLElement>('[data-testid=message]')].find((r) => r.querySelector('.body')?.textContent === body)!;
            resolve(row.getBoundingClientRect().top);
          })),
        ),
      before.body,
    );
    moved = Math.max(moved, Math.abs(after - before.y));
    if (steps === 1) await settledScreenshot(d.page, `${SHOTS}${shot}`);
  }
  t.ok(steps >= 2, `the window grew ${steps} times, from ${start} to ${count} rows`);
  t.ok(moved <= 2, `the row at the top stayed in place on each step (moved at most ${moved.toFixed(1)} px)`);
  t.equal(count, CACHED, 'every message held is rendered at the end');
  await d.page.getByText('This is the beginning of your chat.').waitFor(WAIT);
  t.pass('the beginning of the chat shows once the window holds the oldest');
}
