/**
 * The PWA in a real browser: Debian's Chromium driven by playwright-core at phone size (390x844),
 * two people in two browser contexts, each with a CDP virtual authenticator, against one router
 * node on the embedded default serving app/build. Screenshots of every screen go to
 * artifacts/screenshots (light for Alice, dark for Bob).
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrSkip, freePort, settledScreenshot } from '../../test/support/browser.ts';
import type { BrowserContext, BrowserType, CDPSession, Page } from 'playwright-core';
import { tableResolver } from '../../test/support/push.resolver.ts';
import { startNode } from '../../test/support/router.harness.ts';
import { waitFor } from '../../test/support/wait.ts';
import { buildAppIfStale } from '../scripts/build-if-stale.ts';

const SHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../build', import.meta.url));

interface Person {
  name: string;
  handle: string;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
}

/** A person's own browser profile: a persistent (not incognito) context, which installability needs. */
async function person(chromium: BrowserType, origin: string, name: string, colorScheme: 'light' | 'dark'): Promise<Person> {
  const profile = mkdtempSync(join(tmpdir(), 'pwa-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP localhost 127.0.0.1'],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    colorScheme,
    hasTouch: true,
  });
  closers.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  await context.grantPermissions(['notifications'], { origin });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) violations.push(m.text());
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  // tsx compiles this file with esbuild's keepNames, whose __name helper the page lacks.
  await page.addInitScript('globalThis.__name = (f) => f');
  return { name, handle: `${name.toLowerCase()}_${process.pid}`, context, page, cdp };
}

async function shot(p: Person, screen: string): Promise<void> {
  const scheme = p.name === 'Alice' ? 'light' : 'dark';
  await settledScreenshot(p.page, `${SHOTS}${screen}-${scheme}.png`);
}

const closers: (() => Promise<void>)[] = [];
/** Console messages about Content-Security-Policy violations, from every page. */
const violations: string[] = [];

const bodies = (p: Person) => p.page.locator('[data-testid=message] .body').allTextContents();

async function waitForBodies(p: Person, expected: string[], timeout = 15_000): Promise<string[]> {
  const until = Date.now() + timeout;
  let seen: string[] = [];
  while (Date.now() < until) {
    seen = await bodies(p);
    if (JSON.stringify(seen.slice(-expected.length)) === JSON.stringify(expected) || seen.length > 50) return seen;
    await p.page.waitForTimeout(100);
  }
  return seen;
}

