/**
 * Who is calling, and from where: the session cookie's caller, and the edge's two guards built on
 * it (same origin, signed in). The socket gateway authenticates upgrades with `callerOf` too.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { SessionStore } from '../../../db/session.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import { sessionIdFrom } from '../auth/cookies.ts';
import type { SessionActivity } from '../auth/session.activity.ts';
import type { Caller, Guard, Guards } from './route.ts';

export type { Caller };

export interface CallerDeps {
  sessions: Pick<SessionStore, 'get' | 'delete'>;
  relational: Pick<RelationalStore, 'getUser'>;
  /** Marks the session used (sliding expiry, last active), at most once a step. */
  activity: Pick<SessionActivity, 'seen'>;
  log: Logger;
}

/**
 * The signed-in caller, or null. Marks the session used as a side effect (session.activity.ts);
 * the caller's `session.lastActiveAt` is the mark as it now stands.
 */
export async function callerOf(req: IncomingMessage, deps: CallerDeps): Promise<Caller | null> {
  const caller = await sessionCaller(req, deps);
  return caller === 'deleted' ? null : caller;
}

/**
 * The session's caller; 'deleted' for a session that outlived its account (a deletion ends every
 * session, but one may be created while it runs), which is ended here.
 */
async function sessionCaller(req: IncomingMessage, deps: CallerDeps): Promise<Caller | 'deleted' | null> {
  const { sessions } = deps;
  const id = sessionIdFrom(req.headers.cookie);
  const session = id ? await deps.sessions.get(id) : null;
  if (!session) return null;
  const user = await deps.relational.getUser(session.userId);
  if (!user) return null;
  if (user.deleted) {
    void sessions.delete(session.id).catch((err) => deps.log.warn({ err }, 'could not end the session of a deleted account'));
    return 'deleted';
  }
  session.lastActiveAt = deps.activity.seen(session.id, session.lastActiveAt);
  return { user, session };
}

/** Methods that change nothing, so any origin may send them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses a state-changing request (anything but GET/HEAD/OPTIONS) whose Origin is not one of
 * `allowedOrigins`: SameSite=Lax already keeps the cookie off most cross-site POSTs, this closes the rest.
 */
export function sameOrigin(allowedOrigins: ReadonlySet<string>): Guard {
  return (req, _res, next) => {
    if (!SAFE_METHODS.has(req.method ?? 'GET') && !allowedOrigins.has(req.headers.origin ?? '')) throw new AppError('forbidden_origin');
    return next();
  };
}

/**
 * Sets `req.caller` to the session's caller; refuses with `unauthenticated` without a live session,
 * and with `account_deleted` for a session whose account was deleted.
 */
export function signedIn(deps: CallerDeps): Guard {
  return async (req, _res, next) => {
    const caller = await sessionCaller(req, deps);
    if (caller === 'deleted') throw new AppError('account_deleted');
    if (!caller) throw new AppError('unauthenticated');
    req.caller = caller;
    return next();
  };
}

/** Both guards of the edge. */
export function edgeGuards(deps: CallerDeps & { config: { allowedOrigins: ReadonlySet<string> } }): Guards {
  return { sameOrigin: sameOrigin(deps.config.allowedOrigins), signedIn: signedIn(deps) };
}
