/**
 * Each provider's profile mapping, fed by a local server that answers with that provider's real
 * response shape (and checks the token is presented the way the provider expects).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { providerSpec } from '../src/auth/oauth.providers.ts';

const client = (name: string) => ({ clientId: 'id', clientSecret: 'secret', name });

t.test('provider profiles map from their real response shapes', async (t) => {
  const seen: Record<string, string | undefined> = {};
  let githubEmails: unknown = [
    { email: 'old@example.com', primary: false, verified: true, visibility: null },
    { email: 'octo@example.com', primary: true, verified: true, visibility: 'private' },
  ];
  const server = createServer((req, res) => {
    seen[req.url!] = req.headers.authorization;
    const body: Record<string, unknown> = {
      // https://developers.google.com/identity/openid-connect/openid-connect#obtaininguserprofileinformation
      '/google/userinfo': { sub: '110169484474386276334', name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace', picture: 'https://lh3.googleusercontent.com/a/abc=s96-c', email: 'ada@gmail.com', email_verified: true, locale: 'en' },
      // https://yandex.ru/dev/id/doc/en/user-information
      '/yandex/info?format=json': { id: '1000034426', login: 'ivan', client_id: 'id', display_name: 'Ivan', real_name: 'Ivan Ivanov', first_name: 'Ivan', last_name: 'Ivanov', sex: 'male', default_email: 'ivan@yandex.ru', emails: ['ivan@yandex.ru'], default_avatar_id: '131652443', is_avatar_empty: false, psuid: '1.AAceCw...' },
      '/yandex-noavatar/info?format=json': { id: '42', login: 'no.face', display_name: '', real_name: 'No Face', default_email: null, default_avatar_id: '0/0-0', is_avatar_empty: true },
      // https://docs.github.com/en/rest/users/users#get-the-authenticated-user
      '/github/user': { login: 'octocat', id: 583231, node_id: 'MDQ6VXNlcjE=', avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4', type: 'User', site_admin: false, name: null, company: '@github', email: null },
      '/github/user/emails': githubEmails,
    };
    const payload = body[req.url!];
    res.writeHead(payload === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(payload ?? { message: 'Not Found' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ep = (p: string, extra = {}) => ({ authorize: `${base}/${p}/authorize`, token: `${base}/${p}/token`, ...extra });

  t.test('Google (OpenID Connect userinfo)', async (t) => {
    const spec = providerSpec('google', client('Google'), ep('google', { userinfo: `${base}/google/userinfo` }));
    t.same(await spec.profile('tok-g'), {
      subject: '110169484474386276334',
      login: null,
      name: 'Ada Lovelace',
      email: 'ada@gmail.com',
      emailVerified: true,
      avatarUrl: 'https://lh3.googleusercontent.com/a/abc=s96-c',
    }, 'sub is the key; name, e-mail and picture map');
    t.equal(seen['/google/userinfo'], 'Bearer tok-g', 'the token is sent as a Bearer token');
    t.equal(spec.scope, 'openid email profile', 'the scopes are OpenID');
  });

  t.test('Yandex (login.yandex.ru/info)', async (t) => {
    const spec = providerSpec('yandex', client('Yandex'), ep('yandex', { userinfo: `${base}/yandex/info?format=json` }));
    t.same(await spec.profile('tok-y'), {
      subject: '1000034426',
      login: 'ivan',
      name: 'Ivan',
      email: 'ivan@yandex.ru',
      emailVerified: true,
      avatarUrl: 'https://avatars.yandex.net/get-yapic/131652443/islands-200',
    }, 'id is the key; the avatar URL is built from default_avatar_id');
    t.equal(seen['/yandex/info?format=json'], 'OAuth tok-y', 'the token is sent as "OAuth <token>"');
    const bare = providerSpec('yandex', client('Yandex'), ep('yandex-noavatar', { userinfo: `${base}/yandex-noavatar/info?format=json` }));
    t.match(await bare.profile('tok'), { subject: '42', name: 'No Face', email: null, avatarUrl: null }, 'an empty avatar and display name fall back');
  });

  t.test('GitHub (/user and /user/emails)', async (t) => {
    const spec = providerSpec('github', client('GitHub'), ep('github', { userinfo: `${base}/github/user`, emails: `${base}/github/user/emails` }));
    t.same(await spec.profile('tok-h'), {
      subject: '583231',
      login: 'octocat',
      name: 'octocat',
      email: 'octo@example.com',
      emailVerified: true,
      avatarUrl: 'https://avatars.githubusercontent.com/u/583231?v=4',
    }, 'the numeric id is the key; a null name falls back to the login; the primary verified e-mail is used');
    t.equal(seen['/github/user'], 'Bearer tok-h', 'the token is sent as a Bearer token');
    githubEmails = [{ email: 'unverified@example.com', primary: true, verified: false, visibility: null }];
    t.match(await spec.profile('tok-h'), { email: null, emailVerified: false }, 'an unverified primary e-mail is not used');
  });

  t.test('a profile without an immutable id is refused', async (t) => {
    const spec = providerSpec('google', client('Google'), ep('google', { userinfo: `${base}/nothing` }));
    await t.rejects(spec.profile('tok'), 'a 404 from the profile endpoint fails the sign-in');
  });
});
