/**
 * A real OAuth 2.0 / OpenID Connect provider (npm oidc-provider) on a local port, with its
 * development login screen, and a scripted user agent that signs in on it: the counterpart of
 * the generic `oidc` provider in tests.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Test } from 'tap';
import { call, Jar } from './http.client.ts';

export interface LocalOidc {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Signs `account` in at an authorize URL and returns the redirect to the client (with code and state). */
  authorize(authorizeUrl: string, account: string): Promise<string>;
}

/** Accounts: any login name is an account whose claims derive from it. */
export const claimsOf = (sub: string) => ({
  sub,
  name: `Person ${sub}`,
  email: `${sub}@example.org`,
  email_verified: true,
  picture: `https://img.example.org/${sub}.png`,
});

/** Starts the provider for a client whose redirect URI is `redirectUri`; stopped in teardown. */
export async function startOidc(t: Test, redirectUri: string): Promise<LocalOidc> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const clientId = 'messenger-test';
  const clientSecret = 'a-long-enough-test-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => claimsOf(sub) }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'picture'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    // Consent is not what these tests are about: every client gets the scopes it asks for.
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (_ctx, err) => t.comment(`oidc-provider error: ${err}`));
  server.on('request', provider.callback());
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

  return {
    issuer,
    clientId,
    clientSecret,
    async authorize(authorizeUrl, account) {
      const jar = new Jar();
      let next = authorizeUrl;
      for (let hop = 0; hop < 10; hop++) {
        if (next.startsWith(redirectUri.split('?')[0]!)) return next;
        const r = jar.update(await call(issuer, next, { cookie: jar.header() }));
        if (r.status >= 300 && r.status < 400) {
          next = new URL(String(r.headers.location), issuer).toString();
          continue;
        }
        const html = String(r.body);
        const action = /action="([^"]+)"/.exec(html)?.[1];
        const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
        if (r.status !== 200 || !action || !prompt) throw new Error(`unexpected page from the provider (${r.status}): ${html.slice(0, 300)}`);
        const form = new URLSearchParams({ prompt, login: account, password: 'any' }).toString();
        const posted = jar.update(
          await call(issuer, new URL(action, next).toString(), {
            method: 'POST',
            cookie: jar.header(),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            rawBody: form,
          }),
        );
        next = new URL(String(posted.headers.location), issuer).toString();
      }
      throw new Error('too many redirects at the provider');
    },
  };
}
