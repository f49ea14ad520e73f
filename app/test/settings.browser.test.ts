/**
 * Settings and what contacts see of each other, in Chromium (Debian's, driven by playwright-core)
 * against a router on the embedded default serving app/build:
 *
 * - a chat just started with "New chat" shows the other person's presence once its first message
 *   is sent, without a reconnect (it used to show none until a reload);
 * - a new display name reaches a contact live, in the open conversation's header and the chat
 *   list, without a reload, and the contact's second device, offline meanwhile, shows it once it
 *   reconnects (it used to wait for the next sign-in);
 * - where you're signed in: every session with its device, way in and activity, this device
 *   marked; one other signed out, then all others (asked first), each device signed out at once;
 * - passkeys named by their device and renamed;
 * - sign out everywhere asks first.
 *
 * Screenshots of settings at 390x844 and 1440x900, light (Alice) and dark (Bob), go to
 * artifacts/screenshots/settings-*. Without /usr/bin/chromium the suite says it skipped; in CI
 * that is a failure.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { BrowserType } from 'playwright-core';
import { appDevice, appOnline, appSameSession, appSignUp, chromiumOrSkip, freePort, settledScreenshot, type AppDevice } from '../../test/support/browser.ts';
import { startNode, type Harness } from '../../test/support/router.harness.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
/** Long enough for a busy machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 15_000 };
const WINDOWS_FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';
const IPHONE_SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

type Device = AppDevice;

/** Uncaught errors and console errors of every page: none is expected. */
const pageErrors: string[] = [];

const device = (t: Test, chromium: BrowserType, origin: string, name: string, scheme: 'light' | 'dark') => appDevice(t, chromium, origin, name, scheme, 'settings', pageErrors);
const online = appOnline;

/** Another device of `handle`'s user with a session of its own, signed in from `userAgent` (made in the store, as a sign-in there would). */
async function otherSession(h: Harness, d: Device, handle: string, userAgent: string): Promise<void> {
  const user = await h.stores.auth.profileByHandle(handle);
  const session = await h.stores.sessions.create(user!.id, 3_600_000, { userAgent, method: 'passkey' });
  await d.context.addCookies([{ name: 'sid', value: session.id, url: d.origin, httpOnly: true, sameSite: 'Lax' }]);
  await d.page.goto(`${d.origin}/`);
  await online(d);
}

let shots = true;
/** Settings at phone size and at desktop size, in the device's colour scheme, scrolled to the section with test id `section`. */
async function shot(d: Device, screen: string, section: string): Promise<void> {
  if (!shots) return;
  await d.page.getByTestId(section).scrollIntoViewIfNeeded();
  await settledScreenshot(d.page, `${SHOTS}settings-${screen}-phone-${d.scheme}.png`);
  await d.page.setViewportSize(DESKTOP);
  await d.page.getByTestId(section).scrollIntoViewIfNeeded();
  await settledScreenshot(d.page, `${SHOTS}settings-${screen}-desktop-${d.scheme}.png`);
  await d.page.setViewportSize(PHONE);
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** What axe-core finds against WCAG 2 A and AA in the element `selector` of the page: "rule: target" per node. */
async function accessibilityProblems(d: Device, selector: string): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await d.page.evaluate(AXE);
  return d.page.evaluate(`(async () => {
    const { violations } = await axe.run(${JSON.stringify(selector)}, { runOnly: ['wcag2a', 'wcag2aa'] });
    return violations.flatMap((v) => v.nodes.map((n) => v.id + ': ' + n.target.join(' ')));
  })()`);
}

const rows = (d: Device) => d.page.getByTestId('session');
const devicesListed = (d: Device) => rows(d).evaluateAll((els) => els.map((el) => `${el.getAttribute('data-device')}${el.getAttribute('data-current') === 'true' ? ' (this device)' : ''}`));

async function openSettings(d: Device): Promise<void> {
  await d.page.goto(`${d.origin}/settings`);
  await d.page.getByRole('heading', { name: 'Settings' }).waitFor(WAIT);
  await rows(d).first().waitFor(WAIT);
}

