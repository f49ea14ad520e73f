/**
 * Message actions in a real browser (docs/protocol.md, "Message actions"): Debian's Chromium driven
 * by playwright-core against a router on the embedded default serving app/build. Alice and Bob
 * reply (the quote jumps to an original that is not loaded), edit (inline, "edited" on the other
 * side), delete for everyone (a tombstone on both) and for me (gone on Bob's second device, still
 * there for Alice), react and un-react, copy, and forward into a group. Bob's third device loaded
 * the conversation and was offline during all of it: after it comes back and syncs it shows
 * exactly what Bob's first device shows. Screenshots at phone (390x844) and desktop (1280x800)
 * size go to artifacts/screenshots/actions-*.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { BrowserType, Locator } from 'playwright-core';
import { appDevice, appOnline, appSameSession, appSignUp, chromiumOrSkip, freePort, settledScreenshot, type AppDevice } from '../../test/support/browser.ts';
import { startNode } from '../../test/support/router.harness.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/** Long enough for a busy machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 15_000 };
/** Messages after the first, so a device that opens the chat later does not hold the first (it gets the latest 50). */
const FILLERS = 52;

type Device = AppDevice;

async function device(t: Test, chromium: BrowserType, origin: string, name: string, scheme: 'light' | 'dark'): Promise<Device> {
  const d = await appDevice(t, chromium, origin, name, scheme, 'actions', pageErrors);
  await d.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  return d;
}

const signUp = appSignUp;
/** Another device of the same user: its own browser context, signed in with the same session. */
const sameUser = appSameSession;
const online = appOnline;

let shots = true;
/** Uncaught errors and console errors of every page: none is expected. */
const pageErrors: string[] = [];
/** A screenshot at phone size and, with `desktop`, one at desktop size. */
async function shot(d: Device, screen: string, desktop = false): Promise<void> {
  if (!shots) return;
  await settledScreenshot(d.page, `${SHOTS}actions-${screen}-phone-${d.scheme}.png`);
  if (!desktop) return;
  await d.page.setViewportSize(DESKTOP);
  await settledScreenshot(d.page, `${SHOTS}actions-${screen}-desktop-${d.scheme}.png`);
  await d.page.setViewportSize(PHONE);
}