if (chromiumOrSkip(t, 'the PWA browser suite')) {
  t.test('the PWA in Chromium at phone size, two people on the embedded default', async (t) => {
    buildAppIfStale();
    mkdirSync(SHOTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    // The stubbed subscription names push.example.com, which does not resolve here: the router's
    // endpoint check is told it is this machine, and sends to it (none is expected) stay on loopback.
    const resolveHost = tableResolver({ 'push.example.com': ['127.0.0.1'] });
    await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR, PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true' }, undefined, { notifications: { resolveHost } });
    t.teardown(() => Promise.all(closers.map((close) => close())));
    const alice = await person(chromium, origin, 'Alice', 'light');
    const bob = await person(chromium, origin, 'Bob', 'dark');

    await t.test('both sign up with a passkey from the sign-in screen', async (t) => {
      for (const p of [alice, bob]) {
        await p.page.goto(`${origin}/`);
        await p.page.waitForURL('**/signin');
        await shot(p, 'signin');
        await p.page.getByRole('tab', { name: 'Create account' }).click();
        const create = p.page.getByRole('button', { name: 'Create account with a passkey' });
        for (const [typed, why] of [['a b', /only have the letters a–z/], ['ab', /at least 3/], ['x'.repeat(33), /at most 32/]] as const) {
          await p.page.getByLabel('Handle').fill(typed);
          t.match(await p.page.getByTestId('handle-problem').innerText(), why, `a handle like "${typed.slice(0, 8)}" is refused with a reason`);
          t.ok(await create.isDisabled(), 'and cannot be submitted');
          if (typed === 'a b') await shot(p, 'signup-bad-handle');
        }
        await p.page.getByLabel('Handle').fill(p.handle);
        t.equal(await p.page.getByTestId('handle-problem').count(), 0, 'a good handle shows no problem');
        await p.page.getByLabel('Your name').fill(`${p.name} Example`);
        await shot(p, 'signup');
        await p.page.getByRole('button', { name: 'Create account with a passkey' }).click();
        await p.page.getByRole('heading', { name: 'Chats' }).waitFor();
        await p.page.locator('[data-testid=connection][data-state=online]').waitFor();
        t.equal(new URL(p.page.url()).pathname, '/', `${p.name} lands on the chat list, signed in`);
        await shot(p, 'chats-empty');
      }
    });

    let roomPath = '';
    await t.test('Alice finds Bob by handle and they chat both ways with ticks and typing', async (t) => {
      await alice.page.getByRole('link', { name: 'New chat' }).click();
      await alice.page.getByLabel('Find someone by handle').fill(`@${bob.handle.toUpperCase()}`);
      await alice.page.getByRole('button', { name: 'Find' }).click();
      await alice.page.getByTestId('found-user').waitFor();
      await shot(alice, 'new-chat');
      await alice.page.getByRole('button', { name: 'Message' }).click();
      await alice.page.waitForURL('**/chat/*');
      roomPath = new URL(alice.page.url()).pathname;
      const composer = alice.page.getByLabel('Message', { exact: true });
      await composer.fill('\u200b\u2060\ufeff');
      t.ok(await alice.page.getByRole('button', { name: 'Send' }).isDisabled(), 'a draft of only invisible characters cannot be sent (the text rule)');
      await composer.fill('Hello Bob! https://example.com/page and <b>not bold</b>');
      await composer.press('Enter');
      await alice.page.locator('[data-testid=message][data-mine=true][data-status=delivered]').waitFor({ timeout: 10_000 });
      t.pass('the first message reaches Bob\'s open chat list: two ticks (delivered)');

      await bob.page.locator('[data-testid=chat-row]').first().waitFor();
      t.equal(await bob.page.getByTestId('unread').textContent(), '1', 'Bob\'s chat list shows one unread message');
      await shot(bob, 'chats');
      await bob.page.locator('[data-testid=chat-row]').first().click();
      await bob.page.waitForURL(`**${roomPath}`);
      await alice.page.locator('[data-testid=message][data-mine=true][data-status=read]').waitFor({ timeout: 10_000 });
      t.pass('Bob opening the chat moves Alice\'s ticks to read');
      t.equal(await bob.page.locator('[data-testid=message] b').count(), 0, 'markup in a message is shown as text, never as HTML');
      t.equal(await bob.page.locator('[data-testid=message] a[href="https://example.com/page"]').count(), 1, 'an https URL becomes a link');

      const bobComposer = bob.page.getByLabel('Message', { exact: true });
      await bobComposer.pressSequentially('Hi Al', { delay: 20 });
      await alice.page.getByTestId('typing').waitFor({ timeout: 5000 });
      t.pass('Alice sees Bob typing');
      await shot(alice, 'conversation-typing');
      await bobComposer.pressSequentially('ice, line one');
      await bobComposer.press('Shift+Enter');
      await bobComposer.pressSequentially('and line two');
      await bob.page.getByRole('button', { name: 'Send' }).click();
      const seen = await waitForBodies(alice, ['Hi Alice, line one\nand line two']);
      t.same(seen, ['Hello Bob! https://example.com/page and <b>not bold</b>', 'Hi Alice, line one\nand line two'], 'Alice has both messages, in order');
      await bob.page.locator('[data-testid=message][data-mine=true][data-status=read]').waitFor({ timeout: 10_000 });
      t.pass('Bob\'s reply is read by Alice, whose chat is open');
      await shot(alice, 'conversation');
      await shot(bob, 'conversation');
    });

    await t.test('Bob goes offline, Alice writes, Bob comes back and sees every message once, in order', async (t) => {
      await bob.context.setOffline(true);
      await bob.page.locator('[data-testid=connection][data-state=offline]').waitFor({ timeout: 5000 });
      const composer = alice.page.getByLabel('Message', { exact: true });
      const sent = ['while you were away 1', 'while you were away 2', 'while you were away 3'];
      for (const body of sent) {
        await composer.fill(body);
        await composer.press('Enter');
      }
      await alice.page.locator('[data-testid=message][data-mine=true][data-status=sent]').nth(2).waitFor({ timeout: 10_000 });
      t.equal(await alice.page.locator('[data-testid=message][data-status=delivered]').count(), 0, 'Alice\'s new messages stay at one tick while Bob is offline');
      await shot(bob, 'conversation-offline');
      await bob.context.setOffline(false);
      await bob.page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 15_000 });
      const seen = await waitForBodies(bob, sent);
      t.same(seen.slice(2), sent, 'Bob has every message Alice sent while he was away, in order');
      t.equal(new Set(seen).size, seen.length, 'and none twice');
      await alice.page.locator('[data-testid=message][data-mine=true][data-status=read]').nth(3).waitFor({ timeout: 10_000 });
      t.pass('Alice\'s ticks move to read once Bob is back in the open chat');
    });

    await t.test('a message typed offline survives a reload offline (from the cached shell) and goes out once on reconnect', async (t) => {
      await bob.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
      await bob.context.setOffline(true);
      await bob.page.locator('[data-testid=connection][data-state=offline]').waitFor({ timeout: 5000 });
      const composer = bob.page.getByLabel('Message', { exact: true });
      await composer.fill('written on the train');
      await composer.press('Enter');
      await bob.page.locator('[data-testid=message][data-status=pending]').waitFor();
      t.pass('the message waits in the outbox with a clock');
      await bob.page.reload();
      await bob.page.locator('[data-testid=message][data-status=pending]').waitFor({ timeout: 10_000 });
      t.ok((await bodies(bob)).includes('Hello Bob! https://example.com/page and <b>not bold</b>'), 'offline, the reloaded app shows the cached conversation and the waiting message');
      await shot(bob, 'conversation-outbox-offline');
      await bob.page.goto(`${origin}/`).catch(() => undefined);
      await bob.page.locator('[data-testid=chat-row]').first().waitFor({ timeout: 10_000 });
      t.pass('offline, the app shell opens on the cached chat list');
      await bob.page.locator('[data-testid=connection][data-state=offline]').waitFor();
      t.equal(await bob.page.getByTestId('connection').innerText(), 'Offline', 'and says it is offline once its first attempt fails, not "Connecting…" for ever');
      await shot(bob, 'chats-offline');
      await bob.page.goto(`${origin}${roomPath}`).catch(() => undefined);
      await bob.context.setOffline(false);
      const seen = await waitForBodies(alice, ['written on the train']);
      t.equal(seen.filter((b) => b === 'written on the train').length, 1, 'Alice gets the message written offline exactly once');
      await bob.page.locator('[data-testid=message][data-mine=true][data-status=read]').last().waitFor({ timeout: 10_000 });
      t.equal(await bob.page.locator('[data-testid=message][data-status=pending]').count(), 0, 'Bob\'s outbox is empty');
    });

    await t.test('the app is installable', async (t) => {
      const { installabilityErrors } = await alice.cdp.send('Page.getInstallabilityErrors');
      t.same(installabilityErrors, [], 'Chromium reports no installability errors for the manifest');
      const manifest = (await (await fetch(`${origin}/manifest.webmanifest`)).json()) as { display: string; icons: { sizes: string; purpose: string }[] };
      t.equal(manifest.display, 'standalone', 'the manifest asks for a standalone window');
      t.ok(manifest.icons.some((i) => i.purpose === 'maskable'), 'with a maskable icon');
      const csp = (await fetch(`${origin}/chat/anything`)).headers.get('content-security-policy') ?? '';
      t.match(csp, /script-src 'self' 'sha256-/, 'the router serves the app with a Content-Security-Policy hashing its inline bootstrap');
      t.match(csp, /frame-ancestors 'none'/, 'which forbids framing');
    });

    await t.test('a push service that never answers leaves the rest of settings usable and times out with a sentence', async (t) => {
      // The browser's clock is the test's: the switch's timeout passes when the test says so.
      await bob.page.clock.install();
      await bob.page.goto(`${origin}/settings`);
      await bob.page.evaluate(() => {
        PushManager.prototype.subscribe = () => new Promise<PushSubscription>(() => undefined);
      });
      const toggle = bob.page.getByRole('switch', { name: /Notify me/ });
      await toggle.click();
      await bob.page.getByText('Turning notifications on…').waitFor();
      t.ok(await toggle.isDisabled(), 'the switch waits for the browser');
      t.notOk(await toggle.isChecked(), 'and does not show a state it does not have');
      for (const name of ['Add a passkey', 'Sign out', 'Sign out everywhere']) {
        t.ok(await bob.page.getByRole('button', { name, exact: true }).isEnabled(), `"${name}" stays usable meanwhile`);
      }
      await bob.page.clock.fastForward(30_000);
      await bob.page.getByRole('alert').filter({ hasText: 'push service did not answer' }).waitFor();
      t.ok(await toggle.isEnabled(), 'after the timeout the switch can be tried again');
      t.notOk(await toggle.isChecked(), 'and is off');
      await shot(bob, 'settings-push-timeout');
    });

    await t.test('settings turn push on and a push shows a notification unless its chat is open', async (t) => {
      // Headless Chromium refuses pushManager.subscribe: only that call is stubbed.
      await alice.page.evaluate(() => {
        const key = new Uint8Array(65);
        key[0] = 4;
        const b64 = (a: Uint8Array) => btoa(String.fromCharCode(...a)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        const json = { endpoint: 'https://push.example.com/send/test-subscription', expirationTime: null, keys: { p256dh: b64(key), auth: b64(new Uint8Array(16)) } };
        PushManager.prototype.subscribe = async () => ({ ...json, toJSON: () => json, unsubscribe: async () => true }) as unknown as PushSubscription;
      });
      await alice.page.getByRole('link', { name: 'Back to chats' }).click();
      await alice.page.getByRole('link', { name: 'Settings' }).click();
      await alice.page.getByRole('switch', { name: /Notify me/ }).click();
      await alice.page.getByText('Notifications are on.').waitFor({ timeout: 10_000 });
      t.pass('the subscription is sent to the router after the click');
      await shot(alice, 'settings');
      await alice.page.getByRole('link', { name: 'Back to chats' }).click();
      await shot(alice, 'chats');

      const registrations = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) =>
        alice.cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => resolve(e.registrations)),
      );
      await alice.cdp.send('ServiceWorker.enable');
      const reg = (await registrations).find((r) => r.scopeURL.startsWith(origin));
      t.ok(reg, 'the service worker is registered');
      const room = roomPath.split('/').pop()!;
      const payload = JSON.stringify({ type: 'message', room, seq: 99, id: 'x', sender: { id: 1, handle: bob.handle, displayName: 'Bob Example' }, preview: 'pushed <i>text</i>', trimmed: false });
      const notifications = () => alice.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, url: (n.data as { url: string }).url })));

      await alice.page.goto(`${origin}${roomPath}`);
      await alice.page.locator('[data-testid=message]').first().waitFor();
      await alice.cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg!.registrationId, data: payload });
      await alice.page.waitForTimeout(1000);
      t.same(await notifications(), [], 'no notification while that conversation is open and visible');

      await alice.page.getByRole('link', { name: 'Back to chats' }).click();
      await alice.page.getByRole('heading', { name: 'Chats' }).waitFor();
      await alice.cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg!.registrationId, data: payload });
      let shown: { title: string; body: string; url: string }[] = [];
      await waitFor(async () => (shown = await notifications()).length > 0, 30_000);
      t.same(shown, [{ title: 'Bob Example', body: 'pushed <i>text</i>', url: roomPath }], 'a push shows the sender and text, linking to the conversation');
      await alice.cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg!.registrationId, data: '' });
      await waitFor(async () => (shown = await notifications()).some((n) => n.title === 'Messenger'), 30_000);
      t.ok(shown.some((n) => n.title === 'Messenger' && n.body === 'You have a new message'), 'an empty push shows a generic notification');
    });

    await t.test('Alice sees Bob online in the chat list and the header, then last seen once he leaves', async (t) => {
      await alice.page.goto(`${origin}/`);
      await alice.page.locator('[data-testid=chat-row][data-presence=online] [data-testid=online-dot]').waitFor({ timeout: 10_000 });
      t.pass('the chat list shows a green dot on Bob\'s row');
      await shot(alice, 'chats-presence');
      await alice.page.locator('[data-testid=chat-row]').first().click();
      await alice.page.locator('[data-testid=presence][data-online=true]').waitFor({ timeout: 10_000 });
      t.equal(await alice.page.getByTestId('presence').textContent(), 'online', 'the conversation header says online');
      await shot(alice, 'conversation-presence');
      await shot(bob, 'conversation-presence');
      // Closing Bob's only tab closes his only socket (his profile stays for the sign-out below).
      await bob.page.close();
      await alice.page.locator('[data-testid=presence][data-online=false]').waitFor({ timeout: 10_000 });
      t.equal(await alice.page.getByTestId('presence').textContent(), 'last seen just now', 'the header says when Bob was last seen');
      await shot(alice, 'conversation-last-seen');
      await alice.page.getByRole('link', { name: 'Back to chats' }).click();
      await alice.page.locator('[data-testid=chat-row][data-presence=offline]').waitFor({ timeout: 10_000 });
      t.equal(await alice.page.getByTestId('online-dot').count(), 0, 'and the list no longer shows the dot');
      bob.page = await bob.context.newPage();
      await bob.page.addInitScript('globalThis.__name = (f) => f');
    });

    await t.test('a chat that does not exist, or is not yours, says so instead of loading for ever', async (t) => {
      for (const room of ['g-00000000-0000-7000-8000-000000000000', '999998-999999']) {
        await bob.page.goto(`${origin}/chat/${room}`);
        await bob.page.getByTestId('chat-missing').waitFor();
        t.equal(await bob.page.getByText('This chat does not exist, or you are not in it.').count(), 1, `/chat/${room} says it does not exist`);
        t.equal(await bob.page.getByLabel('Message', { exact: true }).count(), 0, 'with no composer');
      }
      await shot(bob, 'chat-missing');
      await bob.page.getByTestId('chat-missing').getByRole('link', { name: 'Back to chats' }).click();
      await bob.page.locator('[data-testid=chat-row]').first().waitFor();
      t.pass('and leads back to the chat list');
    });

    await t.test('an address the app does not know says so and leads back to the chats', async (t) => {
      await bob.page.goto(`${origin}/no/such/screen`);
      await bob.page.getByTestId('error-page').waitFor();
      t.equal(await bob.page.getByRole('heading', { name: 'Page not found' }).count(), 1, 'the screen names the problem');
      await shot(bob, 'not-found');
      await bob.page.getByTestId('error-page').getByRole('link', { name: 'Back to chats' }).click();
      await bob.page.locator('[data-testid=chat-row]').first().waitFor();
      t.pass('the link leads back to the chat list');
      t.equal(await bob.page.getByTestId('preview').first().innerText(), 'You: written on the train', 'the preview of his own last message reads "You: " and the text, with the space');
    });

    // Alice: her page still has the virtual authenticator she signed up with.
    await t.test('refusals in settings are said in the app\'s words, never the browser\'s or the server\'s', async (t) => {
      await alice.page.goto(`${origin}/settings`);
      await alice.page.getByRole('button', { name: 'Add a passkey' }).click();
      const alert = alice.page.getByTestId('passkeys').getByRole('alert');
      await alert.waitFor();
      t.equal(await alert.innerText(), 'This device already holds a passkey for this account. Use another device or password manager.', 'a second passkey on the same authenticator: our sentence, not "The authenticator was previously registered"');
      await alice.page.getByRole('button', { name: /^Remove passkey/ }).click();
      await alert.filter({ hasText: 'only way' }).waitFor();
      t.equal(await alert.innerText(), 'This is your only way to sign in. Add another passkey or account first.', 'removing the last passkey: our sentence, not the server\'s lower-case text');
      await shot(alice, 'settings-refusal');
    });

    await t.test('sign out returns to the sign-in screen', async (t) => {
      await bob.page.goto(`${origin}/settings`);
      await bob.page.getByRole('heading', { name: 'Settings' }).waitFor();
      await shot(bob, 'settings');
      await bob.page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await bob.page.waitForURL('**/signin');
      const me = await bob.page.evaluate(() => fetch('/api/me').then((r) => r.status));
      t.equal(me, 401, 'the session is gone');
      t.same(violations, [], 'no page broke the Content-Security-Policy');
    });
  });
}
