/**
 * Sessions as sign-in and sign-out see them. A sign-in always mints a new id and ends whatever
 * session the browser presented (no fixation), and records the device (User-Agent) and the way
 * in; a sign-out deletes the session server-side and tells every node, over the bus, to close its
 * sockets (4001). Settings list a user's sessions by a public handle, never by the secret id.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session, SessionStore } from '../../../db/session.port.ts';
import type { SessionJson } from '../../../protocol/http.ts';
import type { Bus } from '../live/bus.port.ts';
import { PLAIN_COOKIE, SECURE_COOKIE, sessionCookie, sessionIdFrom } from './cookies.ts';
import { deviceName } from './device.name.ts';

/** How a session was signed in: with a passkey, or the id of an OAuth provider. */
export type SignInMethod = 'passkey' | (string & {});

export interface SessionDeps {
  sessions: Pick<SessionStore, 'create' | 'get' | 'delete' | 'deleteAllOf' | 'listOf'>;
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

/** Starts a new session for `userId` signed in by `method` and sets its cookie; the browser's previous session ends. */
export async function signIn(req: IncomingMessage, res: ServerResponse, deps: SessionDeps, userId: number, method: SignInMethod): Promise<Session> {
  await endPresented(req, deps);
  const { evicted, ...session } = await deps.sessions.create(userId, deps.config.sessionTtlMs, { userAgent: req.headers['user-agent'], method });
  // The user's least recently used sessions beyond the store's cap ended: their sockets close too.
  if (evicted.length > 0) deps.bus.publish({ kind: 'session.ended', user: userId, sessions: evicted });
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

/** Ends every session of a user but `current` on every node; returns how many there were. */
export async function signOutOthers(deps: SessionDeps, userId: number, current: string): Promise<number> {
  const ids = await deps.sessions.deleteAllOf(userId, current);
  if (ids.length) deps.bus.publish({ kind: 'session.ended', user: userId, sessions: ids });
  return ids.length;
}

/** A session's public handle: what settings list and `DELETE /api/sessions/:id` takes; the secret id cannot be derived from it. */
export function publicSessionId(id: string): string {
  return createHash('sha256').update(`messenger.session:${id}`).digest('base64url').slice(0, 22);
}

/** The user's live sessions as settings show them, `current` marked, the current one first. */
export async function sessionsOf(deps: SessionDeps, userId: number, current: string): Promise<SessionJson[]> {
  const list = await deps.sessions.listOf(userId);
  return list
    .map((s) => ({
      id: publicSessionId(s.id),
      device: deviceName(s.userAgent),
      method: s.method || null,
      createdAt: new Date(s.createdAt).toISOString(),
      lastActiveAt: new Date(s.lastActiveAt).toISOString(),
      current: s.id === current,
    }))
    .sort((a, b) => Number(b.current) - Number(a.current));
}

/**
 * Ends the session of the user whose public handle is `publicId`, on every node: 'ended', or
 * 'current' when it was the caller's own (whose cookie the caller then clears), or 'not_found'
 * when the user has no such live session.
 */
export async function endSession(deps: SessionDeps, userId: number, publicId: string, current: string): Promise<'ended' | 'current' | 'not_found'> {
  const session = (await deps.sessions.listOf(userId)).find((s) => publicSessionId(s.id) === publicId);
  if (!session) return 'not_found';
  await deps.sessions.delete(session.id);
  deps.bus.publish({ kind: 'session.ended', user: userId, sessions: [session.id] });
  return session.id === current ? 'current' : 'ended';
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
