/**
 * The conversation view in a real browser: Debian's Chromium driven by playwright-core against a
 * router on the embedded default serving app/build. Alice (American English, light) writes Bob
 * (German, dark) a burst while he looks at his chat list: her burst is one run with one tail; her
 * ticks go from delivered to read in another colour as Bob reads; Bob's chat opens at the "new
 * messages" divider (more is unread than fits), with the jump button counting what is below; the
 * button takes him to the end and reads it; a www. address is a link; times are written as each
 * page's locale writes them; the divider is gone when he opens the chat again. Screenshots at
 * phone (390x844) and desktop (1440x900) size, light and dark, go to artifacts/screenshots/conversation-*.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { BrowserContext, BrowserType, Locator, Page } from 'playwright-core';
import { appServer } from '../../test/support/app.server.ts';
import { chromiumOrSkip, phoneDevice, shotsAtEverySize, signUpWithPasskey } from '../../test/support/browser.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
/** Long enough for a busy machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 15_000 };
/** Messages in Alice's burst: more than a phone screen holds. */
const BURST = 24;
const LINK_TEXT = 'Lunch menu: www.example.com/lunch.';

interface Device {
  name: string;
  context: BrowserContext;
  page: Page;
}

/** Uncaught errors and console errors of every page: none is expected. */
const pageErrors: string[] = [];

async function device(t: Parameters<typeof phoneDevice>[0], chromium: BrowserType, name: string, scheme: 'light' | 'dark', locale: string): Promise<Device> {
  const { context, page } = await phoneDevice(t, chromium, scheme, 'conversation', locale);
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
  page.on('console', (m) => {
    // The sign-in screen's first look at /api/me is a 401 by design.
    if (m.type() === 'error' && !m.text().includes('401 (Unauthorized)')) pageErrors.push(`${name} console: ${m.text()}`);
  });
  return { name, context, page };
}

