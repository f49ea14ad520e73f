/**
 * Search in a real browser (docs/http-api.md, `GET /api/search`): Debian's Chromium driven by
 * playwright-core, Alice and Bob in two browser contexts against one router node on the embedded
 * default serving app/build. They have 140 messages together, more than the 50 a device holds after
 * a reload, so every match below is older than what the conversation first shows. Carol and Dan,
 * in a room Alice is not in, use the same words.
 *
 * Alice searches all her chats by the start of a word and finds the message with its match marked,
 * never Carol's; opening the result scrolls the conversation to it (loading earlier pages) and
 * highlights it. In the conversation's search bar she moves through three matches, older and newer,
 * each scrolled into view and highlighted. Queries full of operators show results or "no results";
 * a slow answer to an older query never replaces a newer one; offline and server errors say so in
 * a sentence. Screenshots at phone (390x844) and desktop (1280x800) size go to
 * artifacts/screenshots/search-*.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { BrowserContext, BrowserType, Page } from 'playwright-core';
import { directRoomId } from '../../protocol/frames.ts';
import { addAuthenticator, chromiumOrSkip, freePort, phoneDevice, settledScreenshot } from '../../test/support/browser.ts';
import { startNode, TestClient, type Harness } from '../../test/support/router.harness.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** Long enough for a busy machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 15_000 };

/** Messages in Alice and Bob's chat; a device holds the latest 50 after a reload. */
const TOTAL = 140;
/** Where the words searched for are, by seq (1 is the first message of the room). */
const MARMALADE_SEQ = 1;
const RHUBARB_SEQS = [10, 70, 130];
const textOf = (seq: number) =>
  seq === MARMALADE_SEQ
    ? 'The marmalade recipe is in the blue notebook'
    : RHUBARB_SEQS.includes(seq)
      ? `Rhubarb note ${seq}: bring the rhubarb from the garden`
      : `Filler line ${seq} about the weekend plans`;

interface Person {
  name: string;
  full: string;
  handle: string;
  id: number;
  origin: string;
  context: BrowserContext;
  page: Page;
  scheme: 'light' | 'dark';
}