const composer = (d: Device) => d.page.getByLabel('Message', { exact: true });
const bubble = (d: Device, body: string) => d.page.locator('[data-testid=message]').filter({ has: d.page.locator('.body', { hasText: new RegExp(`^${body.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
const menu = (d: Device) => d.page.getByTestId('message-menu');

async function say(d: Device, body: string): Promise<void> {
  await composer(d).fill(body);
  await composer(d).press('Enter');
  await d.page.locator('[data-testid=message][data-mine=true]:not([data-status=pending])').filter({ hasText: body }).waitFor(WAIT);
}

/** Opens a message's menu from the keyboard: its "More actions" button, focused, then Enter. */
async function openMenu(d: Device, message: Locator): Promise<void> {
  await message.getByTestId('more').focus();
  await d.page.keyboard.press('Enter');
  await menu(d).waitFor({ state: 'visible', ...WAIT });
}

async function choose(d: Device, message: Locator, action: string): Promise<void> {
  await openMenu(d, message);
  await menu(d).getByRole('button', { name: action, exact: true }).click();
  await menu(d).waitFor({ state: 'hidden', ...WAIT });
}

/**
 * What a device renders of the conversation, per shown message: everything a bubble says. Across
 * users (`sameUser` false) what differs by who looks is left out: whose reaction is mine, and the
 * quoted sender's name ("You" to its author).
 */
async function rendered(d: Device, sameUser = true): Promise<string[]> {
  return d.page.locator('[data-testid=message][data-seq]').evaluateAll((els, same) =>
    els.map((el) => {
      const text = (sel: string) => el.querySelector(sel)?.textContent?.trim() ?? '';
      const chips = [...el.querySelectorAll('[data-testid=reaction]')].map((c) => `${c.getAttribute('data-emoji')}${c.getAttribute('data-count')}${same && c.getAttribute('data-mine') === 'true' ? '*' : ''}`);
      const quote = same ? text('[data-testid=quote]') : text('[data-testid=quote] .text');
      return [el.getAttribute('data-seq'), text('.body'), text('[data-testid=edited]'), el.hasAttribute('data-deleted') ? 'deleted' : '', quote, text('[data-testid=forwarded]'), chips.join(' ')].join(' | ');
    }), sameUser);
}

/** Waits until `d` renders what `like` renders (from `d`'s oldest shown message on), then returns both. */
async function converge(d: Device, like: Device): Promise<{ got: string[]; want: string[] }> {
  const until = Date.now() + WAIT.timeout;
  for (;;) {
    const got = await rendered(d);
    const oldest = Number(got[0]?.split(' | ')[0] ?? 0);
    const want = (await rendered(like)).filter((r) => Number(r.split(' | ')[0]) >= oldest);
    if (JSON.stringify(got) === JSON.stringify(want) || Date.now() > until) return { got, want };
    await d.page.waitForTimeout(100);
  }
}

if (chromiumOrSkip(t, 'the message actions browser suite')) {
  t.test('message actions in Chromium: two people, a second device live and a third one offline', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    // The fillers go out in one burst; the default burst would make some wait for a resend.
    await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR, RATE_LIMIT_BURST: '300', RATE_LIMIT_PER_SEC: '200' });
    const tag = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
    const alice = await device(t, chromium, origin, 'Alice', 'light');
    const bob = await device(t, chromium, origin, 'Bob', 'dark');
    const bob2 = await device(t, chromium, origin, 'Bob (second device)', 'dark');
    const bob3 = await device(t, chromium, origin, 'Bob (third device)', 'light');
    const bobHandle = `bob_${tag}`;
    const group = `Trip ${tag}`;
    let roomPath = '';

    await t.test('Alice and Bob sign up; Alice writes a question and many more messages; Bob and his devices open the chat', async (t) => {
      await signUp(alice, `alice_${tag}`, 'Alice Example');
      await signUp(bob, bobHandle, 'Bob Example');
      await sameUser(bob2, bob);
      // A group for the forward later.
      await alice.page.getByRole('link', { name: 'New chat' }).click();
      await alice.page.getByRole('link', { name: /New group/ }).click();
      await alice.page.getByLabel('Group name').fill(group);
      await alice.page.getByLabel(/Add members by handle/).fill(`@${bobHandle}`);
      await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
      await alice.page.locator(`[data-testid=picked][data-handle="${bobHandle}"]`).waitFor(WAIT);
      await alice.page.getByRole('button', { name: 'Create group' }).click();
      await alice.page.waitForURL('**/chat/g-*', WAIT);

      await alice.page.goto(`${origin}/new`);
      await alice.page.getByLabel('Find someone by handle').fill(`@${bobHandle}`);
      await alice.page.getByRole('button', { name: 'Find' }).click();
      await alice.page.getByRole('button', { name: 'Message' }).click();
      await alice.page.waitForURL('**/chat/*-*');
      roomPath = new URL(alice.page.url()).pathname;
      await say(alice, 'Where shall we meet?');
      for (let i = 1; i <= FILLERS; i++) {
        await composer(alice).fill(`filler ${i}`);
        await composer(alice).press('Enter');
      }
      await bubble(alice, `filler ${FILLERS}`).and(alice.page.locator(':not([data-status=pending])')).waitFor(WAIT);
      // Opened from the chat list, so they keep every message they got live (a reload keeps the latest 50).
      for (const d of [bob, bob2]) {
        await d.page.locator(`[data-testid=chat-row][data-handle="alice_${tag}"]`).click(WAIT);
        await bubble(d, `filler ${FILLERS}`).waitFor(WAIT);
      }
      // The third device opens the chat only now: it gets the latest 50, not the question.
      await sameUser(bob3, bob);
      await bob3.page.goto(`${origin}${roomPath}`);
      await bubble(bob3, `filler ${FILLERS}`).waitFor(WAIT);
      t.equal(await bubble(bob3, 'Where shall we meet?').count(), 0, 'the third device does not hold the first message');
      await bob3.context.setOffline(true);
      await bob3.page.locator('[data-testid=connection][data-state=offline]').waitFor(WAIT);
      t.pass('the third device goes offline with the conversation loaded');
    });

    await t.test('Bob replies to the question: the reply bar, then the quote on both sides', async (t) => {
      await choose(bob, bubble(bob, 'Where shall we meet?'), 'Reply');
      const bar = bob.page.getByTestId('reply-bar');
      await bar.waitFor(WAIT);
      t.match(await bar.textContent(), /Reply to Alice Example\s*Where shall we meet\?/, 'the bar names whom and what Bob answers');
      await bob.page.getByRole('button', { name: 'Cancel reply' }).click();
      await bar.waitFor({ state: 'hidden' });
      t.pass('the reply can be cancelled');
      await choose(bob, bubble(bob, 'Where shall we meet?'), 'Reply');
      await composer(bob).fill('At the station');
      await shot(bob, 'reply-bar', true);
      await composer(bob).press('Enter');
      for (const d of [alice, bob, bob2]) {
        const quote = bubble(d, 'At the station').getByTestId('quote');
        await quote.waitFor(WAIT);
        t.match(await quote.textContent(), d === alice ? /^You\s*Where shall we meet\?$/ : /^Alice Example\s*Where shall we meet\?$/, `${d.name} sees the quote`);
      }
      t.equal(await bob.page.getByTestId('reply-bar').count(), 0, 'the reply bar is gone once sent');
    });

    await t.test('Alice edits: Up arrow, Escape, then the menu; Bob sees "edited"', async (t) => {
      await say(alice, 'Meet at 9?');
      await composer(alice).fill('draft kept');
      await composer(alice).fill('');
      await composer(alice).press('ArrowUp');
      await alice.page.getByTestId('edit-bar').waitFor(WAIT);
      t.equal(await composer(alice).inputValue(), 'Meet at 9?', 'Up arrow in an empty composer edits the last message');
      await composer(alice).press('Escape');
      await alice.page.getByTestId('edit-bar').waitFor({ state: 'hidden' });
      t.equal(await composer(alice).inputValue(), '', 'Escape cancels and gives the composer back');
      await choose(alice, bubble(alice, 'Meet at 9?'), 'Edit');
      await composer(alice).fill('Meet at 10?');
      await shot(alice, 'edit-mode', true);
      await composer(alice).press('Enter');
      for (const d of [alice, bob, bob2]) await bubble(d, 'Meet at 10?').getByTestId('edited').waitFor(WAIT);
      t.equal(await bubble(bob, 'Meet at 9?').count(), 0, 'the old text is gone on Bob\'s side');
      t.pass('the edit shows, labelled edited, on every live device');
    });

    await t.test('Alice deletes a message for everyone: a tombstone on both sides', async (t) => {
      await say(alice, 'Oops, wrong chat');
      await bubble(bob, 'Oops, wrong chat').waitFor(WAIT);
      const seq = await bubble(alice, 'Oops, wrong chat').getAttribute('data-seq');
      // Right-click opens the same menu, on the desktop.
      await alice.page.setViewportSize(DESKTOP);
      await bubble(alice, 'Oops, wrong chat').locator('.bubble').click({ button: 'right' });
      await menu(alice).waitFor({ state: 'visible' });
      if (shots) await settledScreenshot(alice.page, `${SHOTS}actions-menu-desktop-${alice.scheme}.png`);
      await alice.page.keyboard.press('Escape');
      await menu(alice).waitFor({ state: 'hidden' });
      await alice.page.setViewportSize(PHONE);
      await openMenu(alice, bubble(alice, 'Oops, wrong chat'));
      await menu(alice).getByRole('button', { name: 'Delete…' }).click();
      await shot(alice, 'delete-choice');
      await menu(alice).getByRole('button', { name: 'Delete for everyone' }).click();
      for (const d of [alice, bob, bob2]) await d.page.locator(`[data-testid=message][data-seq="${seq}"] [data-testid=tombstone]`).waitFor(WAIT);
      t.equal(await bob.page.getByText('Oops, wrong chat').count(), 0, 'the text is gone for Bob');
    });

    await t.test('Bob deletes a message for himself: gone on his devices, still there for Alice', async (t) => {
      const target = bubble(bob, `filler ${FILLERS}`);
      await openMenu(bob, target);
      await menu(bob).getByRole('button', { name: 'Delete…' }).click();
      t.equal(await menu(bob).getByRole('button', { name: 'Delete for everyone' }).count(), 0, 'Bob may not delete Alice\'s message for everyone');
      await menu(bob).getByRole('button', { name: 'Delete for me' }).click();
      for (const d of [bob, bob2]) await bubble(d, `filler ${FILLERS}`).waitFor({ state: 'detached', ...WAIT });
      t.equal(await bubble(alice, `filler ${FILLERS}`).count(), 1, 'Alice still has it');
    });

    await t.test('they react and un-react: chips and counts on both sides', async (t) => {
      // A long press opens the menu on a touch screen.
      const question = bubble(bob, 'Meet at 10?');
      await question.scrollIntoViewIfNeeded();
      const box = (await question.locator('.bubble').boundingBox())!;
      const touch = await bob.context.newCDPSession(bob.page);
      const point = { x: box.x + 12, y: box.y + 12 };
      await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
      await menu(bob).waitFor({ state: 'visible', ...WAIT });
      await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await shot(bob, 'menu', true);
      await menu(bob).getByRole('button', { name: 'React 👍' }).click();
      await choose(alice, bubble(alice, 'Meet at 10?'), 'React 👍');
      await choose(alice, bubble(alice, 'Meet at 10?'), 'React ❤️');
      const chip = (d: Device, emoji: string) => bubble(d, 'Meet at 10?').locator(`[data-testid=reaction][data-emoji="${emoji}"]`);
      for (const d of [alice, bob, bob2]) {
        await chip(d, '👍').and(d.page.locator('[data-count="2"]')).waitFor(WAIT);
        await chip(d, '❤️').and(d.page.locator('[data-count="1"]')).waitFor(WAIT);
      }
      t.equal(await chip(bob, '👍').getAttribute('aria-pressed'), 'true', 'Bob\'s own reaction is highlighted');
      t.equal(await chip(bob, '❤️').getAttribute('aria-pressed'), 'false', 'Alice\'s heart is not Bob\'s');
      t.match(await chip(bob, '👍').getAttribute('title'), /Alice Example/, 'the chip says who reacted');
      await chip(bob, '👍').click();
      for (const d of [alice, bob, bob2]) await chip(d, '👍').and(d.page.locator('[data-count="1"]')).waitFor(WAIT);
      t.equal(await chip(bob, '👍').getAttribute('aria-pressed'), 'false', 'un-reacted: Bob\'s thumb is off');
      t.equal(await chip(alice, '👍').getAttribute('aria-pressed'), 'true', 'Alice\'s stays');
    });

    await t.test('Bob copies a message to the clipboard', async (t) => {
      await choose(bob, bubble(bob, 'Meet at 10?'), 'Copy');
      await bob.page.getByTestId('notice').filter({ hasText: 'Copied.' }).waitFor(WAIT);
      t.equal(await bob.page.evaluate(() => navigator.clipboard.readText()), 'Meet at 10?', 'the clipboard holds the text');
    });

    await t.test('Bob forwards a message to the group: the marker on the target room', async (t) => {
      await choose(bob, bubble(bob, 'Meet at 10?'), 'Forward');
      const sheet = bob.page.getByTestId('forward-sheet');
      await sheet.waitFor({ state: 'visible', ...WAIT });
      await shot(bob, 'forward');
      await sheet.getByTestId('forward-target').filter({ hasText: group }).click();
      await bob.page.getByTestId('notice').filter({ hasText: `Forwarded to ${group}.` }).waitFor(WAIT);
      await alice.page.goto(`${origin}/`);
      await alice.page.locator(`[data-testid=chat-row][data-group="${group}"]`).click();
      const copy = bubble(alice, 'Meet at 10?');
      await copy.getByTestId('forwarded').waitFor(WAIT);
      t.equal(await copy.getByTestId('forwarded').textContent(), 'Forwarded from Alice Example', 'Alice sees who wrote it first: herself');
      t.equal(await copy.getByTestId('edited').count(), 0, 'a forward is a new message, not an edited one');
      await shot(alice, 'forwarded', true);
      await alice.page.goto(`${origin}${roomPath}`);
      await bubble(alice, 'Meet at 10?').waitFor(WAIT);
    });

    await t.test('the third device comes back and shows exactly what the others show', async (t) => {
      await bob3.context.setOffline(false);
      await bob3.page.locator('[data-testid=connection][data-state=online]').waitFor(WAIT);
      const { got, want } = await converge(bob3, bob);
      t.same(got, want, 'Bob\'s third device renders what his first renders: bodies, edited labels, tombstones, quotes, chips');
      t.ok(got.some((r) => r.includes('deleted')) && got.some((r) => r.includes('edited')) && got.some((r) => r.includes('Where shall we meet?')), 'the compared state has a tombstone, an edit and a quote');
      t.equal(await bubble(bob3, `filler ${FILLERS}`).count(), 0, 'the message Bob deleted for himself is gone there too');
      const b = await converge(bob2, bob);
      t.same(b.got, b.want, 'and so does his second device');
      const a = (await rendered(alice, false)).filter((r) => !r.includes(`filler ${FILLERS} |`));
      const mine = (await rendered(bob, false)).filter((r) => Number(r.split(' | ')[0]) >= Number(a[0]!.split(' | ')[0]));
      t.same(a.slice(-mine.length), mine.slice(-a.length), 'Alice sees the same but for what Bob deleted for himself');
    });

    await t.test('on the third device the quote jumps to the question, which it did not hold', async (t) => {
      await bubble(bob3, 'At the station').getByTestId('quote').click();
      const original = bubble(bob3, 'Where shall we meet?');
      await original.and(bob3.page.locator('.flash')).waitFor(WAIT);
      t.ok(await original.isVisible(), 'the original is loaded from history, shown and highlighted');
      await bob3.page.waitForFunction(() => {
        const el = [...document.querySelectorAll('[data-testid=message]')].find((m) => m.querySelector('.body')?.textContent === 'Where shall we meet?');
        const r = el?.getBoundingClientRect();
        return r !== undefined && r.top >= 0 && r.bottom <= innerHeight;
      }, undefined, WAIT);
      t.pass('and scrolled into view');
    });

    await t.test('screenshots of the conversation with every kind of bubble', async () => {
      await alice.page.locator('[data-testid=message]').last().scrollIntoViewIfNeeded();
      await shot(alice, 'conversation', true);
      await shot(bob, 'conversation', true);
      await shot(bob3, 'conversation-third-device', true);
    });

    await t.test('a message deleted for everyone takes its notification back from the recipient\'s device', async (t) => {
      // Both of Bob's live devices look at the chat list: a push for the chat shows a notification,
      // and nobody reads the message (reading it elsewhere would take the notification back too).
      for (const d of [bob, bob2]) {
        await d.page.goto(`${origin}/`);
        await d.page.locator('[data-testid=chat-row]').first().waitFor(WAIT);
      }
      await bob2.context.grantPermissions(['notifications'], { origin });
      await bob2.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
      // Bob's second phone has its app closed when the message comes, as a pushed phone has: a device
      // that already holds a seq (its app got it live) shows no notification for it.
      await bob2.page.goto('about:blank');
      await say(alice, 'Call me at 555 0199');
      const sent = bubble(alice, 'Call me at 555 0199').and(alice.page.locator(':not([data-status=pending])'));
      await sent.waitFor(WAIT);
      const seq = Number(await sent.getAttribute('data-seq'));
      const cdp = await bob2.context.newCDPSession(bob2.page);
      const registrations = new Promise<Array<{ registrationId: string; scopeURL: string }>>((resolve) => cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => resolve(e.registrations)));
      await cdp.send('ServiceWorker.enable');
      const reg = (await registrations).find((r) => r.scopeURL.startsWith(origin))!;
      const room = roomPath.split('/').pop()!;
      const payload = { type: 'message', room, seq, id: 'x', sender: { id: 1, handle: 'alice', displayName: 'Alice Example' }, preview: 'Call me at 555 0199', trimmed: false };
      const shown = () => bob2.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => n.body));
      /** Asks the device's notifications until `done` holds of them or `ms` pass (the assertion after says what was there). */
      const until = async (done: (bodies: string[]) => boolean, ms = WAIT.timeout) => {
        for (const end = Date.now() + ms; !done(await shown()) && Date.now() < end; ) await bob2.page.waitForTimeout(50);
      };
      await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg.registrationId, data: JSON.stringify(payload) });
      // The app opens again (on the chat list, reading nothing) and stays open to hear of the deletion.
      await bob2.page.goto(`${origin}/`);
      await bob2.page.locator('[data-testid=chat-row]').first().waitFor(WAIT);
      await until((bodies) => bodies.length > 0);
      t.same(await shown(), ['Call me at 555 0199'], `the push for seq ${seq} shows its text`);
      await openMenu(alice, bubble(alice, 'Call me at 555 0199'));
      await menu(alice).getByRole('button', { name: 'Delete…' }).click();
      await menu(alice).getByRole('button', { name: 'Delete for everyone' }).click();
      await until((bodies) => bodies.length === 0);
      t.same(await shown(), [], 'the deletion reaching the device closed the notification');
      for (const d of [bob, bob2]) {
        await d.page.goto(`${origin}${roomPath}`);
        await d.page.locator('[data-testid=message]').first().waitFor(WAIT);
      }
    });

    await t.test('no page had an error', async (t) => {
      t.same(pageErrors, [], 'no uncaught error and no console error on any page');
    });
  });
}
