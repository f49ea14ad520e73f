/**
 * Device names from User-Agents (auth/device.name.ts) and passkey names from AAGUIDs
 * (auth/passkey.aaguid.ts): real User-Agent strings of the browsers people sign in with, and the
 * fallbacks when nothing is recognised.
 */
import t from 'tap';
import { deviceName, parseUserAgent } from '../src/auth/device.name.ts';
import { authenticatorName, passkeyName } from '../src/auth/passkey.aaguid.ts';

const AGENTS: Array<[string, string | null, string]> = [
  ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36', 'Chrome on Android', 'Chrome on a Pixel'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari on iOS', 'Safari on an iPhone'],
  ['Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari on iPadOS', 'Safari on an iPad'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.153 Mobile/15E148 Safari/604.1', 'Chrome on iOS', 'Chrome on an iPhone (CriOS)'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15', 'Firefox on iOS', 'Firefox on an iPhone (FxiOS)'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari on macOS', 'Safari on a Mac'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on macOS', 'Chrome on a Mac'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87', 'Edge on Windows', 'Edge (which also says Chrome and Safari)'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox on Windows', 'Firefox on Windows'],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox on Linux', 'Firefox on Linux'],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36', 'Chrome on Linux', 'headless Chrome (the browser tests)'],
  ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome on ChromeOS', 'a Chromebook'],
  ['Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36', 'Samsung Internet on Android', 'Samsung Internet'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 YaBrowser/24.6.0.0 Safari/537.36', 'Yandex Browser on Windows', 'Yandex Browser'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0', 'Opera on Windows', 'Opera'],
  ['Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Mobile', 'Android', 'an unknown browser on Android: the system alone'],
  ['curl/8.5.0', null, 'a tool that is no browser'],
  ['', null, 'no User-Agent at all'],
];

t.test('a User-Agent names its browser and system', async (t) => {
  for (const [ua, name, what] of AGENTS) t.equal(deviceName(ua), name, `${what}: ${JSON.stringify(name)}`);
  t.equal(deviceName(undefined), null, 'a request without the header has no device name');
  t.same(parseUserAgent('Mozilla/5.0 (Windows NT 10.0) Firefox/127.0'), { browser: 'Firefox', os: 'Windows' }, 'the parts come apart too');
});

t.test('a hostile User-Agent is never echoed and stays fast', async (t) => {
  t.equal(deviceName('<script>alert(1)</script> Chrome/1 (Android)'), 'Chrome on Android', 'only the known name comes out, never the header\'s text');
  const junk = `Version/1 ${'Mobile/x '.repeat(50_000)}`;
  const started = process.hrtime.bigint();
  t.equal(deviceName(junk), null, 'a huge header matches nothing');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.ok(ms < 200, `and is judged on its first kilobyte only (${ms.toFixed(1)} ms)`);
});

t.test('a passkey is named by its authenticator, else its device, else "Passkey"', async (t) => {
  const known: Array<[string, string | null, string]> = [
    ['fbfc3007-154e-4ecc-8c0b-6e020557d7bd', 'iCloud Keychain', 'iCloud Keychain'],
    ['EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4', 'Google Password Manager', 'Google Password Manager, in capitals'],
    ['08987058-cadc-4b81-b6e1-30de50dcbe96', 'Windows Hello', 'Windows Hello'],
    ['bada5566-a7aa-401f-bd96-45619a55120d', '1Password', '1Password'],
    ['d548826e-79b4-db40-a3d8-11116f7e8349', 'Bitwarden', 'Bitwarden'],
    ['adce0002-35bc-c60a-648b-0b25f1f05503', 'Chrome on Mac', 'Chrome on Mac'],
    ['fa2b99dc-9e39-4257-8f92-4a30d23c4118', 'YubiKey 5 NFC', 'a YubiKey 5 NFC'],
    ['00000000-0000-0000-0000-000000000000', null, 'the all-zero AAGUID names nothing'],
  ];
  for (const [aaguid, name, what] of known) t.equal(authenticatorName(aaguid), name, what);
  t.equal(authenticatorName(undefined), null, 'nor does none');

  const android = AGENTS[0]![0];
  t.equal(passkeyName('My phone', 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd', android), 'My phone', 'a name its owner gave wins');
  t.equal(passkeyName(undefined, 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd', android), 'iCloud Keychain', 'then the authenticator');
  t.equal(passkeyName(undefined, '00000000-0000-0000-0000-000000000000', android), 'Chrome on Android', 'then the device it was added on');
  t.equal(passkeyName(undefined, undefined, 'curl/8.5.0'), 'Passkey', 'and "Passkey" when nothing is known');
});
