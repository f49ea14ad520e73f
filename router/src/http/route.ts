/**
 * What a feature's HTTP routes are written against: the request type handlers see, and route
 * groups that run their guards (same origin, signed in) before any handler of the group. A feature
 * registers into the group it needs and never calls a check itself; app.ts builds the groups.
 */
import type { ServerResponse } from 'node:http';
import type { Middleware, Polka, Request } from 'polka';
import type { Session } from '../../../db/session.port.ts';
import type { UserRecord } from '../../../db/relational.port.ts';

/** The signed-in user and the session they presented. */
export interface Caller {
  user: UserRecord;
  session: Session;
}

/** A request as every handler and guard sees it: polka's parsed path and query, and the caller once `signedIn` ran. */
export interface Req extends Request {
  caller?: Caller;
}

/** A request in the `signedIn` group: its guard has set the caller. */
export interface SignedInReq extends Req {
  caller: Caller;
}

/** Runs before a group's handlers; refuses by throwing AppError (the app's error handler answers). */
export type Guard = Middleware<Req>;

export type Handler<R extends Req> = (req: R, res: ServerResponse) => void | Promise<void>;

/** Routes that share guards: each method registers `path` with the group's guards first. */
export interface RouteGroup<R extends Req> {
  get(path: string, handler: Handler<R>): void;
  post(path: string, handler: Handler<R>): void;
  put(path: string, handler: Handler<R>): void;
  patch(path: string, handler: Handler<R>): void;
  delete(path: string, handler: Handler<R>): void;
}

/** The edge's two checks, each a polka middleware. */
export interface Guards {
  /** Refuses a state-changing request from another origin (`forbidden_origin`); reads pass. */
  sameOrigin: Guard;
  /** Sets `req.caller`, or refuses with `unauthenticated`. */
  signedIn: Guard;
}

/** The groups a feature registers into, from the least guarded to the most. */
export interface RouteGroups {
  /** No check: reads anyone may make, and links whose token is the credential (any origin). */
  anyone: RouteGroup<Req>;
  /** State changes only from our origin; no session needed (sign-up, sign-in, sign-out). */
  sameOrigin: RouteGroup<Req>;
  /** A live session, and state changes only from our origin (checked first). */
  signedIn: RouteGroup<SignedInReq>;
}

/** Registers one feature's HTTP routes; handlers parse, delegate to a service and answer JSON. */
export type RouteModule = (routes: RouteGroups) => void;

/** The route groups of `app`, guarded by `guards`. */
export function routeGroups(app: Polka<Req>, guards: Guards): RouteGroups {
  return {
    anyone: group<Req>(app, []),
    sameOrigin: group<Req>(app, [guards.sameOrigin]),
    signedIn: group<SignedInReq>(app, [guards.sameOrigin, guards.signedIn]),
  };
}

function group<R extends Req>(app: Polka<Req>, guards: Guard[]): RouteGroup<R> {
  // The guards of this group guarantee what R adds to Req (the caller), so the cast is theirs to keep.
  const add = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE') => (path: string, handler: Handler<R>) => {
    app.add(method, path, ...guards, handler as unknown as Guard);
  };
  return { get: add('GET'), post: add('POST'), put: add('PUT'), patch: add('PATCH'), delete: add('DELETE') };
}
