/**
 * Debian's Chromium for browser tests, with the flags this machine needs (no sandbox as root, no
 * background networking on a closed network). A suite asks `chromiumOrSkip` first: without the
 * binary it says it skipped, and in CI that is a failure instead.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, BrowserType, Page } from 'playwright-core';
import type { Test } from 'tap';
import { startNode, type Harness } from './router.harness.ts';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when Chromium can run; otherwise comments why the suite skipped (throws in CI). */
export function chromiumOrSkip(t: Test, what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing but CI must run ${what}`);
  t.comment(`SKIPPED ${what}: ${CHROMIUM} is not installed`);
  return false;
}

/** A free TCP port: a node's PUBLIC_ORIGIN must name its port before it listens (WebAuthn needs localhost:PORT). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * A screenshot once the page has settled: its fonts loaded and every running finite animation or
 * transition finished (a condition, not a guess at how long they take on this machine).
 */
export async function settledScreenshot(page: Page, path: string): Promise<void> {
  // A string, so this file needs no DOM types: it runs in the page.
  await page.evaluate(`(async () => {
    await document.fonts.ready;
    // Finite ones only: an endless animation (a pulsing badge, a pending clock) never finishes.
    const finite = document.getAnimations().filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity));
    await Promise.all(finite.map((a) => a.finished.catch(() => undefined)));
  })()`);
  await page.screenshot({ path });
}

/**
 * A phone-sized Chromium (390x844, a touch screen) with a profile of its own (service worker,
 * storage, push: one device), closed and deleted when `t` ends. Pages get the `__name` helper that
 * tsx's keepNames compiles into functions the tests pass to the page. `locale` (default:
 * Chromium's, en-US here) is what the page's `Intl` and `navigator.language` say.
 */
export function phoneDevice(t: Test, chromium: BrowserType, scheme: 'light' | 'dark', prefix: string, locale?: string): Promise<{ context: BrowserContext; page: Page }> {
  return device(t, chromium, scheme, prefix, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true }, locale);
}

/** The same as a desktop computer: a 1440x900 window, a mouse and no touch screen. */
export function desktopDevice(t: Test, chromium: BrowserType, scheme: 'light' | 'dark', prefix: string, locale?: string): Promise<{ context: BrowserContext; page: Page }> {
  return device(t, chromium, scheme, prefix, { viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, hasTouch: false }, locale);
}

async function device(
  t: Test,
  chromium: BrowserType,
  scheme: 'light' | 'dark',
  prefix: string,
  screen: { viewport: { width: number; height: number }; deviceScaleFactor: number; hasTouch: boolean },
  locale?: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const profile = mkdtempSync(join(tmpdir(), `${prefix}-profile-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP localhost 127.0.0.1'],
    ...screen,
    colorScheme: scheme,
    ...(locale ? { locale } : {}),
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.addInitScript('globalThis.__name = (f) => f');
  return { context, page };
}

/** A passkey authenticator on `page` (Chromium's virtual one: resident keys, user verified, no prompt). */
export async function addAuthenticator(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
}

/** One accessibility rule an axe-core run found broken, with where. */
export interface AxeProblem {
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * The serious and critical WCAG 2.1 A/AA problems axe-core finds on the page as it is now (the
 * rules axe calls "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", plus its best practices). axe's own
 * script comes from node_modules and is evaluated through the debugging protocol, which the page's
 * Content-Security-Policy does not govern (an injected <script> tag would be refused).
 */
export async function axeProblems(page: Page): Promise<AxeProblem[]> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(source);
  const found = (await page.evaluate(`(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ rule: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  })()`)) as AxeProblem[];
  return found.filter((p) => p.impact === 'serious' || p.impact === 'critical');
}

