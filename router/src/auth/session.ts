/**
 * Sessions as sign-in and sign-out see them. A sign-in always mints a new id and ends whatever
 * session the browser presented (no fixation); a sign-out deletes the session server-side and
 * tells every node, over the bus, to close its sockets (4001).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from '../../../db/session.port.ts';
import type { RouterContext } from '../router.context.ts';
import { PLAIN_COOKIE, SECURE_COOKIE, sessionCookie, sessionIdFrom } from './cookies.ts';

/** Appends a Set-Cookie header, keeping any already set on the response. */
export function addCookie(res: ServerResponse, cookie: string): void {
  const prev = res.getHeader('Set-Cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

/** Starts a new session for `userId` and sets its cookie; the browser's previous session ends. */
export async function signIn(req: IncomingMessage, res: ServerResponse, ctx: RouterContext, userId: number): Promise<Session> {
  await endPresented(req, ctx);
  const session = await ctx.sessions.create(userId, ctx.config.sessionTtlMs);
  addCookie(res, sessionCookie(session.id, ctx.config.publicOrigin, ctx.config.sessionTtlMs));
  return session;
}

/** Re-sends the cookie of a live session so the browser's copy slides with the server's expiry. */
export function renewCookie(res: ServerResponse, ctx: RouterContext, session: Session): void {
  addCookie(res, sessionCookie(session.id, ctx.config.publicOrigin, ctx.config.sessionTtlMs));
}

/** Ends the session the request carries (if any) and clears its cookie. */
export async function signOut(req: IncomingMessage, res: ServerResponse, ctx: RouterContext): Promise<void> {
  await endPresented(req, ctx);
  clearSessionCookie(res);
}

/** Ends every session of a user on every node; returns how many there were. */
export async function signOutEverywhere(ctx: RouterContext, userId: number): Promise<number> {
  const ids = await ctx.sessions.deleteAllOf(userId);
  if (ids.length) ctx.bus.publish({ kind: 'session.ended', user: userId, sessions: ids });
  return ids.length;
}

export function clearSessionCookie(res: ServerResponse): void {
  addCookie(res, `${SECURE_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0`);
  addCookie(res, `${PLAIN_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
}

async function endPresented(req: IncomingMessage, ctx: RouterContext): Promise<void> {
  const id = sessionIdFrom(req.headers.cookie);
  if (!id) return;
  const session = await ctx.sessions.get(id);
  await ctx.sessions.delete(id);
  if (session) ctx.bus.publish({ kind: 'session.ended', user: session.userId, sessions: [session.id] });
}
