/**
 * The one rule for a place on this site that a browser is sent to from input (the OAuth returnTo,
 * a service worker's "open this" message). Shared by the router and the app.
 */

const BASE = 'http://local.invalid';
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A path another parser could read as the start of a host: `//host`, `/\host`. */
const startsLikeHost = (path: string) => !path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\');

/** `new URL`, or null where it throws (URL.canParse is missing from browsers the app still runs in). */
export function parseUrl(value: string, base?: string): URL | null {
  try {
    return new URL(value, base);
  } catch {
    return null;
  }
}

/**
 * A path on this site (path, query, fragment) normalised as a browser resolves it, or null.
 * What is checked is what is returned: dot segments (`/.//x`, `/a/..//x`, `/%2e%2e//x`) can
 * normalise to `//x`, which a browser reads as another host, so the normalised path is checked,
 * and again after percent-decoding (`/%2F%2Fx`) for any later hop that decodes it. Refused raw:
 * backslashes and control characters (URL parsing drops tabs and newlines silently), more than
 * 512 characters.
 */
export function localPath(value: string): string | null {
  if (value.length > 512 || startsLikeHost(value) || value.includes('\\') || CONTROL.test(value)) return null;
  const url = parseUrl(value, BASE);
  if (url?.origin !== BASE) return null;
  const path = url.pathname + url.search + url.hash;
  if (startsLikeHost(path)) return null;
  // Byte by byte and lenient, as a server decoding a path does: only `/`, `\` and ASCII controls matter here.
  let decoded = path;
  for (let i = 0; i < 3; i++) {
    const next = decoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (startsLikeHost(next) || /[\u0000-\u001f\u007f]/.test(next)) return null;
    if (next === decoded) return path;
    decoded = next;
  }
  // Still changing after three decodings: nothing legitimate is encoded that deep.
  return null;
}
