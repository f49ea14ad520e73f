/**
 * JSON bodies at the HTTP edge: reading a request's (with a size limit and a strict Content-Type)
 * and sending an answer no cache keeps. Refusals throw AppError; the app's error handler answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../../protocol/app-error.ts';

/** Largest JSON request body, in bytes. */
export const MAX_JSON_BYTES = 64 * 1024;

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
