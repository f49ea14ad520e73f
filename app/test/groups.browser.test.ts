/**
 * Group chats in a real browser (docs/protocol.md, "Groups"): Debian's Chromium driven by
 * playwright-core, four people in four browser contexts with CDP virtual authenticators, against
 * a router serving app/build. Alice creates a group with Bob and Carol, they chat (sender names,
 * typing, "read by N of M" and who read it), Alice adds Dan (who sees only from his joining on),
 * removes Carol (who then sees nothing new), renames the group, makes Bob an admin, mutes it and
 * leaves (Bob becomes the owner). Every message and event shows exactly once, in seq order, to
 * those who may see it. Runs on the embedded default (one node) and, when its services are set,
 * on the full stack with two nodes (Alice and Carol on one, Bob and Dan on the other).
 * Screenshots at phone (390x844) and desktop (1280x800) size go to artifacts/screenshots/groups-*.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { BrowserContext, BrowserType, Page } from 'playwright-core';
import { addAuthenticator, chromiumOrSkip, freePort, phoneDevice, settledScreenshot } from '../../test/support/browser.ts';
import { modes, startNode, type Mode } from '../../test/support/router.harness.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** Long enough for a busy machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 15_000 };

interface Person {
  name: string;
  /** The display name: "Alice Example". */
  full: string;
  handle: string;
  origin: string;
  context: BrowserContext;
  page: Page;
  scheme: 'light' | 'dark';
}