if (chromiumOrSkip(t, 'the settings browser suite')) {
  t.test('settings, presence and profiles in Chromium', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const h = await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR });
    const tag = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
    const alice = await device(t, chromium, origin, 'Alice', 'light');
    const bob = await device(t, chromium, origin, 'Bob', 'dark');
    const bobsTablet = await device(t, chromium, origin, 'Bob (tablet)', 'dark');
    const aliceHandle = `alice_${tag}`;
    const bobHandle = `bob_${tag}`;

    await t.test('a chat started with "New chat" shows whether the other person is online', async (t) => {
      await appSignUp(alice, aliceHandle, 'Alice Example');
      await appSignUp(bob, bobHandle, 'Bob Example');
      await alice.page.getByRole('link', { name: 'New chat' }).click();
      await alice.page.getByLabel('Find someone by handle').fill(`@${bobHandle}`);
      await alice.page.getByRole('button', { name: 'Find' }).click();
      await alice.page.getByRole('button', { name: 'Message' }).click();
      await alice.page.waitForURL('**/chat/*-*');
      t.equal(await alice.page.getByTestId('presence').count(), 0, 'before the first message the room is only on this device: no presence yet');
      const composer = alice.page.getByLabel('Message', { exact: true });
      await composer.fill('Hi Bob!');
      await composer.press('Enter');
      await alice.page.locator('[data-testid=presence][data-online=true]').waitFor(WAIT);
      t.pass('once the first message starts the chat, the header says Bob is online, without a reconnect');
      await bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`).waitFor(WAIT);
      t.equal(await bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`).getAttribute('data-presence'), 'online', 'and Bob\'s chat list says Alice is');
    });

    await t.test('a new display name reaches the contact live, and his offline device when it is back', async (t) => {
      await appSameSession(bobsTablet, bob);
      const tabletRow = bobsTablet.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`);
      await tabletRow.waitFor(WAIT);
      await bobsTablet.context.setOffline(true);
      await bobsTablet.page.locator('[data-testid=connection][data-state=offline]').waitFor(WAIT);

      await bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`).click();
      await bob.page.getByRole('heading', { name: 'Alice Example', level: 1 }).waitFor(WAIT);
      // Set in the page: a reload would lose it.
      await bob.page.evaluate('window.__notReloaded = true');

      await alice.page.goto(`${origin}/settings`);
      await alice.page.getByLabel('Your name').fill('Alice Liddell');
      await alice.page.getByRole('button', { name: 'Save', exact: true }).click();
      await alice.page.getByRole('status').filter({ hasText: 'Profile saved.' }).waitFor(WAIT);

      await bob.page.getByRole('heading', { name: 'Alice Liddell', level: 1 }).waitFor(WAIT);
      t.pass('the open conversation\'s header shows the new name');
      await bob.page.goBack();
      const row = bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"] .name`);
      await row.filter({ hasText: 'Alice Liddell' }).waitFor(WAIT);
      t.pass('and so does the chat list');
      t.equal(await bob.page.evaluate('window.__notReloaded'), true, 'without a reload');

      t.equal(await tabletRow.locator('.name').textContent(), 'Alice Example', 'the offline tablet still shows the old name');
      await bobsTablet.context.setOffline(false);
      await bobsTablet.page.locator('[data-testid=connection][data-state=online]').waitFor(WAIT);
      await tabletRow.locator('.name').filter({ hasText: 'Alice Liddell' }).waitFor(WAIT);
      t.pass('once back online, the tablet shows the new name');
    });

    const laptop = await device(t, chromium, origin, 'Alice (laptop)', 'light');
    const iphone = await device(t, chromium, origin, 'Alice (iPhone)', 'light');

    await t.test('where you are signed in: every device, this one marked', async (t) => {
      await otherSession(h, laptop, aliceHandle, WINDOWS_FIREFOX);
      await otherSession(h, iphone, aliceHandle, IPHONE_SAFARI);
      await openSettings(alice);
      await rows(alice).nth(2).waitFor(WAIT);
      const listed = await devicesListed(alice);
      t.equal(listed[0], 'Chrome on Linux (this device)', 'this device first, named from the browser it signed up in');
      t.same(listed.slice(1).sort(), ['Firefox on Windows', 'Safari on iOS'], 'then the other two');
      const mine = rows(alice).first();
      t.match(await mine.textContent(), /This device[\s\S]*Signed in .* with a passkey[\s\S]*Active now/, 'with how and when it signed in, and that it is active');
      await otherSession(h, bobsTablet, bobHandle, IPHONE_SAFARI);
      await openSettings(bob);
      await rows(bob).nth(1).waitFor(WAIT);
      for (const d of [alice, bob]) t.same(await accessibilityProblems(d, '[data-testid=sessions]'), [], `${d.name}'s sessions pass axe (WCAG 2 AA, ${d.scheme})`);
      await shot(alice, 'sessions', 'sessions');
      await shot(bob, 'sessions', 'sessions');
      await shot(bob, 'passkeys', 'passkeys');
    });

    await t.test('one other device is signed out, at once', async (t) => {
      await alice.page.getByRole('button', { name: 'Sign out Safari on iOS' }).click();
      await iphone.page.waitForURL('**/signin', WAIT);
      t.pass('the iPhone is signed out at once (its socket closed)');
      await alice.page.getByRole('status').filter({ hasText: 'Signed out of Safari on iOS.' }).waitFor(WAIT);
      t.same(await devicesListed(alice), ['Chrome on Linux (this device)', 'Firefox on Windows'], 'the list has the two left');
    });

    await t.test('signing out the other sessions asks first', async (t) => {
      await alice.page.getByTestId('signout-others').click();
      const sheet = alice.page.getByTestId('signout-others-sheet');
      await sheet.waitFor({ state: 'visible', ...WAIT });
      t.match(await sheet.textContent(), /Sign out other sessions\?[\s\S]*Your other device will be signed out\. This device stays signed in\./, 'the sheet says what will happen');
      t.same(await accessibilityProblems(alice, '[data-testid=signout-others-sheet]'), [], 'the sheet passes axe');
      await shot(alice, 'confirm', 'sessions');
      await sheet.getByRole('button', { name: 'Cancel' }).click();
      await sheet.waitFor({ state: 'hidden', ...WAIT });
      t.equal(await rows(alice).count(), 2, 'Cancel changes nothing');
      await alice.page.getByTestId('signout-others').click();
      await sheet.getByRole('button', { name: 'Sign out others' }).click();
      await laptop.page.waitForURL('**/signin', WAIT);
      t.pass('the laptop is signed out at once');
      await alice.page.getByRole('status').filter({ hasText: 'Every other session is signed out.' }).waitFor(WAIT);
      t.same(await devicesListed(alice), ['Chrome on Linux (this device)'], 'this device is the only one left');
      t.equal(await alice.page.getByTestId('signout-others').count(), 0, 'and the button is gone');
      await alice.page.goto(`${origin}/`);
      await online(alice);
      t.pass('this device is still signed in and connected');
    });

    await t.test('a passkey is named by its device and renamed', async (t) => {
      await openSettings(alice);
      const passkey = alice.page.getByTestId('passkey').first();
      await passkey.waitFor(WAIT);
      const name = await passkey.getAttribute('data-name');
      t.equal(name, 'Chrome on Linux', 'Chromium\'s virtual authenticator has no known AAGUID: the device names the passkey');
      await passkey.getByRole('button', { name: `Rename passkey ${name}` }).click();
      const input = alice.page.getByLabel('Name of this passkey');
      t.equal(await input.inputValue(), name, 'the field starts from the current name');
      await input.fill('   ');
      t.ok(await alice.page.getByRole('button', { name: 'Save', exact: true }).last().isDisabled(), 'an empty name cannot be saved');
      await input.fill('Work phone');
      t.same(await accessibilityProblems(alice, '[data-testid=passkeys]'), [], 'the passkeys, one being renamed, pass axe');
      await shot(alice, 'rename', 'passkeys');
      await input.press('Enter');
      await alice.page.locator('[data-testid=passkey][data-name="Work phone"]').waitFor(WAIT);
      await alice.page.reload();
      await alice.page.locator('[data-testid=passkey][data-name="Work phone"]').waitFor(WAIT);
      t.pass('the new name is stored');
    });

    await t.test('signing out everywhere asks first', async (t) => {
      await alice.page.getByTestId('signout-everywhere').click();
      const sheet = alice.page.getByTestId('signout-everywhere-sheet');
      await sheet.waitFor({ state: 'visible', ...WAIT });
      t.match(await sheet.textContent(), /Every device will be signed out, this one too\./, 'the sheet says this device too');
      await alice.page.keyboard.press('Escape');
      await sheet.waitFor({ state: 'hidden', ...WAIT });
      t.equal(new URL(alice.page.url()).pathname, '/settings', 'Escape cancels: still signed in');
      await alice.page.getByTestId('signout-everywhere').click();
      await sheet.getByRole('button', { name: 'Sign out everywhere' }).click();
      await alice.page.waitForURL('**/signin', WAIT);
      t.pass('confirmed: signed out');
    });

    t.same(pageErrors, [], 'no page logged an error');
    shots = false;
  });
}