/** Records `page`'s uncaught errors and console errors in `into`, prefixed with `name`; the sign-in screen's first look at /api/me is a 401 by design. */
export function collectPageErrors(page: Page, name: string, into: string[]): void {
  page.on('pageerror', (err) => into.push(`${name}: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('401 (Unauthorized)')) into.push(`${name} console: ${m.text()}`);
  });
}

/** Creates an account with a passkey on `page` (a new authenticator on it) and waits until its chat list is online. */
export async function signUpWithPasskey(context: BrowserContext, page: Page, origin: string, handle: string, name: string, timeout = 15_000): Promise<void> {
  await addAuthenticator(context, page);
  await page.goto(`${origin}/`);
  await page.waitForURL('**/signin', { timeout });
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Create account with a passkey' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout });
  await page.locator('[data-testid=connection][data-state=online]').waitFor({ timeout });
}

/** One device of a person in the app's browser suites: a phone-sized Chromium on the app at `origin`. */
export interface AppDevice {
  name: string;
  origin: string;
  context: BrowserContext;
  page: Page;
  scheme: 'light' | 'dark';
}

/** How long a browser suite waits for the app: long enough for a busy machine; every wait ends as soon as its condition holds. */
const APP_WAIT = { timeout: 15_000 };

/**
 * A phone-sized device (phoneDevice) named `name` whose uncaught errors and console errors are
 * pushed to `errors` as "name: …". A 401 is no error: the sign-in screen's first look at /api/me
 * gets one by design, and so does a device that was signed out.
 */
export async function appDevice(t: Test, chromium: BrowserType, origin: string, name: string, scheme: 'light' | 'dark', prefix: string, errors: string[]): Promise<AppDevice> {
  const { context, page } = await phoneDevice(t, chromium, scheme, prefix);
  collectPageErrors(page, name, errors);
  return { name, origin, context, page, scheme };
}

/** Waits until the app shows the chat list with its socket online. */
export async function appOnline(d: AppDevice): Promise<void> {
  await d.page.getByRole('heading', { name: 'Chats' }).waitFor(APP_WAIT);
  await d.page.locator('[data-testid=connection][data-state=online]').waitFor(APP_WAIT);
}

/** Creates an account in the app's sign-in screen with a virtual passkey, then waits until online. */
export async function appSignUp(d: AppDevice, handle: string, fullName: string): Promise<void> {
  await signUpWithPasskey(d.context, d.page, d.origin, handle, fullName, APP_WAIT.timeout);
}

/** Another device of the same user: its own browser context, signed in with the same session (its cookies copied). */
export async function appSameSession(d: AppDevice, of: AppDevice): Promise<void> {
  await d.context.addCookies(await of.context.cookies());
  await d.page.goto(`${d.origin}/`);
  await appOnline(d);
}

/**
 * From the next navigation of `page` on: marks (performance.mark `conversation-painted`) the frame
 * after a message whose body is `body` is in the DOM. What the offline suite and the open benchmark
 * (app/bench/open.bench.ts) time a conversation's opening by.
 */
export async function markPaintedWhenShown(page: Page, body: string): Promise<void> {
  await page.addInitScript(`{
    const last = ${JSON.stringify(body)};
    const seen = () => [...document.querySelectorAll('[data-testid=message] .body')].some((b) => b.textContent === last);
    const observer = new MutationObserver(() => {
      if (!seen()) return;
      observer.disconnect();
      requestAnimationFrame(() => performance.mark('conversation-painted'));
    });
    observer.observe(document, { childList: true, subtree: true });
  }`);
}

/**
 * Screenshots of `page` as it is, light and dark, at phone and desktop size (`${base}-phone-light.png`
 * and so on); the page is left at `phone` size with its own colour scheme.
 */
export async function shotsAtEverySize(page: Page, base: string, phone: { width: number; height: number }, desktop: { width: number; height: number }): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await settledScreenshot(page, `${base}-phone-${scheme}.png`);
    await page.setViewportSize(desktop);
    await settledScreenshot(page, `${base}-desktop-${scheme}.png`);
    await page.setViewportSize(phone);
  }
  await page.emulateMedia({ colorScheme: null });
}

/** The read watermark of `user` in `room` as the app's IndexedDB in `page` holds it (0 when none). */
export function storedReadMark(page: Page, room: string, user: number): Promise<number> {
  // Runs in the page; this project's typings are Node's, so the page's IndexedDB is named by hand.
  type Request<T> = { result: T; error: unknown; onsuccess: (() => void) | null; onerror: (() => void) | null };
  type Db = { transaction(store: string): { objectStore(store: string): { get(key: unknown): Request<{ data?: { read?: Record<string, number> } } | undefined> } }; close(): void };
  return page.evaluate(
    ([room, user]) =>
      new Promise<number>((resolve, reject) => {
        const open = (globalThis as unknown as { indexedDB: { open(name: string): Request<Db> } }).indexedDB.open('messenger');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const got = open.result.transaction('rooms').objectStore('rooms').get([user, room]);
          got.onsuccess = () => {
            resolve(got.result?.data?.read?.[String(user)] ?? 0);
            open.result.close();
          };
          got.onerror = () => reject(got.error);
        };
      }),
    [room, user] as const,
  );
}

/** A router on the embedded default, on a free port, serving the built app from `staticDir`; its origin. */
export async function appServer(t: Test, staticDir: string): Promise<{ origin: string; h: Harness }> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  return { origin, h: await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR: staticDir }) };
}
