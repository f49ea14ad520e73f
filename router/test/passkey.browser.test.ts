/**
 * Passkeys in a real browser: Debian's Chromium driven by playwright-core, with the CDP virtual
 * authenticator (internal, resident keys, user verification). A new user signs up on the embedded
 * default, signs out and signs back in with the passkey alone. The page drives the HTTP API with
 * @simplewebauthn/browser, as the PWA will.
 *
 * Without /usr/bin/chromium the suite says it skipped; in CI that is a failure.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumOrSkip, freePort } from '../../test/support/browser.ts';
import { startNode } from '../../test/support/router.harness.ts';

if (chromiumOrSkip(t, 'the browser passkey suite')) {
  t.test('passkeys in Chromium with a virtual authenticator, on the embedded default', async (t) => {
    const { chromium } = await import('playwright-core');
    const port = await freePort();
    // WebAuthn refuses IP addresses: the origin must be localhost.
    const origin = `http://localhost:${port}`;
    await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP localhost 127.0.0.1'] });
    t.teardown(() => browser.close());
    // The test injects @simplewebauthn/browser as an inline script, which the app's CSP forbids.
    const page = await browser.newPage({ bypassCSP: true });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    // tsx compiles this file with esbuild's keepNames, whose __name helper the page lacks.
    await page.addInitScript('globalThis.__name = (f) => f');
    await page.goto(`${origin}/`);
    // The package's exports do not include the UMD bundle; locate it beside its package.json.
    const main = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
    const bundle = join(main.slice(0, main.lastIndexOf('/node_modules/@simplewebauthn/browser/') + '/node_modules/@simplewebauthn/browser/'.length), 'dist/bundle/index.umd.min.js');
    await page.addScriptTag({ path: bundle });

    const handle = `browser_${process.pid}`;
    const signedUp = await page.evaluate(async ({ handle }) => {
      const swa = (globalThis as any).SimpleWebAuthnBrowser;
      const post = (path: string, body: unknown) =>
        fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const options = await post('/api/passkeys/signup/options', { handle, displayName: 'Browser User' });
      const response = await swa.startRegistration({ optionsJSON: options.body });
      const verify = await post('/api/passkeys/signup/verify', response);
      const me = (await fetch('/api/me').then((r) => r.json())) as { user?: { handle: string } };
      return { verify, me };
    }, { handle });
    t.equal(signedUp.verify.status, 200, `sign-up verifies in the browser: ${JSON.stringify(signedUp.verify.body)}`);
    t.equal(signedUp.me.user?.handle, handle, 'the browser is signed in as the new user');

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    t.equal(credentials.length, 1, 'the authenticator holds one credential');
    t.ok(credentials[0]?.isResidentCredential, 'it is a discoverable (resident) credential');

    const after = await page.evaluate(async () => {
      const swa = (globalThis as any).SimpleWebAuthnBrowser;
      const out = await fetch('/api/signout', { method: 'POST' }).then((r) => r.status);
      const meOut = await fetch('/api/me').then((r) => r.status);
      const options = await fetch('/api/passkeys/signin/options', { method: 'POST' }).then((r) => r.json());
      const response = await swa.startAuthentication({ optionsJSON: options });
      const verify = await fetch('/api/passkeys/signin/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(response) }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const me = (await fetch('/api/me').then((r) => r.json())) as { user?: { handle: string } };
      return { out, meOut, verify, me };
    });
    t.equal(after.out, 204, 'sign-out answers 204');
    t.equal(after.meOut, 401, 'after sign-out the browser is anonymous');
    t.equal(after.verify.status, 200, `sign-in with the passkey alone verifies: ${JSON.stringify(after.verify.body)}`);
    t.equal(after.me.user?.handle, handle, 'the browser is signed in again as the same user');
    const { credentials: used } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    t.ok((used[0]?.signCount ?? 0) >= 1, 'the authenticator counted the signature');
  });
}
