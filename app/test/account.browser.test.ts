/**
 * The account's own data in a real browser (docs/http-api.md, "Deleting the account" and
 * "Exporting the account's data"): Debian's Chromium driven by playwright-core against a router on
 * the embedded default serving app/build. Alice and Bob sign up with passkeys and chat; Alice
 * downloads her data (a JSON file with her messages, not Bob's), then deletes her account through
 * the confirm dialog (her handle typed again) and lands on the sign-in screen; Bob sees her as
 * "Deleted account" with a neutral avatar, in the chat list and the conversation, which keeps her
 * messages and has no composer. Screenshots of the settings section and the dialog at 390x844 and
 * 1440x900, light and dark, go to artifacts/screenshots/account-*.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { BrowserContext, BrowserType, Page } from 'playwright-core';
import type { AccountExport } from '../../protocol/http.ts';
import { chromiumOrSkip, collectPageErrors, freePort, phoneDevice, settledScreenshot, signUpWithPasskey } from '../../test/support/browser.ts';
import { startNode } from '../../test/support/router.harness.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
/** Long enough for a busy machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 15_000 };

interface Device {
  origin: string;
  context: BrowserContext;
  page: Page;
}

/** Uncaught errors and console errors of every page: none is expected. */
const pageErrors: string[] = [];

async function device(t: Test, chromium: BrowserType, origin: string, name: string, scheme: 'light' | 'dark'): Promise<Device> {
  const { context, page } = await phoneDevice(t, chromium, scheme, 'account');
  collectPageErrors(page, name, pageErrors);
  return { origin, context, page };
}

const signUp = (d: Device, handle: string, full: string) => signUpWithPasskey(d.context, d.page, d.origin, handle, full, WAIT.timeout);

async function say(d: Device, body: string): Promise<void> {
  const composer = d.page.getByLabel('Message', { exact: true });
  await composer.fill(body);
  await composer.press('Enter');
  await d.page.locator('[data-testid=message][data-mine=true]:not([data-status=pending])').filter({ hasText: body }).waitFor(WAIT);
}

/** The screen at phone and desktop size, light and dark (the page's scheme is emulated in turn). */
async function shots(page: Page, screen: string, before?: () => Promise<void>): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
      await page.setViewportSize(viewport);
      await before?.();
      await settledScreenshot(page, `${SHOTS}account-${screen}-${size}-${scheme}.png`);
    }
  }
  await page.setViewportSize(PHONE);
  await page.emulateMedia({ colorScheme: 'light' });
}

if (chromiumOrSkip(t, 'the account browser suite')) {
  t.test('exporting and deleting an account in Chromium', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR });
    const tag = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
    const alice = await device(t, chromium, origin, 'Alice', 'light');
    const bob = await device(t, chromium, origin, 'Bob', 'dark');
    const aliceHandle = `alice_${tag}`;
    const bobHandle = `bob_${tag}`;

    await t.test('Alice and Bob sign up and chat', async (t) => {
      await signUp(alice, aliceHandle, 'Alice Example');
      await signUp(bob, bobHandle, 'Bob Example');
      await alice.page.goto(`${origin}/new`);
      await alice.page.getByLabel('Find someone by handle').fill(`@${bobHandle}`);
      await alice.page.getByRole('button', { name: 'Find' }).click();
      await alice.page.getByRole('button', { name: 'Message' }).click();
      await alice.page.waitForURL('**/chat/*-*');
      await say(alice, 'Hello Bob, from Alice');
      await bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`).click(WAIT);
      await bob.page.locator('[data-testid=message]').filter({ hasText: 'Hello Bob, from Alice' }).waitFor(WAIT);
      await say(bob, 'Hi Alice, Bob here');
      t.pass('they chat');
    });

    await t.test('Alice exports her data: a JSON download of her messages, not Bob\'s', async (t) => {
      await alice.page.goto(`${origin}/settings`);
      const section = alice.page.getByTestId('account-data');
      await section.waitFor(WAIT);
      await shots(alice.page, 'settings', () => section.scrollIntoViewIfNeeded());
      const [download] = await Promise.all([alice.page.waitForEvent('download', WAIT), alice.page.getByTestId('export-data').click()]);
      t.match(download.suggestedFilename(), new RegExp(`^messenger-${aliceHandle}-\\d{4}-\\d{2}-\\d{2}\\.json$`), 'a file named for her');
      const doc = JSON.parse(readFileSync((await download.path())!, 'utf8')) as AccountExport;
      t.match(doc, { format: 'messenger.export.v1', profile: { handle: aliceHandle, displayName: 'Alice Example' } }, 'her profile');
      t.same(doc.messages.map((m) => m.body), ['Hello Bob, from Alice'], 'her message, and only hers');
      t.equal(doc.passkeys.length, 1, 'her passkey, by name and dates');
      await alice.page.getByText('Your data was downloaded.').waitFor(WAIT);
    });

    await t.test('Alice deletes her account through the confirm dialog', async (t) => {
      await alice.page.getByTestId('delete-account').click();
      const dialog = alice.page.getByTestId('delete-dialog');
      await dialog.waitFor({ state: 'visible', ...WAIT });
      const confirm = alice.page.getByTestId('confirm-delete');
      t.ok(await confirm.isDisabled(), 'the delete button waits for the handle');
      await alice.page.getByTestId('confirm-handle').fill(bobHandle);
      t.ok(await confirm.isDisabled(), 'someone else\'s handle does not do');
      await alice.page.getByTestId('confirm-handle').fill(aliceHandle.toUpperCase());
      t.ok(await confirm.isEnabled(), 'her own, in any case, does');
      await shots(alice.page, 'dialog');
      await confirm.click();
      await alice.page.waitForURL('**/signin', WAIT);
      t.pass('she is signed out onto the sign-in screen');
    });

    await t.test('Bob sees "Deleted account", with her messages kept', async (t) => {
      await bob.page.goto(`${origin}/`);
      const row = bob.page.locator('[data-testid=chat-row][data-deleted]');
      await row.waitFor(WAIT);
      t.match(await row.locator('.name').textContent(), /^Deleted account$/, 'the chat list names her "Deleted account"');
      t.equal(await row.getByTestId('avatar-deleted').count(), 1, 'with the neutral avatar');
      await settledScreenshot(bob.page, `${SHOTS}account-deleted-list-phone-dark.png`);
      await row.click();
      await bob.page.getByTestId('deleted-notice').waitFor(WAIT);
      t.match(await bob.page.locator('header').first().textContent(), /Deleted account/, 'the conversation\'s header too');
      t.equal(await bob.page.getByTestId('presence').count(), 0, 'without presence or a handle');
      await bob.page.locator('[data-testid=message]').filter({ hasText: 'Hello Bob, from Alice' }).waitFor(WAIT);
      t.pass('her message is still there');
      t.equal(await bob.page.getByLabel('Message', { exact: true }).count(), 0, 'and there is no composer');
      await settledScreenshot(bob.page, `${SHOTS}account-deleted-chat-phone-dark.png`);
    });

    await t.test('no page error on the way', async (t) => {
      t.same(pageErrors, [], 'no uncaught error or console error');
    });
  });
}
