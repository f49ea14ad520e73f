/**
 * The app on a desktop and on a phone, in Debian's Chromium driven by playwright-core against a
 * router on the embedded default serving app/build. At 1440x900 the chat list stays on the left and
 * the open chat, settings or group info on the right (same URLs); the open chat is marked in the
 * list and its composer focused; Escape closes it (after whatever is open in it); Ctrl+K jumps to a
 * chat by name; the unread count is in the tab title and on the app's icon (the Badging API); the
 * chat header keeps the contact's status while the connection shows apart, only while cut off (not
 * during the first handshake). At 390x844 on a touch screen: one screen at a time, as before.
 * Screenshots at both sizes, light and dark, go to artifacts/screenshots/desktop-*.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { BrowserContext, BrowserType, Page, WebSocketRoute } from 'playwright-core';
import { chromiumOrSkip, desktopDevice, freePort, phoneDevice, settledScreenshot, signUpWithPasskey } from '../../test/support/browser.ts';
import { startNode } from '../../test/support/router.harness.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
/** Long enough for a busy machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 15_000 };
/** ConnectionBadge.svelte's CONNECTING_GRACE_MS: connecting is shown only after this long. */
const CONNECTING_GRACE_MS = 2000;
/** Messages in Bob's burst: more than the right pane at 1440x900 holds. */
const DESK_BURST = 40;

/**
 * A recording stub of the Badging API, installed before the app's scripts: every call to
 * navigator.setAppBadge / clearAppBadge is recorded in `__badgeCalls` (clear as 0), then passed on
 * to the browser's own when it has one (headless Chromium may not).
 */
const RECORDING_BADGE_STUB = `(() => {
  const calls = [];
  Object.defineProperty(globalThis, '__badgeCalls', { value: calls });
  const proto = Navigator.prototype;
  const set = proto.setAppBadge;
  const clear = proto.clearAppBadge;
  proto.setAppBadge = function (n) { calls.push(n ?? null); return set ? set.call(this, n).catch(() => undefined) : Promise.resolve(); };
  proto.clearAppBadge = function () { calls.push(0); return clear ? clear.call(this).catch(() => undefined) : Promise.resolve(); };
})()`;

/** Someone at a desk or on a phone: their browser, and who they are. */
interface Person {
  name: string;
  full: string;
  handle: string;
  context: BrowserContext;
  page: Page;
  scheme: 'light' | 'dark';
}

/** Uncaught errors and console errors of every page: none is expected. */
const pageErrors: string[] = [];

