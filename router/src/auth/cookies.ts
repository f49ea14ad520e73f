/**
 * The cookies the router sets and reads: the session cookie and the OAuth attempt's browser
 * binding. Over https each is `__Host-` prefixed (Secure, Path=/, no Domain: the browser binds it to
 * this exact origin); plain-http development on localhost cannot set a `__Host-` cookie, so it falls
 * back to the bare name. Both names are read for the session.
 */
export const SECURE_COOKIE = '__Host-sid';
export const PLAIN_COOKIE = 'sid';

/** The value of cookie `name` in a Cookie header (the first, if sent twice); undefined when absent. */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The session id from a Cookie header, preferring the `__Host-` cookie; undefined when absent. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  return cookieValue(cookieHeader, SECURE_COOKIE) ?? cookieValue(cookieHeader, PLAIN_COOKIE);
}

/** The Set-Cookie value for a new session. */
export function sessionCookie(sessionId: string, publicOrigin: string, maxAgeMs: number): string {
  return cookie(publicOrigin.startsWith('https:') ? SECURE_COOKIE : PLAIN_COOKIE, sessionId, publicOrigin, maxAgeMs);
}

/** The OAuth binding cookie's name for this origin. */
export function bindingCookieName(publicOrigin: string): string {
  return publicOrigin.startsWith('https:') ? '__Host-oauth' : 'oauth';
}

/** The Set-Cookie value of an OAuth attempt's browser binding (`maxAgeMs` 0 clears it). */
export function bindingCookie(value: string, publicOrigin: string, maxAgeMs: number): string {
  return cookie(bindingCookieName(publicOrigin), value, publicOrigin, maxAgeMs);
}

function cookie(name: string, value: string, publicOrigin: string, maxAgeMs: number): string {
  const attrs = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.floor(maxAgeMs / 1000)}`];
  if (publicOrigin.startsWith('https:')) attrs.push('Secure');
  return attrs.join('; ');
}
