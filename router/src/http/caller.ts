/**
 * Shared plumbing for HTTP handlers: who is calling (the session cookie), whether a state-changing
 * request comes from our own origin, and JSON bodies with a size limit. Handlers call these and
 * throw AppError; the app's error handler turns that into `{ error: { code, message } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from '../../../db/session.port.ts';
import type { UserRecord } from '../../../db/relational.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { RouterContext } from '../router.context.ts';
import { sessionIdFrom } from '../auth/cookies.ts';

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

/**
 * Reads a JSON body of at most MAX_JSON_BYTES: another Content-Type is `unsupported_media_type`,
 * a bigger body `payload_too_large`, one that does not parse `invalid_request`.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!isJsonMediaType(req.headers['content-type'])) throw new AppError('unsupported_media_type');
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

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const PARAMETER = `(${TOKEN})=(${TOKEN}|"(?:[^"\\\\]|\\\\.)*")`;
/** RFC 9110 media-type: type "/" subtype *( OWS ";" OWS [ name=value ] ), nothing else. */
const MEDIA_TYPE = new RegExp(`^(${TOKEN}/${TOKEN})((?:[ \\t]*;[ \\t]*(?:${PARAMETER})?)*)[ \\t]*$`);

/**
 * True when a Content-Type is application/json: type and subtype in any case, parameters allowed,
 * and a charset, if given, of UTF-8 (JSON is UTF-8: RFC 8259). Nothing else is JSON here: not a
 * prefix (`application/jsonx`) and not a structured-syntax type (`application/merge-patch+json`),
 * which no route speaks.
 */
export function isJsonMediaType(header: string | undefined): boolean {
  const match = header === undefined ? null : MEDIA_TYPE.exec(header);
  if (!match || match[1]!.toLowerCase() !== 'application/json') return false;
  for (const [, name, value] of match[2]!.matchAll(new RegExp(PARAMETER, 'g'))) {
    const unquoted = value!.startsWith('"') ? value!.slice(1, -1).replace(/\\(.)/g, '$1') : value!;
    if (name!.toLowerCase() === 'charset' && !['utf-8', 'utf8'].includes(unquoted.toLowerCase())) return false;
  }
  return true;
}

/** Sends a JSON response that no cache keeps. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