async function person(t: Test, chromium: BrowserType, origin: string, name: string, scheme: 'light' | 'dark'): Promise<Person> {
  const { context, page } = await phoneDevice(t, chromium, scheme, 'groups');
  await addAuthenticator(context, page);
  const handle = `${name.toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  return { name, full: `${name} Example`, handle, origin, context, page, scheme };
}

/** A screenshot at phone size and, with `desktop`, one at desktop size; only for the first mode run. */
async function shot(p: Person, screen: string, desktop = false): Promise<void> {
  if (!shots) return;
  await settledScreenshot(p.page, `${SHOTS}groups-${screen}-phone-${p.scheme}.png`);
  if (!desktop) return;
  await p.page.setViewportSize(DESKTOP);
  await settledScreenshot(p.page, `${SHOTS}groups-${screen}-desktop-${p.scheme}.png`);
  await p.page.setViewportSize(PHONE);
}
let shots = true;

const bodies = (p: Person) => p.page.locator('[data-testid=message] .body').allTextContents();
const events = (p: Person) => p.page.getByTestId('event').allTextContents();
const event = (p: Person, text: string) => p.page.getByTestId('event').filter({ hasText: text }).waitFor(WAIT);
const composer = (p: Person) => p.page.getByLabel('Message', { exact: true });

async function say(p: Person, body: string): Promise<void> {
  await composer(p).fill(body);
  await composer(p).press('Enter');
  await p.page.locator('[data-testid=message][data-mine=true]:not([data-status=pending])').filter({ hasText: body }).waitFor(WAIT);
}

async function waitForBody(p: Person, body: string): Promise<void> {
  await p.page.locator('[data-testid=message] .body').filter({ hasText: body }).waitFor(WAIT);
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
}

async function openGroup(p: Person, name: string): Promise<void> {
  await p.page.goto(`${p.origin}/`);
  await p.page.locator(`[data-testid=chat-row][data-group="${name}"]`).click(WAIT);
  await p.page.waitForURL('**/chat/g-*');
  await p.page.getByTestId('group-header').waitFor(WAIT);
}

async function addByHandle(p: Person, handle: string): Promise<void> {
  await p.page.getByLabel(/Add members by handle/).fill(`@${handle}`);
  await p.page.getByRole('button', { name: 'Add', exact: true }).click();
  await p.page.locator(`[data-testid=picked][data-handle="${handle.toLowerCase()}"]`).waitFor(WAIT);
}

/** Every body and event shows once, and the seq order of what one person sees is the order on screen. */
async function once(t: Test, p: Person): Promise<void> {
  const b = await bodies(p);
  const e = await events(p);
  t.equal(new Set(b).size, b.length, `${p.name} sees every message once`);
  t.equal(new Set(e).size, e.length, `${p.name} sees every event once`);
}

async function run(t: Test, mode: Mode, twoNodes: boolean): Promise<void> {
  const { chromium } = await import('playwright-core');
  const env = await mode.env(t);
  const origins: string[] = [];
  for (let i = 0; i < (twoNodes ? 2 : 1); i++) {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    await startNode(t, { ...env, PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR });
    origins.push(origin);
  }
  const second = origins[1] ?? origins[0]!;
  const alice = await person(t, chromium, origins[0]!, 'Alice', 'light');
  const bob = await person(t, chromium, second, 'Bob', 'dark');
  const carol = await person(t, chromium, origins[0]!, 'Carol', 'light');
  const dan = await person(t, chromium, second, 'Dan', 'dark');
  const everyone = [alice, bob, carol, dan];
  const group = `Climbing ${process.pid}`;

  await t.test('four people sign up', async (t) => {
    await Promise.all(everyone.map(signUp));
    t.pass('each is signed in, on the chat list');
  });

  await t.test('Alice creates a group with Bob and Carol, picked by handle', async (t) => {
    await alice.page.getByRole('link', { name: 'New chat' }).click();
    await alice.page.getByRole('link', { name: /New group/ }).click();
    await alice.page.getByLabel('Group name').fill(group);
    t.ok(await alice.page.getByRole('button', { name: 'Create group' }).isDisabled(), 'a group needs someone besides its creator');
    await addByHandle(alice, bob.handle);
    await addByHandle(alice, carol.handle.toUpperCase());
    await alice.page.getByLabel(/Add members by handle/).fill(`@${alice.handle}`);
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.page.getByText('You are in the group already').waitFor(WAIT);
    t.pass('picking yourself is refused on the spot');
    await shot(alice, 'create', true);
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.waitForURL('**/chat/g-*', WAIT);
    await event(alice, `You created the group “${group}”`);
    t.equal(await alice.page.getByRole('heading', { name: group }).count(), 1, 'the chat is titled with the group\'s name');
    t.equal(await alice.page.getByTestId('member-count').textContent(), '3 members', 'and counts three members');
  });

  await t.test('they chat: sender names, who is typing, read by N of M and who read it', async (t) => {
    for (const p of [bob, carol]) {
      await openGroup(p, group);
      await event(p, `Alice Example created the group “${group}”`);
    }
    t.pass('Bob and Carol find the group in their chat lists, with its creation inline');
    await say(alice, 'Who is in on Saturday?');
    for (const p of [bob, carol]) await waitForBody(p, 'Who is in on Saturday?');
    t.equal(await bob.page.getByTestId('sender').first().textContent(), 'Alice Example', 'an incoming group message names its sender');
    await alice.page.getByTestId('receipt-summary').filter({ hasText: 'Read by 2 of 2' }).waitFor(WAIT);
    t.pass('Alice sees her message read by 2 of 2, with both chats open');

    await composer(bob).pressSequentially('Me', { delay: 20 });
    await alice.page.getByTestId('typing').filter({ hasText: 'Bob is typing…' }).waitFor(WAIT);
    t.pass('Alice sees who is typing');
    await composer(bob).press('Enter');
    await composer(carol).pressSequentially('Count me in too', { delay: 10 });
    await composer(carol).press('Enter');
    for (const p of [alice, bob, carol]) await waitForBody(p, 'Count me in too');
    t.same((await bodies(alice)).slice(-3), ['Who is in on Saturday?', 'Me', 'Count me in too'], 'everyone\'s messages arrive in order');
    t.same(await alice.page.getByTestId('sender').allTextContents(), ['Bob Example', 'Carol Example'], 'each sender is named above their messages');
    await shot(alice, 'chat', true);
    await shot(bob, 'chat', true);

    await alice.page.getByRole('button', { name: 'Message info' }).first().click();
    const sheet = alice.page.getByTestId('read-by');
    await sheet.getByTestId('read-count').filter({ hasText: 'Read by 2 of 2' }).waitFor(WAIT);
    const readers = await sheet.getByTestId('read-list').locator('li .who').allTextContents();
    t.same(readers.sort(), ['Bob Example', 'Carol Example'], 'Message info lists who read it');
    await shot(alice, 'read-by', true);
    await alice.page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'hidden' });
  });

  await t.test('Alice adds Dan, who sees the group from his joining on', async (t) => {
    await alice.page.getByTestId('group-header').click();
    await alice.page.getByRole('heading', { name: 'Group info' }).waitFor(WAIT);
    await alice.page.locator('[data-testid=member]').nth(2).waitFor(WAIT);
    await addByHandle(alice, dan.handle);
    await alice.page.getByRole('button', { name: 'Add Dan Example' }).click();
    await alice.page.locator(`[data-testid=member][data-handle="${dan.handle}"]`).waitFor(WAIT);
    t.pass('Dan is listed as a member');
    await alice.page.getByRole('link', { name: 'Back to the chat' }).click();
    await event(alice, 'You added Dan Example');
    await event(bob, 'Alice Example added Dan Example');
    await openGroup(dan, group);
    await event(dan, 'Alice Example added you');
    t.same(await bodies(dan), [], 'Dan sees nothing from before he joined');
    await say(dan, 'Hi all, thanks for adding me');
    for (const p of [alice, bob, carol]) await waitForBody(p, 'Hi all, thanks for adding me');
    t.pass('Dan\'s first message reaches everyone');
  });

  await t.test('Alice removes Carol, who then sees nothing new and cannot write', async (t) => {
    await alice.page.getByTestId('group-header').click();
    await alice.page.locator(`[data-testid=member][data-handle="${carol.handle}"] button.member`).click();
    await alice.page.getByRole('button', { name: 'Remove from group' }).click();
    await alice.page.locator(`[data-testid=member][data-handle="${carol.handle}"]`).waitFor({ state: 'detached', ...WAIT });
    t.pass('Carol is no longer listed');
    await alice.page.getByRole('link', { name: 'Back to the chat' }).click();
    await event(carol, 'Alice Example removed you');
    await carol.page.getByTestId('left-notice').waitFor(WAIT);
    t.equal(await composer(carol).count(), 0, 'Carol has no composer any more');
    await shot(carol, 'removed');
    await say(alice, 'Saturday, 9:00 at the wall');
    for (const p of [bob, dan]) await waitForBody(p, 'Saturday, 9:00 at the wall');
    await alice.page.getByTestId('receipt-summary').filter({ hasText: /of 2$/ }).waitFor(WAIT);
    t.pass('the new message counts its two recipients, Bob and Dan');
    // A reload makes Carol sync: the server, not only her open socket, keeps the new message from her.
    await carol.page.reload();
    await carol.page.getByTestId('left-notice').waitFor(WAIT);
    await carol.page.locator('[data-testid=connection][data-state=online]').waitFor(WAIT);
    t.notOk((await bodies(carol)).includes('Saturday, 9:00 at the wall'), 'Carol never gets the message sent after her removal');
  });

  await t.test('Alice renames the group and makes Bob an admin', async (t) => {
    await alice.page.getByTestId('group-header').click();
    await alice.page.getByRole('button', { name: 'Rename' }).click();
    await alice.page.locator('#rename').fill(`Bouldering ${process.pid}`);
    await alice.page.getByRole('button', { name: 'Save' }).click();
    await alice.page.getByTestId('group-name').filter({ hasText: `Bouldering ${process.pid}` }).waitFor(WAIT);
    await alice.page.locator(`[data-testid=member][data-handle="${bob.handle}"] button.member`).click();
    await alice.page.getByRole('button', { name: 'Make admin' }).click();
    await alice.page.locator(`[data-testid=member][data-handle="${bob.handle}"][data-role=admin]`).waitFor(WAIT);
    t.pass('Bob shows as an admin');
    await alice.page.getByRole('switch', { name: 'Mute this group' }).click();
    await alice.page.getByText('Notifications are muted.').waitFor(WAIT);
    t.ok(await alice.page.getByRole('switch', { name: 'Mute this group' }).isChecked(), 'the group is muted for Alice');
    await shot(alice, 'info', true);
    await event(bob, `Alice Example renamed the group to “Bouldering ${process.pid}”`);
    await event(bob, 'Alice Example made you an admin');
    await bob.page.getByRole('heading', { name: `Bouldering ${process.pid}` }).waitFor(WAIT);
    t.pass('Bob sees the rename and his promotion inline, and the new name in the header');
  });

  await t.test('Alice leaves; Bob, the longest-standing admin, becomes the owner', async (t) => {
    await alice.page.getByRole('button', { name: 'Leave group' }).click();
    await alice.page.getByRole('button', { name: 'Leave', exact: true }).click();
    await alice.page.getByTestId('left-notice').waitFor(WAIT);
    await event(alice, 'You left');
    await event(bob, 'Alice Example left');
    await event(bob, 'You are now the owner');
    await event(dan, 'Bob Example is now the owner');
    await bob.page.getByTestId('group-header').click();
    await bob.page.locator(`[data-testid=member][data-handle="${bob.handle}"][data-role=owner]`).waitFor(WAIT);
    t.equal(await bob.page.locator('[data-testid=member]').count(), 2, 'Bob and Dan remain');
    await shot(bob, 'info-owner', true);
    await bob.page.getByRole('link', { name: 'Back to the chat' }).click();
    await shot(bob, 'chat-events', true);
    await shot(dan, 'chat-joined');
    await alice.page.goto(`${alice.origin}/`);
    await shot(alice, 'chats', true);
  });

  await t.test('everyone saw every message and event once, in order', async (t) => {
    for (const p of everyone) await once(t, p);
    t.same(await bodies(bob), ['Who is in on Saturday?', 'Me', 'Count me in too', 'Hi all, thanks for adding me', 'Saturday, 9:00 at the wall'], 'Bob\'s messages in seq order');
    t.same(await bodies(dan), ['Hi all, thanks for adding me', 'Saturday, 9:00 at the wall'], 'Dan\'s from his joining on');
    t.same(await bodies(carol), ['Who is in on Saturday?', 'Me', 'Count me in too', 'Hi all, thanks for adding me'], 'Carol\'s up to her removal');
    t.same(await events(dan), ['Alice Example added you', 'Alice Example removed Carol Example', `Alice Example renamed the group to “Bouldering ${process.pid}”`, 'Alice Example made Bob Example an admin', 'Alice Example left', 'Bob Example is now the owner'], 'Dan\'s events in seq order');
  });
}

if (chromiumOrSkip(t, 'the group chat browser suite')) {
  t.test('group chats in Chromium, three people and a fourth', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    for (const mode of modes(t, 'group chat browser')) {
      const twoNodes = mode.name === 'full stack';
      if (mode.name !== 'embedded default' && !twoNodes) continue;
      await t.test(`on the ${mode.name}${twoNodes ? ', two router nodes' : ''}`, (t) => run(t, mode, twoNodes));
      shots = false;
    }
  });
}
