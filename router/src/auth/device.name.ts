/**
 * A person's name for a device, from its browser's User-Agent: "Chrome on Android", "Safari on
 * iOS". Used for sessions in settings and for a passkey nobody named. Deliberately small: the
 * browsers and systems people actually sign in with, recognised by the tokens their User-Agents
 * have carried for years; anything else is left unnamed rather than guessed. The answer is built
 * only from the names below, never from the header's text, so nothing a client sends is echoed.
 */

/** What a User-Agent says, each part null when unrecognised. */
export interface Device {
  browser: string | null;
  os: string | null;
}

/**
 * Browsers, first match wins: the Chromium-based ones before Chrome (they all say "Chrome/" too),
 * Chrome before Safari (Chrome says "Safari/" too). iOS browsers name themselves with a suffix
 * (CriOS, FxiOS, EdgiOS) over Safari's engine.
 */
const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bYaBrowser\//, 'Yandex Browser'],
  [/\bVivaldi\//, 'Vivaldi'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChromium\//, 'Chromium'],
  [/\b(?:Headless)?Chrome\/|\bCriOS\//, 'Chrome'],
  // "Version/17.5 Safari/605.1.15", "Version/17.5 Mobile/15E148 Safari/604.1"; in-app browsers lack "Version/".
  [/\bVersion\/[\d.]+ (?:Mobile\/\w+ )?Safari\//, 'Safari'],
];

/** Systems, first match wins: iOS before macOS (iPhones say "like Mac OS X"), Android and ChromeOS before Linux. */
const SYSTEMS: Array<[RegExp, string]> = [
  [/\biPad\b/, 'iPadOS'],
  [/\b(?:iPhone|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

/** Longest User-Agent looked at: real ones are a few hundred characters; the patterns stay linear on junk. */
const UA_MAX = 1024;

/** The browser and system a User-Agent names. */
export function parseUserAgent(userAgent: string | undefined): Device {
  const ua = (userAgent ?? '').slice(0, UA_MAX);
  const find = (table: Array<[RegExp, string]>) => table.find(([pattern]) => pattern.test(ua))?.[1] ?? null;
  return { browser: find(BROWSERS), os: find(SYSTEMS) };
}

/** "Chrome on Android", or only the part known ("Firefox", "Windows"); null when neither is. */
export function deviceName(userAgent: string | undefined): string | null {
  const { browser, os } = parseUserAgent(userAgent);
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os;
}
