/**
 * Shared plumbing for HTTP handlers: who is calling (the session cookie), whether a state-changing
 * request comes from our own origin, and JSON bodies with a size limit. Handlers call these and
 * throw AppError; the app's error handler turns that into `{ error: { code, message } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from '../../db/session.port.ts';
import type { UserRecord } from '../../db/relational.port.ts';
import { AppError } from './app-error.ts';
import type { RouterContext } from './router.context.ts';
import { sessionIdFrom } from './session.cookie.ts';

/** Largest JSON request body, in bytes. */
export const MAX_JSON_BYTES = 64 * 1024;

export interface Caller {
  user: UserRecord;
  session: Session;
}

/** The signed-in caller, or null. Renews the session (sliding expiry) as a side effect. */
export async function callerOf(req: IncomingMessage, ctx: RouterContext): Promise<Caller | null> {
  const { sessions } = ctx;
  const id = sessionIdFrom(req.headers.cookie);
  const session = id ? await sessions.get(id) : null;
  if (!session) return null;
  const user = await ctx.relational.getUser(session.userId);
  if (!user) return null;
  void sessions.touch(session.id, ctx.config.sessionTtlMs).catch((err) => ctx.log.warn({ err }, 'session touch failed'));
  return { user, session };
}

/** The signed-in caller; throws `unauthenticated` otherwise. */
export async function requireCaller(req: IncomingMessage, ctx: RouterContext): Promise<Caller> {
  const caller = await callerOf(req, ctx);
  if (!caller) throw new AppError('unauthenticated');
  return caller;
}

/**
 * Refuses a state-changing request (anything but GET/HEAD/OPTIONS) whose Origin is not one of
 * ours: SameSite=Lax already keeps the cookie off most cross-site POSTs, this closes the rest.
 */
export function requireSameOrigin(req: IncomingMessage, ctx: RouterContext): void {
  if (['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? 'GET')) return;
  if (!ctx.config.allowedOrigins.has(req.headers.origin ?? '')) throw new AppError('forbidden_origin');
}

/** Reads a JSON body of at most MAX_JSON_BYTES; anything else is `invalid_request` or `payload_too_large`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new AppError('invalid_request', 'the body must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) throw new AppError('payload_too_large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AppError('invalid_request', 'the body is not valid JSON');
  }
}

/** Sends a JSON response that no cache keeps. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
