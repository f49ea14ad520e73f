/**
 * Sessions as sign-in and sign-out see them. A sign-in always mints a new id and ends whatever
 * session the browser presented (no fixation); a sign-out deletes the session server-side and
 * tells every node, over the bus, to close its sockets (4001).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session, SessionStore } from '../../../db/session.port.ts';
import type { Bus } from '../live/bus.port.ts';
import { PLAIN_COOKIE, SECURE_COOKIE, sessionCookie, sessionIdFrom } from './cookies.ts';

export interface SessionDeps {
  sessions: Pick<SessionStore, 'create' | 'get' | 'delete' | 'deleteAllOf'>;
  /** Tells every node which sessions ended, so each closes their sockets. */
  bus: Pick<Bus, 'publish'>;
  /** `sessionTtlMs`: a session's life from its last use, ms; `publicOrigin` picks the cookie's name. */
  config: { sessionTtlMs: number; publicOrigin: string };
}

/** Appends a Set-Cookie header, keeping any already set on the response. */
export function addCookie(res: ServerResponse, cookie: string): void {
  const prev = res.getHeader('Set-Cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

/** Starts a new session for `userId` and sets its cookie; the browser's previous session ends. */
export async function signIn(req: IncomingMessage, res: ServerResponse, deps: SessionDeps, userId: number): Promise<Session> {
  await endPresented(req, deps);
  const session = await deps.sessions.create(userId, deps.config.sessionTtlMs);
  addCookie(res, sessionCookie(session.id, deps.config.publicOrigin, deps.config.sessionTtlMs));
  return session;
}

/** Re-sends the cookie of a live session so the browser's copy slides with the server's expiry. */
export function renewCookie(res: ServerResponse, deps: SessionDeps, session: Session): void {
  addCookie(res, sessionCookie(session.id, deps.config.publicOrigin, deps.config.sessionTtlMs));
}

/** Ends the session the request carries (if any) and clears its cookie. */
export async function signOut(req: IncomingMessage, res: ServerResponse, deps: SessionDeps): Promise<void> {
  await endPresented(req, deps);
  clearSessionCookie(res);
}

/** Ends every session of a user on every node; returns how many there were. */
export async function signOutEverywhere(deps: SessionDeps, userId: number): Promise<number> {
  const ids = await deps.sessions.deleteAllOf(userId);
  if (ids.length) deps.bus.publish({ kind: 'session.ended', user: userId, sessions: ids });
  return ids.length;
}

export function clearSessionCookie(res: ServerResponse): void {
  addCookie(res, `${SECURE_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0`);
  addCookie(res, `${PLAIN_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
}

async function endPresented(req: IncomingMessage, deps: SessionDeps): Promise<void> {
  const id = sessionIdFrom(req.headers.cookie);
  if (!id) return;
  const session = await deps.sessions.get(id);
  await deps.sessions.delete(id);
  if (session) deps.bus.publish({ kind: 'session.ended', user: session.userId, sessions: [session.id] });
}
