/**
 * What the sessions list in settings says about a session (app/src/routes/settings/sessions.view.ts):
 * the device, the way in by the provider's own name, and when it was last active, as pure
 * functions of the session and the time.
 */
import t from 'tap';
import { activeText, deviceText, methodText, signedInText } from '../src/routes/settings/sessions.view.ts';

/** 15:00 local time, so "today" and "yesterday" hold in any time zone. */
const NOW = new Date(2026, 2, 10, 15, 0).getTime();
const PROVIDERS = [{ id: 'github', name: 'GitHub' }, { id: 'oidc', name: 'Company SSO' }];

t.test('the device, or a placeholder', async (t) => {
  t.equal(deviceText({ device: 'Chrome on Android' }), 'Chrome on Android', 'the router\'s name');
  t.equal(deviceText({ device: null }), 'Unknown device', 'a browser the router did not recognise');
});

t.test('the way in, by the name the server gives its provider', async (t) => {
  t.equal(methodText('passkey', PROVIDERS), 'with a passkey', 'a passkey');
  t.equal(methodText('oidc', PROVIDERS), 'with Company SSO', 'a provider by its configured name');
  t.equal(methodText('yandex', PROVIDERS), 'with yandex', 'a provider no longer configured by its id');
  t.equal(methodText(null, PROVIDERS), '', 'unknown: nothing');
  t.match(signedInText({ createdAt: '2026-03-01T10:00:00Z', method: 'github' }, PROVIDERS), /^Signed in .*2026 with GitHub$/, 'the whole line');
  t.match(signedInText({ createdAt: '2026-03-01T10:00:00Z', method: null }, PROVIDERS), /^Signed in .*2026$/, 'without a way in');
});

t.test('when it was last active, coarse like the router\'s clock', async (t) => {
  const ago = (ms: number) => new Date(NOW - ms).toISOString();
  t.equal(activeText(ago(0), NOW), 'Active now', 'just now');
  t.equal(activeText(ago(119_000), NOW), 'Active now', 'under two minutes is now (the router writes once a minute)');
  t.equal(activeText(ago(5 * 60_000), NOW), 'Active 5 min ago', 'minutes');
  t.match(activeText(ago(3 * 3_600_000), NOW), /^Active today at /, 'earlier today');
  t.match(activeText(ago(24 * 3_600_000), NOW), /^Active yesterday at /, 'yesterday');
  t.match(activeText(ago(9 * 86_400_000), NOW), /^Active \S+ \S+$|^Active \d+ \S+$/, 'a date without the year this year');
  t.match(activeText('2025-01-02T10:00:00Z', NOW), /2025/, 'another year says it');
  t.equal(activeText(new Date(NOW + 30_000).toISOString(), NOW), 'Active now', 'a clock a little ahead is now, not the future');
});