async function person(t: Test, chromium: BrowserType, name: string, scheme: 'light' | 'dark', phone: boolean): Promise<Person> {
  const { context, page } = await (phone ? phoneDevice : desktopDevice)(t, chromium, scheme, 'desktop');
  await page.addInitScript(RECORDING_BADGE_STUB);
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
  page.on('console', (m) => {
    // The sign-in screen's first look at /api/me is a 401 by design; offline, the socket cannot connect.
    if (m.type() === 'error' && !/401 \(Unauthorized\)|ERR_INTERNET_DISCONNECTED/.test(m.text())) pageErrors.push(`${name} console: ${m.text()}`);
  });
  const handle = `${name.toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  return { name, full: `${name} Example`, handle, context, page, scheme };
}

const composer = (p: Person) => p.page.getByLabel('Message', { exact: true });
const listPane = (p: Person) => p.page.getByRole('navigation', { name: 'Chat list' });
/** A chat's row in `p`'s list: the 1:1 chat with `with`, or the group named so. */
const row = (p: Person, chat: Person | string) =>
  p.page.locator(typeof chat === 'string' ? `[data-testid=chat-row][data-group="${chat}"]` : `[data-testid=chat-row][data-handle="${chat.handle}"]`);
const switcher = (p: Person) => p.page.getByTestId('switcher');
const path = (p: Person) => new URL(p.page.url()).pathname;

async function say(p: Person, body: string): Promise<void> {
  await composer(p).fill(body);
  await composer(p).press('Enter');
  await p.page.locator('[data-testid=message][data-mine=true]:not([data-status=pending])').filter({ hasText: body }).waitFor(WAIT);
}

/** The id of the focused element, once `want` (waits for focus to settle after a navigation). */
async function focused(p: Person, want: string): Promise<string> {
  await p.page.waitForFunction((id) => document.activeElement?.id === id, want, WAIT).catch(() => undefined);
  return p.page.evaluate(() => document.activeElement?.id ?? '');
}

/** Starts a 1:1 chat from "New chat" by handle; resolves on the conversation. */
async function startChat(p: Person, other: Person): Promise<void> {
  await p.page.getByRole('link', { name: 'New chat' }).click();
  await p.page.getByLabel('Find someone by handle').fill(`@${other.handle}`);
  await p.page.getByRole('button', { name: 'Find' }).click();
  await p.page.getByRole('button', { name: 'Message' }).click();
  await p.page.waitForURL('**/chat/*-*', WAIT);
}

async function badgeCalls(p: Person): Promise<Array<number | null>> {
  return p.page.evaluate(() => (globalThis as unknown as { __badgeCalls: Array<number | null> }).__badgeCalls);
}

/** Screenshots of what is on screen at 1440x900 and at 390x844 (then back to where it was). */
async function shots(p: Person, screen: string): Promise<void> {
  const size = p.page.viewportSize()!;
  await p.page.setViewportSize(DESKTOP);
  await settledScreenshot(p.page, `${SHOTS}desktop-${screen}-desktop-${p.scheme}.png`);
  await p.page.setViewportSize(PHONE);
  await settledScreenshot(p.page, `${SHOTS}desktop-${screen}-phone-${p.scheme}.png`);
  await p.page.setViewportSize(size);
}

if (chromiumOrSkip(t, 'the desktop layout browser suite')) {
  t.test('the desktop layout and keys in Chromium, and the phone unchanged', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR });
    const alice = await person(t, chromium, 'Alice', 'light', false);
    const bob = await person(t, chromium, 'Bob', 'dark', false);
    const carol = await person(t, chromium, 'Carol', 'light', true);
    const group = `Desk ${process.pid}`;
    const rooms: Record<string, string> = {};

    await t.test('three people sign up: two at desks, one on a phone', async (t) => {
      await Promise.all([alice, bob, carol].map((p) => signUpWithPasskey(p.context, p.page, origin, p.handle, p.full, WAIT.timeout)));
      t.pass('each is signed in, on the chat list');
    });

    await t.test('at 1440x900 the chat list and an empty right pane sit side by side', async (t) => {
      const list = await listPane(alice).boundingBox();
      const none = alice.page.getByTestId('no-chat');
      await none.waitFor(WAIT);
      const right = await none.boundingBox();
      t.ok(list && list.x === 0 && list.width >= 340 && list.width <= 400, `the list is a ${list?.width}px pane on the left`);
      t.ok(right && list && right.x >= list.x + list.width && right.x + right.width <= DESKTOP.width, 'the right pane is beside it');
      t.match(await none.innerText(), /Select a chat/, 'with a quiet "Select a chat" in it');
    });

    await t.test('chats open on the right with the list kept, their composer focused on a desk and not on a phone', async (t) => {
      await startChat(alice, bob);
      rooms.bob = path(alice);
      t.ok(await listPane(alice).isVisible(), '"New chat" and the conversation opened beside the list');
      t.equal(await focused(alice, 'composer'), 'composer', 'the composer of a chat just opened is focused');
      await say(alice, 'Hi Bob');
      await startChat(carol, alice);
      rooms.carol = path(carol);
      t.equal(await listPane(carol).count(), 0, 'the phone shows the conversation alone');
      t.not(await carol.page.evaluate(() => document.activeElement?.id), 'composer', 'a touch screen does not get the composer focused (no keyboard popping up)');
      await say(carol, 'Hi Alice, it is Carol');
      await alice.page.getByRole('link', { name: 'New chat' }).click();
      await alice.page.getByRole('link', { name: /New group/ }).click();
      await alice.page.getByLabel('Group name').fill(group);
      for (const other of [bob, carol]) {
        await alice.page.getByLabel(/Add members by handle/).fill(`@${other.handle}`);
        await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
        await alice.page.locator(`[data-testid=picked][data-handle="${other.handle}"]`).waitFor(WAIT);
      }
      await alice.page.getByRole('button', { name: 'Create group' }).click();
      await alice.page.waitForURL('**/chat/g-*', WAIT);
      rooms.group = path(alice);
      await say(alice, 'Welcome to the desk group');
      t.ok(await listPane(alice).isVisible(), 'the list stays through "New group" too');
    });

    await t.test('clicking a chat in the list opens it beside the list, marked; Escape closes it after what is open in it', async (t) => {
      await row(alice, bob).click();
      await alice.page.waitForURL(`**${rooms.bob}`, WAIT);
      t.ok(await listPane(alice).isVisible(), 'the list stays');
      t.equal(await row(alice, bob).getAttribute('aria-current'), 'page', 'Bob\'s row is marked as the open chat');
      t.equal(await alice.page.locator('[data-testid=chat-row][aria-current]').count(), 1, 'and no other');
      t.equal(await focused(alice, 'composer'), 'composer', 'the composer is focused');

      await composer(alice).press('Shift+Enter');
      t.equal(await composer(alice).inputValue(), '\n', 'Shift+Enter breaks the line instead of sending');
      await composer(alice).fill('');
      await composer(alice).press('ArrowUp');
      await alice.page.getByTestId('edit-bar').waitFor(WAIT);
      t.equal(await composer(alice).inputValue(), 'Hi Bob', 'Up in an empty composer edits the last message');
      await alice.page.keyboard.press('Escape');
      await alice.page.getByTestId('edit-bar').waitFor({ state: 'hidden', ...WAIT });
      t.equal(path(alice), rooms.bob, 'Escape ended the edit and left the chat open');

      await alice.page.getByRole('button', { name: 'Search in this chat' }).click();
      const search = alice.page.getByTestId('chat-search');
      await search.waitFor(WAIT);
      await alice.page.keyboard.press('Escape');
      await search.waitFor({ state: 'hidden', ...WAIT });
      t.equal(path(alice), rooms.bob, 'Escape closed the search bar and left the chat open');

      await composer(alice).fill('half a thought');
      await alice.page.keyboard.press('Escape');
      await alice.page.waitForURL(`${origin}/`, WAIT);
      await alice.page.getByTestId('no-chat').waitFor(WAIT);
      t.pass('with nothing open, Escape closed the chat: the right pane is empty again');
      t.equal(await alice.page.locator('[data-testid=chat-row][aria-current]').count(), 0, 'and no row is marked');
      await row(alice, bob).click();
      await alice.page.waitForURL(`**${rooms.bob}`, WAIT);
      t.equal(await composer(alice).inputValue(), 'half a thought', 'the draft was kept for that chat');
      await row(alice, carol).click();
      await alice.page.waitForURL(`**${rooms.carol}`, WAIT);
      t.equal(await composer(alice).inputValue(), '', 'and is not carried into another chat');
      await row(alice, bob).click();
      await composer(alice).fill('');
    });

    await t.test('Ctrl+K jumps to a chat by name: type-ahead, arrows and Enter, Escape', async (t) => {
      await alice.page.keyboard.press('Control+k');
      await switcher(alice).waitFor(WAIT);
      t.equal(await alice.page.evaluate(() => document.activeElement?.getAttribute('role')), 'combobox', 'the switcher opens with its field (a combobox) focused');
      const names = await switcher(alice).locator('[data-testid=switcher-option] .name').allTextContents();
      t.same(names, [group, 'Carol Example', 'Bob Example'], 'it lists every chat, newest first');
      await alice.page.keyboard.type('car');
      await switcher(alice).getByRole('option', { name: /Carol Example/, selected: true }).waitFor(WAIT);
      t.equal(await switcher(alice).getByRole('option').count(), 1, '"car" leaves Carol only');
      await alice.page.keyboard.press('Enter');
      await alice.page.waitForURL(`**${rooms.carol}`, WAIT);
      await switcher(alice).waitFor({ state: 'detached', ...WAIT });
      t.pass('Enter opened Carol\'s chat and closed the switcher');
      t.equal(await focused(alice, 'composer'), 'composer', 'ready to type');

      await alice.page.keyboard.press('Control+k');
      await switcher(alice).waitFor(WAIT);
      await alice.page.keyboard.press('ArrowDown');
      await alice.page.keyboard.press('ArrowDown');
      await switcher(alice).getByRole('option', { name: /Bob Example/, selected: true }).waitFor(WAIT);
      await alice.page.keyboard.press('Enter');
      await alice.page.waitForURL(`**${rooms.bob}`, WAIT);
      t.pass('arrows move through the list and Enter opens the chosen chat');

      await alice.page.keyboard.press('Control+k');
      await alice.page.keyboard.type('zzz');
      await switcher(alice).getByText('No chat matches “zzz”.').waitFor(WAIT);
      await alice.page.keyboard.press('Escape');
      await switcher(alice).waitFor({ state: 'detached', ...WAIT });
      t.equal(path(alice), rooms.bob, 'Escape closes the switcher and nothing else');
    });

    await t.test('the unread count is in the tab title and on the app icon, and goes once read', async (t) => {
      await alice.page.keyboard.press('Escape');
      await alice.page.waitForURL(`${origin}/`, WAIT);
      await alice.page.waitForFunction(() => document.title === 'Chats · Messenger', undefined, WAIT);
      t.pass('nothing unread: "Chats · Messenger"');
      await row(bob, alice).click();
      await bob.page.waitForURL(`**${rooms.bob}`, WAIT);
      await say(bob, 'Hi Alice');
      await say(bob, 'Lunch at one?');
      await alice.page.waitForFunction(() => document.title === '(2) Chats · Messenger', undefined, WAIT);
      t.pass('two messages from Bob: "(2) Chats · Messenger"');
      t.equal((await badgeCalls(alice)).at(-1), 2, 'and navigator.setAppBadge(2) was called');
      await row(alice, bob).click();
      await alice.page.waitForFunction(() => document.title === 'Bob Example · Messenger', undefined, WAIT);
      t.pass('once read, the title has no count');
      await alice.page.waitForFunction(() => (globalThis as unknown as { __badgeCalls: number[] }).__badgeCalls.at(-1) === 0, undefined, WAIT);
      t.pass('and the badge was cleared');
    });

    await t.test('a long unread burst opens in the right pane at the divider, read only as far as it has been on screen', async (t) => {
      await alice.page.keyboard.press('Escape');
      await alice.page.getByTestId('no-chat').waitFor(WAIT);
      const mine = (n: number) => bob.page.locator('[data-testid=message][data-mine=true]').filter({ has: bob.page.locator('.body', { hasText: new RegExp(`^Desk burst ${n}$`) }) });
      for (let i = 1; i <= DESK_BURST; i++) {
        await composer(bob).fill(`Desk burst ${i}`);
        await composer(bob).press('Enter');
      }
      await mine(DESK_BURST).and(bob.page.locator('[data-status=delivered]')).waitFor(WAIT);
      await row(alice, bob).click();
      await alice.page.getByTestId('unread-divider').waitFor(WAIT);
      t.equal(await focused(alice, 'composer'), 'composer', 'the composer is focused, ready to type');
      await mine(1).and(bob.page.locator('[data-status=read]')).waitFor(WAIT);
      t.equal(await mine(DESK_BURST).getAttribute('data-status'), 'delivered', 'the newest, below the pane\'s end, stays delivered for Bob');
      t.ok(await alice.page.getByTestId('jump').isVisible(), 'the jump button shows');
      await alice.page.getByTestId('jump').click();
      await mine(DESK_BURST).and(bob.page.locator('[data-status=read]')).waitFor(WAIT);
      t.pass('the jump button reads the rest');
    });

    await t.test('the header keeps the contact\'s status; the connection shows apart, only while cut off', async (t) => {
      const header = alice.page.locator('.convo header');
      const conn = alice.page.getByTestId('connection');
      await header.getByTestId('presence').filter({ hasText: 'online' }).waitFor(WAIT);
      t.equal(await conn.getAttribute('data-shown'), 'false', 'connected, no connection indicator is shown');
      t.equal(await header.getByTestId('connection').count(), 0, 'and the chat header has none');
      await alice.context.setOffline(true);
      await alice.page.locator('[data-testid=connection][data-shown=true]').filter({ hasText: 'Offline' }).waitFor(WAIT);
      t.ok(await listPane(alice).getByTestId('connection').isVisible(), 'offline: "Offline" shows in the chat list\'s bar');
      t.equal(await header.getByTestId('connection').count(), 0, 'not in the chat header');
      await settledScreenshot(alice.page, `${SHOTS}desktop-offline-desktop-${alice.scheme}.png`);
      await alice.context.setOffline(false);
      await alice.page.locator('[data-testid=connection][data-state=online]').waitFor(WAIT);
      t.equal(await conn.getAttribute('data-shown'), 'false', 'back online, the indicator is gone');
      await header.getByTestId('presence').filter({ hasText: 'online' }).waitFor(WAIT);
      t.pass('and the header says Bob is online');

      await carol.page.locator('.convo header').getByTestId('presence').filter({ hasText: 'online' }).waitFor(WAIT);
      await carol.context.setOffline(true);
      const banner = carol.page.locator('[data-testid=connection][data-shown=true]');
      await banner.filter({ hasText: 'Offline' }).waitFor(WAIT);
      const top = (await carol.page.locator('.convo header').boundingBox())!;
      const bar = (await banner.boundingBox())!;
      t.ok(bar.y >= top.y + top.height - 1, 'on the phone, a thin bar below the chat header says "Offline"');
      await settledScreenshot(carol.page, `${SHOTS}desktop-offline-phone-${carol.scheme}.png`);
      await carol.context.setOffline(false);
      await carol.page.locator('[data-testid=connection][data-state=online][data-shown=false]').waitFor(WAIT);
      t.pass('and goes once the phone is back');
    });

    await t.test('the first handshake is not shown as "Connecting…"; a slow one is', async (t) => {
      // The socket is held by the test and the browser's clock is the test's.
      let held: WebSocketRoute | undefined;
      await carol.page.routeWebSocket('**/ws', (ws) => {
        held = ws;
      });
      await carol.page.clock.install();
      await carol.page.clock.pauseAt(Date.now() + 1000);
      await carol.page.reload();
      const conn = carol.page.getByTestId('connection');
      await carol.page.locator('[data-testid=connection][data-state=connecting]').waitFor(WAIT);
      t.equal(await conn.getAttribute('data-shown'), 'false', 'connecting just now: nothing is shown');
      await carol.page.clock.runFor(CONNECTING_GRACE_MS + 1000);
      await carol.page.locator('[data-testid=connection][data-shown=true]').filter({ hasText: 'Connecting…' }).waitFor(WAIT);
      t.pass(`connecting for more than ${CONNECTING_GRACE_MS} ms: "Connecting…"`);
      held!.connectToServer();
      await carol.page.locator('[data-testid=connection][data-state=online][data-shown=false]').waitFor(WAIT);
      t.pass('connected: gone');
      await carol.page.unrouteAll();
      await carol.page.clock.resume();
    });

    await t.test('on a phone (390x844, touch) one screen at a time, as before', async (t) => {
      await carol.page.goto(`${origin}/`);
      await carol.page.getByTestId('chat-row').first().waitFor(WAIT);
      t.equal(await listPane(carol).count(), 0, 'the chat list is the page, not a pane');
      t.equal(await carol.page.getByTestId('no-chat').count(), 0, 'with no "Select a chat" beside it');
      await row(carol, group).click();
      await carol.page.waitForURL(`**${rooms.group}`, WAIT);
      t.equal(await carol.page.getByTestId('chat-row').count(), 0, 'a chat opens alone');
      await carol.page.getByRole('link', { name: 'Back to chats' }).click();
      await carol.page.waitForURL(`${origin}/`, WAIT);
      await row(carol, group).waitFor(WAIT);
      t.pass('and its back arrow goes to the list');
      await carol.page.goBack();
      await carol.page.waitForURL(`**${rooms.group}`, WAIT);
      await carol.page.goBack();
      await carol.page.waitForURL(`${origin}/`, WAIT);
      t.pass('the browser\'s back walks the same screens');
    });

    await t.test('screenshots: chats with a chat open, settings, group info, quick switcher; desk and phone, light and dark', async (t) => {
      for (const p of [alice, bob]) {
        await p.page.goto(`${origin}${rooms.bob}`);
        await p.page.locator('[data-testid=message]').first().waitFor(WAIT);
        await shots(p, 'chat');
        await p.page.goto(`${origin}/`);
        await row(p, group).waitFor(WAIT);
        await shots(p, 'list');
        await p.page.getByRole('link', { name: 'Settings' }).click();
        await p.page.getByRole('heading', { name: 'Settings' }).waitFor(WAIT);
        t.ok(await listPane(p).isVisible(), `${p.name}: settings open beside the list`);
        await shots(p, 'settings');
        await row(p, group).click();
        await p.page.getByTestId('group-header').click();
        await p.page.getByRole('heading', { name: 'Group info' }).waitFor(WAIT);
        await p.page.locator('[data-testid=member]').nth(2).waitFor(WAIT);
        t.ok(await listPane(p).isVisible(), `${p.name}: group info opens beside the list`);
        t.equal(await row(p, group).getAttribute('aria-current'), 'page', 'with the group marked in it');
        await shots(p, 'group-info');
        await p.page.keyboard.press('Control+k');
        await switcher(p).waitFor(WAIT);
        await p.page.keyboard.type('e');
        await shots(p, 'switcher');
        await p.page.keyboard.press('Escape');
      }
      t.pass('screenshots taken');
    });

    await t.test('no page had an error', async (t) => {
      t.same(pageErrors, [], 'no uncaught error and no console error on any page');
    });
  });
}
