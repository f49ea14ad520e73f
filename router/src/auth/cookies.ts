/**
 * The session cookie. Over https it is `__Host-sid` (Secure, Path=/, no Domain: the browser binds
 * it to this exact origin); plain-http development on localhost cannot set a `__Host-` cookie, so
 * it falls back to `sid`. Both are read.
 */
export const SECURE_COOKIE = '__Host-sid';
export const PLAIN_COOKIE = 'sid';

/** The session id from a Cookie header, preferring the `__Host-` cookie; undefined when absent. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  let plain: string | undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === SECURE_COOKIE) return value;
    if (name === PLAIN_COOKIE) plain = value;
  }
  return plain;
}

/** The Set-Cookie value for a new session. */
export function sessionCookie(sessionId: string, publicOrigin: string, maxAgeMs: number): string {
  const secure = publicOrigin.startsWith('https:');
  const name = secure ? SECURE_COOKIE : PLAIN_COOKIE;
  const attrs = [`${name}=${sessionId}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.floor(maxAgeMs / 1000)}`];
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}