async function person(t: Test, chromium: BrowserType, origin: string, name: string, scheme: 'light' | 'dark'): Promise<Person> {
  const { context, page } = await phoneDevice(t, chromium, scheme, 'search');
  await addAuthenticator(context, page);
  const handle = `${name.toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  return { name, full: `${name} Example`, handle, id: 0, origin, context, page, scheme };
}

async function signUp(p: Person): Promise<void> {
  await p.page.goto(`${p.origin}/`);
  await p.page.waitForURL('**/signin');
  await p.page.getByRole('tab', { name: 'Create account' }).click();
  await p.page.getByLabel('Handle').fill(p.handle);
  await p.page.getByLabel('Your name').fill(p.full);
  await p.page.getByRole('button', { name: 'Create account with a passkey' }).click();
  await p.page.getByRole('heading', { name: 'Chats' }).waitFor(WAIT);
  await p.page.locator('[data-testid=connection][data-state=online]').waitFor(WAIT);
  p.id = await p.page.evaluate(() => fetch('/api/me').then((r) => r.json()).then((j: { user: { id: number } }) => j.user.id));
}

/** A second device of a person signed in in the browser: a socket with the browser's session. */
async function device(t: Test, node: Harness, p: Person): Promise<TestClient> {
  const sid = (await p.context.cookies()).find((c) => c.name === 'sid')?.value;
  if (!sid) throw new Error(`${p.name} has no session cookie`);
  return TestClient.open(t, node.wsUrl, sid, { origin: p.origin });
}

async function shot(p: Person, screen: string): Promise<void> {
  await settledScreenshot(p.page, `${SHOTS}search-${screen}-phone-${p.scheme}.png`);
  await p.page.setViewportSize(DESKTOP);
  await settledScreenshot(p.page, `${SHOTS}search-${screen}-desktop-${p.scheme}.png`);
  await p.page.setViewportSize(PHONE);
}

/** The seqs of the messages the conversation holds on screen. */
const seqsOnScreen = (p: Person) => p.page.locator('[data-testid=message][data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));

/** Waits until message `seq` is highlighted and entirely within the conversation's visible area. */
async function shownAndHighlighted(p: Person, seq: number): Promise<void> {
  await p.page.waitForFunction(
    (seq) => {
      const el = document.querySelector(`[data-testid=message][data-seq="${seq}"]`);
      const scroller = document.querySelector('main.messages');
      if (!el || !scroller || !el.classList.contains('flash')) return false;
      const a = el.getBoundingClientRect();
      const b = scroller.getBoundingClientRect();
      return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
    },
    seq,
    WAIT,
  );
}

/** Opens the app as a device that held nothing: it then holds only the newest 50 messages of each room. */
async function freshDevice(p: Person, path: string): Promise<void> {
  // A device that kept nothing (the app keeps every message it saw, in IndexedDB): its first sync
  // brings the newest page only. The session cookie stays, so it is still signed in.
  await p.page.goto('about:blank');
  const cdp = await p.context.newCDPSession(p.page);
  await cdp.send('Storage.clearDataForOrigin', { origin: p.origin, storageTypes: 'indexeddb,local_storage' });
  await cdp.detach();
  await p.page.goto(`${p.origin}${path}`);
  await p.page.locator('[data-testid=connection][data-state=online]').waitFor(WAIT);
}

if (chromiumOrSkip(t, 'the search browser suite')) {
  t.test('search in Chromium: across chats and within one, two people on the embedded default', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    // The history is written by sockets as fast as they get acks: no rate limit in the way.
    const node = await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR, RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' });
    const alice = await person(t, chromium, origin, 'Alice', 'light');
    const bob = await person(t, chromium, origin, 'Bob', 'dark');
    let room = '';

    await t.test('Alice and Bob sign up and write 140 messages to each other', async (t) => {
      await Promise.all([signUp(alice), signUp(bob)]);
      room = directRoomId(alice.id, bob.id);
      const devices = { [alice.id]: await device(t, node, alice), [bob.id]: await device(t, node, bob) };
      for (let seq = 1; seq <= TOTAL; seq++) {
        // Bob writes the odd ones, Alice the even ones.
        const [from, to] = seq % 2 === 1 ? [bob, alice] : [alice, bob];
        const ack = await devices[from.id]!.sendMessage({ to: to.id }, textOf(seq));
        if (ack.type !== 'message.sent' || ack.seq !== seq) throw new Error(`message ${seq} was not stored as seq ${seq}: ${JSON.stringify(ack)}`);
      }
      t.pass(`${TOTAL} messages stored, seq 1 to ${TOTAL}`);
      // Alice has read them all (on another device): her chat opens at its end, not at a "new messages" divider far back.
      devices[alice.id]!.send({ type: 'message.read', room, seq: TOTAL });
      await devices[bob.id]!.next('receipt', (f) => f.room === room && f.user === alice.id && f.kind === 'read' && f.seq === TOTAL);

      // Carol and Dan use the same words in a room Alice is not in.
      const carol = await node.user();
      const dan = await node.user();
      const carolDevice = await carol.connect({ origin });
      for (const body of ['Dan only: the marmalade is hidden', 'Dan only: rhubarb season']) {
        const ack = await carolDevice.sendMessage({ to: dan.id }, body);
        t.equal(ack.type, 'message.sent', `Carol's "${body}" is stored`);
      }
    });

    await t.test('in the conversation, the search bar moves through three matches, each scrolled into view and highlighted', async (t) => {
      await freshDevice(alice, `/chat/${room}`);
      await alice.page.locator(`[data-testid=message][data-seq="${TOTAL}"]`).waitFor(WAIT);
      const held = await seqsOnScreen(alice);
      t.ok(Math.min(...held) > RHUBARB_SEQS[1]!, `after a reload the conversation starts at seq ${Math.min(...held)}, after two of the three matches`);

      await alice.page.keyboard.press('Control+f');
      const bar = alice.page.getByTestId('chat-search');
      const box = bar.getByLabel('Search in this chat');
      await box.waitFor(WAIT);
      t.ok(await box.evaluate((el) => el === document.activeElement), 'Ctrl+F opens the bar with the cursor in it');
      const count = bar.getByTestId('search-count');
      await box.fill('rhubarb');
      await count.filter({ hasText: /^1 of 3$/ }).waitFor(WAIT);
      await shownAndHighlighted(alice, RHUBARB_SEQS[2]!);
      t.pass('"1 of 3": the newest match is scrolled into view and highlighted');
      await shot(alice, 'in-chat');

      await box.press('Enter');
      await count.filter({ hasText: /^2 of 3$/ }).waitFor(WAIT);
      await shownAndHighlighted(alice, RHUBARB_SEQS[1]!);
      t.pass('Enter: the older match, "2 of 3", loaded from earlier history, scrolled to and highlighted');
      t.equal(await alice.page.locator('[data-testid=message].flash').count(), 1, 'only the match on screen is highlighted');

      await bar.getByRole('button', { name: 'Older match' }).click();
      await count.filter({ hasText: /^3 of 3$/ }).waitFor(WAIT);
      await shownAndHighlighted(alice, RHUBARB_SEQS[0]!);
      t.pass('the Older match button: the oldest, "3 of 3"');
      t.ok(await bar.getByRole('button', { name: 'Older match' }).isDisabled(), 'there is nothing older to go to');
      const seqs = await seqsOnScreen(alice);
      t.equal(new Set(seqs).size, seqs.length, 'each message is on screen once after loading earlier pages');
      t.ok(Math.min(...seqs) <= RHUBARB_SEQS[0]!, 'the earlier pages down to the oldest match are loaded');

      await box.press('Shift+Enter');
      await count.filter({ hasText: /^2 of 3$/ }).waitFor(WAIT);
      await shownAndHighlighted(alice, RHUBARB_SEQS[1]!);
      await bar.getByRole('button', { name: 'Newer match' }).click();
      await count.filter({ hasText: /^1 of 3$/ }).waitFor(WAIT);
      await shownAndHighlighted(alice, RHUBARB_SEQS[2]!);
      t.pass('Shift+Enter and the Newer match button go back to the newer matches');

      await box.fill('nothing like this anywhere');
      await count.filter({ hasText: 'No results' }).waitFor(WAIT);
      t.equal(await alice.page.locator('[data-testid=message].flash').count(), 0, 'no results: nothing highlighted');
      await box.press('Escape');
      await bar.waitFor({ state: 'detached', ...WAIT });
      t.pass('Esc closes the bar');

      // Bob, on his own device after a reload, finds the first message of the chat, his own.
      await freshDevice(bob, `/chat/${room}`);
      await bob.page.locator(`[data-testid=message][data-seq="${TOTAL}"]`).waitFor(WAIT);
      await bob.page.getByRole('button', { name: 'Search in this chat' }).click();
      await bob.page.getByRole('searchbox', { name: 'Search in this chat' }).fill('marmalade recipe');
      await bob.page.getByTestId('search-count').filter({ hasText: /^1 of 1$/ }).waitFor(WAIT);
      await shownAndHighlighted(bob, MARMALADE_SEQ);
      t.pass('the header\'s search button opens the bar; Bob\'s match, the first message, is loaded and shown');
      await shot(bob, 'in-chat');
    });

    await t.test('across chats, a prefix finds the message with its match marked, never a message from a room Alice is not in', async (t) => {
      await freshDevice(alice, '/');
      await alice.page.getByRole('link', { name: 'Search messages' }).click();
      await alice.page.waitForURL('**/search');
      const box = alice.page.getByRole('searchbox', { name: 'Search messages' });
      t.ok(await box.evaluate((el) => el === document.activeElement), 'the search screen opens with the cursor in the box');
      await box.pressSequentially('marmal', { delay: 30 });
      const hits = alice.page.getByTestId('search-hit');
      await hits.first().waitFor(WAIT);
      await alice.page.getByTestId('search-end').waitFor(WAIT);
      t.equal(await hits.count(), 1, 'one message matches "marmal"');
      const hit = hits.first();
      t.equal(await hit.getAttribute('data-room'), room, 'it is in Alice and Bob\'s room');
      t.equal(await hit.getAttribute('data-seq'), String(MARMALADE_SEQ), 'it is the first message');
      t.equal(await hit.getByTestId('hit-room').textContent(), 'Bob Example', 'the row names the chat (the other person)');
      t.equal(await hit.getByTestId('hit-sender').textContent(), 'Bob Example:', 'and who wrote it');
      const marks = await hit.locator('mark').allTextContents();
      t.ok(marks.length >= 1 && marks.every((m) => /^marmal/i.test(m)), `the match is marked: ${JSON.stringify(marks)}`);
      t.match(await hit.getByTestId('snippet').textContent(), /marmalade recipe/, 'the snippet shows the message text');
      t.notOk(await alice.page.getByText('Dan only').count(), 'Carol\'s message to Dan is not shown');
      await shot(alice, 'results');

      await box.fill('rhubarb');
      await alice.page.getByTestId('search-end').filter({ hasText: '3 messages found.' }).waitFor(WAIT);
      const rooms = await hits.evaluateAll((els) => els.map((e) => e.getAttribute('data-room')));
      t.same(rooms, [room, room, room], 'the three rhubarb matches are all in Alice\'s room, not Carol\'s');
      const order = await hits.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
      t.same(order, [...RHUBARB_SEQS].reverse(), 'newest first');
      await shot(alice, 'results-many');

      await box.fill('marmalade');
      await hits.first().waitFor(WAIT);
      await alice.page.getByTestId('search-end').waitFor(WAIT);
      t.notOk(await alice.page.locator('[data-testid=message]').count(), 'the conversation is not open yet');
      await hits.first().click();
      await alice.page.waitForURL(`**/chat/${room}?seq=${MARMALADE_SEQ}`);
      await shownAndHighlighted(alice, MARMALADE_SEQ);
      t.pass('opening the result loads earlier history down to the first message, scrolls to it and highlights it');
      t.match(await alice.page.locator(`[data-testid=message][data-seq="${MARMALADE_SEQ}"] .body`).textContent(), /marmalade recipe/, 'it is the message found');

      await alice.page.goBack();
      await alice.page.waitForURL('**/search?q=marmalade');
      await hits.first().waitFor(WAIT);
      t.equal(await box.inputValue(), 'marmalade', 'going back shows the same search');
    });

    await t.test('further pages load by cursor, each message once', async (t) => {
      const box = alice.page.getByRole('searchbox', { name: 'Search messages' });
      await box.fill('filler');
      const hits = alice.page.getByTestId('search-hit');
      await hits.first().waitFor(WAIT);
      const fillers = TOTAL - 1 - RHUBARB_SEQS.length;
      // A page is at most 50: scrolling to the last result brings the next one, until the end.
      const firstPage = await hits.count();
      t.ok(firstPage <= 50, `the first page has ${firstPage} results`);
      for (let i = 0; i < 10 && (await alice.page.getByTestId('search-end').count()) === 0; i++) {
        const n = await hits.count();
        await hits.last().scrollIntoViewIfNeeded();
        await alice.page.waitForFunction((n) => document.querySelectorAll('[data-testid=search-hit]').length > n || document.querySelector('[data-testid=search-end]') !== null, n, WAIT);
      }
      await alice.page.getByTestId('search-end').filter({ hasText: `${fillers} messages found.` }).waitFor(WAIT);
      const seqs = await hits.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
      t.equal(new Set(seqs).size, fillers, `all ${fillers} filler messages, each once`);
      t.same(seqs, [...seqs].sort((a, b) => b - a), 'newest first across pages');
    });

    await t.test('queries full of operators show results or "no results", never an error', async (t) => {
      const box = alice.page.getByRole('searchbox', { name: 'Search messages' });
      const results = alice.page.getByTestId('search-results');
      const settled = async () => {
        await alice.page.waitForFunction(() => document.querySelector('[data-testid=search-results]')?.getAttribute('data-status') !== 'loading', undefined, WAIT);
        return results.getAttribute('data-status');
      };
      for (const q of ['&|!:*()', 'marmalade & (recipe | !notebook):*', '!rhubarb', 'rhubarb:*', '$where', '.*[a-z]+\\', "'; drop table messages; --", '(((', 'marmal*']) {
        await box.fill(q);
        const status = await settled();
        t.ok(['found', 'none', 'unsearchable'].includes(status ?? ''), `"${q}" shows ${status}`);
        if (status === 'unsearchable') t.equal(await alice.page.getByTestId('search-state').textContent(), 'Type a word or a number to search for.', `"${q}": a sentence, not an error`);
      }
      await box.fill('marmalade & (recipe | !notebook)');
      t.equal(await settled(), 'found', 'words among operators are still searched for');
      await box.fill('x'.repeat(300));
      t.equal((await box.inputValue()).length, 256, 'the box takes at most 256 characters');
    });

    await t.test('a slow answer to an older query never replaces the newer one', async (t) => {
      const box = alice.page.getByRole('searchbox', { name: 'Search messages' });
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let handled: () => void = () => undefined;
      const passedOn = new Promise<void>((resolve) => (handled = resolve));
      await alice.page.route('**/api/search?q=rhubarb*', async (route) => {
        await held;
        // The page aborted it by now: passing it on may fail, which is the point.
        await route.fallback().catch(() => undefined);
        handled();
      });
      const slow = alice.page.waitForRequest((r) => r.url().includes('q=rhubarb'));
      await box.fill('rhubarb');
      await slow;
      await box.fill('marmalade');
      await alice.page.getByTestId('search-end').filter({ hasText: 'One message found.' }).waitFor(WAIT);
      release();
      await passedOn;
      await alice.page.unroute('**/api/search?q=rhubarb*');
      t.same(await alice.page.getByTestId('search-hit').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq')))), [MARMALADE_SEQ], 'the screen still answers "marmalade"');
    });

    await t.test('offline and server errors are said in a sentence, and search comes back', async (t) => {
      const box = alice.page.getByRole('searchbox', { name: 'Search messages' });
      await alice.context.setOffline(true);
      await box.fill('rhubarb');
      await alice.page.getByTestId('search-state').filter({ hasText: 'Search needs a connection' }).waitFor(WAIT);
      t.pass('offline: "Search needs a connection"');
      await settledScreenshot(alice.page, `${SHOTS}search-offline-phone-light.png`);
      await alice.context.setOffline(false);
      await alice.page.getByTestId('search-end').filter({ hasText: '3 messages found.' }).waitFor(WAIT);
      t.pass('back online, it searches again by itself');

      await alice.page.route('**/api/search?*', (route) =>
        route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'internal', message: 'internal error' } }) }),
      );
      await box.fill('marmalade');
      await alice.page.getByTestId('search-state').filter({ hasText: 'Search did not work this time' }).waitFor(WAIT);
      t.pass('a server error: a sentence and a way to try again');
      await alice.page.unroute('**/api/search?*');
      await alice.page.getByRole('button', { name: 'Try again' }).click();
      await alice.page.getByTestId('search-end').filter({ hasText: 'One message found.' }).waitFor(WAIT);
      t.pass('Try again finds it');
    });
  });
}