const composer = (d: Device) => d.page.getByLabel('Message', { exact: true });
const messages = (d: Device) => d.page.locator('[data-testid=message]');
const bubble = (d: Device, body: string) => messages(d).filter({ has: d.page.locator('.body', { hasText: new RegExp(`^${body.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
const burst = (i: number) => (i === 1 ? LINK_TEXT : `Burst message ${i}`);

async function say(d: Device, body: string): Promise<void> {
  await composer(d).fill(body);
  await composer(d).press('Enter');
  await bubble(d, body).and(d.page.locator(':not([data-status=pending])')).waitFor(WAIT);
}

/** Where an element is against the message list's scroller: above, on screen (any part of it) or below. */
async function place(el: Locator): Promise<'above' | 'on screen' | 'below'> {
  return el.evaluate((node) => {
    const view = node.closest('.messages')!.getBoundingClientRect();
    const r = node.getBoundingClientRect();
    return r.bottom <= view.top ? 'above' : r.top >= view.bottom ? 'below' : 'on screen';
  });
}

/** The colour the ticks of an own message are drawn in. */
const tickColour = (message: Locator) => message.getByTestId('ticks').evaluate((el) => getComputedStyle(el).color);

/** Shots of `d`'s screen at phone and desktop size, light and dark. */
async function shots(d: Device, screen: string): Promise<void> {
  await shotsAtEverySize(d.page, `${SHOTS}conversation-${screen}`, PHONE, DESKTOP);
}

if (chromiumOrSkip(t, 'the conversation browser suite')) {
  t.test('the conversation in Chromium: runs, ticks, the new-messages divider, the jump button, links and local times', async (t) => {
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const origin = await appServer(t);
    const tag = `${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
    const alice = await device(t, chromium, 'Alice', 'light', 'en-US');
    const bob = await device(t, chromium, 'Bob', 'dark', 'de-DE');
    const aliceHandle = `alice_${tag}`;
    const bobHandle = `bob_${tag}`;
    const chatRow = () => bob.page.locator(`[data-testid=chat-row][data-handle="${aliceHandle}"]`);

    await t.test('Alice and Bob sign up and exchange a first message each; Bob goes back to his chats', async (t) => {
      await signUpWithPasskey(alice.context, alice.page, origin, aliceHandle, 'Alice Example');
      await signUpWithPasskey(bob.context, bob.page, origin, bobHandle, 'Bob Beispiel');
      t.equal(await bob.page.evaluate(() => navigator.language), 'de-DE', 'Bob\'s browser speaks German');
      await alice.page.goto(`${origin}/new`);
      await alice.page.getByLabel('Find someone by handle').fill(`@${bobHandle}`);
      await alice.page.getByRole('button', { name: 'Find' }).click();
      await alice.page.getByRole('button', { name: 'Message' }).click();
      await alice.page.waitForURL('**/chat/*-*');
      await say(alice, 'Hello Bob!');
      await chatRow().click(WAIT);
      await bubble(bob, 'Hello Bob!').waitFor(WAIT);
      await say(bob, 'Hallo Alice!');
      await bubble(alice, 'Hallo Alice!').waitFor(WAIT);
      await bob.page.getByRole('link', { name: 'Back to chats' }).click();
      await chatRow().waitFor(WAIT);
      t.equal(await bob.page.getByTestId('unread-divider').count(), 0, 'no divider outside a conversation');
    });

    await t.test('Alice writes a burst: one run with one tail, delivered to Bob\'s device', async (t) => {
      for (let i = 1; i <= BURST; i++) {
        await composer(alice).fill(burst(i));
        await composer(alice).press('Enter');
      }
      // Bob's device acknowledges each as it arrives (he is online on his chat list).
      await bubble(alice, burst(BURST)).and(alice.page.locator('[data-status=delivered]')).waitFor(WAIT);
      const runs = await messages(alice).evaluateAll((els) => els.map((el) => `${el.getAttribute('data-run')}${el.querySelector('.bubble.tail') ? ' tail' : ''}`));
      t.same(runs.slice(-BURST), ['first', ...Array<string>(BURST - 2).fill('middle'), 'last tail'], 'the burst is one run, the tail on its last bubble only');
      t.same(runs.slice(0, 2), ['single tail', 'single tail'], 'the first message of each of them is a run of its own');
      const corners = await bubble(alice, burst(2)).locator('.bubble').evaluate((el) => {
        const s = getComputedStyle(el);
        return { mine: [s.borderTopRightRadius, s.borderBottomRightRadius], other: [s.borderTopLeftRadius, s.borderBottomLeftRadius] };
      });
      t.same(corners, { mine: ['6px', '6px'], other: ['18px', '18px'] }, 'inside the run, a bubble\'s corners on the sender\'s side are tighter');
      const gap = (body: string) => bubble(alice, body).evaluate((el) => el.getBoundingClientRect().top - el.previousElementSibling!.getBoundingClientRect().bottom);
      const inside = await gap(burst(BURST));
      const between = await gap(burst(1));
      t.ok(inside < between, `bubbles of one run sit closer together (${inside}px) than runs (${between}px)`);
    });

    let delivered = '';
    await t.test('Bob opens the chat at the divider, before the first unread message, with the jump button counting what is below', async (t) => {
      delivered = await tickColour(bubble(alice, burst(BURST)));
      await chatRow().click(WAIT);
      const divider = bob.page.getByTestId('unread-divider');
      await divider.waitFor(WAIT);
      t.equal(await divider.textContent(), 'New messages', 'the divider says what it is');
      t.equal(await divider.evaluate((el) => el.nextElementSibling?.querySelector('.body')?.textContent), LINK_TEXT, 'it sits right before the first unread message');
      t.equal(await place(divider), 'on screen', 'the chat opened with the divider on screen');
      t.equal(await place(bubble(bob, burst(BURST))), 'below', 'the newest message is below the screen');
      const jump = bob.page.getByTestId('jump');
      await jump.waitFor(WAIT);
      const below = await messages(bob).evaluateAll((els) => {
        const view = els[0]!.closest('.messages')!.getBoundingClientRect();
        return els.filter((el) => el.getBoundingClientRect().top >= view.bottom).length;
      });
      t.ok(below > 0, `${below} of Alice's messages are below the screen`);
      t.equal(Number(await bob.page.getByTestId('jump-count').textContent()), below, 'the jump button counts the unread messages below the screen');
      t.match(await jump.getAttribute('aria-label'), new RegExp(`${below} unread`), 'and says so to a screen reader');
      await shots(bob, 'divider');
      // Back from the desktop size, where the list is beside the chat, to the phone's one screen.
      await bob.page.getByRole('link', { name: 'Back to chats' }).waitFor(WAIT);
      t.equal(await place(bubble(bob, burst(BURST))), 'below', 'crossing the two-pane width and back keeps the place: the newest is still below the screen');
      t.ok(await jump.isVisible(), 'and the jump button still shows');
    });

    await t.test('Alice\'s ticks: read (in another colour) up to what Bob has seen, delivered below it', async (t) => {
      await bubble(alice, burst(1)).and(alice.page.locator('[data-status=read]')).waitFor(WAIT);
      t.equal(await bubble(alice, burst(BURST)).getAttribute('data-status'), 'delivered', 'the newest, below Bob\'s screen, is only delivered');
      const read = await tickColour(bubble(alice, burst(1)));
      t.not(read, delivered, `read ticks (${read}) are another colour than delivered ones (${delivered})`);
      t.equal(await bubble(alice, burst(1)).getByRole('img', { name: 'Read' }).count(), 1, 'the read ticks are labelled "Read"');
      t.equal(await bubble(alice, burst(BURST)).getByRole('img', { name: 'Delivered' }).count(), 1, 'the delivered ones "Delivered"');
      await shots(alice, 'ticks');
    });

    await t.test('the jump button takes Bob to the end and reads everything', async (t) => {
      await bob.page.getByTestId('jump').click();
      await bob.page.getByTestId('jump').waitFor({ state: 'hidden', ...WAIT });
      t.equal(await place(bubble(bob, burst(BURST))), 'on screen', 'the newest message is on screen');
      await bubble(alice, burst(BURST)).and(alice.page.locator('[data-status=read]')).waitFor(WAIT);
      t.equal(await tickColour(bubble(alice, burst(BURST))), await tickColour(bubble(alice, burst(1))), 'Alice sees the newest read, in the read colour');
      t.equal(await bob.page.getByTestId('unread-divider').count(), 1, 'the divider stays while the chat is open');
    });

    await t.test('scrolled up, Bob sees new messages counted on the jump button, not read until he jumps', async (t) => {
      await bob.page.locator('main.messages').evaluate((el) => el.scrollTo({ top: 0 }));
      await bob.page.getByTestId('jump').waitFor(WAIT);
      t.equal(await bob.page.getByTestId('jump-count').count(), 0, 'nothing unread below yet: no count');
      await say(alice, 'Are you there?');
      await say(alice, 'Hello?');
      await bob.page.getByTestId('jump-count').filter({ hasText: /^2$/ }).waitFor(WAIT);
      t.pass('two unread below');
      t.equal(await bubble(alice, 'Hello?').getAttribute('data-status'), 'delivered', 'Alice\'s newest stays delivered while Bob looks elsewhere');
      await bob.page.getByTestId('jump').click();
      await bubble(alice, 'Hello?').and(alice.page.locator('[data-status=read]')).waitFor(WAIT);
      t.pass('after the jump, they are read');
    });

    await t.test('a www. address is a link that opens in a new tab, safely', async (t) => {
      const link = bubble(bob, LINK_TEXT).getByRole('link');
      t.equal(await link.textContent(), 'www.example.com/lunch', 'the address without the full stop after it');
      t.equal(await link.getAttribute('href'), 'https://www.example.com/lunch', 'opens as https');
      t.equal(await link.getAttribute('target'), '_blank', 'in a new tab');
      t.match(await link.getAttribute('rel'), /noopener/, 'without a handle on this page');
      t.match(await link.getAttribute('rel'), /noreferrer/, 'and without the referrer');
    });

    await t.test('times are written as each page\'s locale writes them', async (t) => {
      const times = async (d: Device) => messages(d).locator('time').allTextContents();
      const german = await times(bob);
      const american = await times(alice);
      t.ok(german.length > 0 && german.every((s) => /^\d{2}:\d{2}$/.test(s)), `Bob (de-DE) sees 24-hour times: ${german.slice(0, 2).join(', ')}`);
      t.ok(american.length > 0 && american.every((s) => /^\d{1,2}:\d{2}\s[AP]M$/u.test(s)), `Alice (en-US) sees AM/PM times: ${american.slice(0, 2).join(', ')}`);
      for (const d of [alice, bob]) t.equal(await d.page.getByTestId('day').first().textContent(), 'Today', `${d.name}'s day separator says Today`);
    });

    await t.test('the divider is gone when Bob opens the chat again', async (t) => {
      await bob.page.getByRole('link', { name: 'Back to chats' }).click();
      await chatRow().click(WAIT);
      await bubble(bob, 'Hello?').waitFor(WAIT);
      t.equal(await bob.page.getByTestId('unread-divider').count(), 0, 'no divider: nothing was unread');
      t.equal(await place(bubble(bob, 'Hello?')), 'on screen', 'the chat opens at the end');
      await shots(bob, 'read');
    });

    await t.test('no page had an error', async (t) => {
      t.same(pageErrors, [], 'no uncaught error and no console error on any page');
    });
  });
}
