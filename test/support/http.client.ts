/**
 * Plain node:http requests with exactly the headers a test gives (Origin, Cookie), and a tiny
 * cookie jar, for driving the HTTP API like a browser or like an attacker.
 */
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: any;
  /** name → value of every Set-Cookie (empty value = cleared). */
  cookies: Record<string, string>;
}

export interface Call {
  method?: string;
  body?: unknown;
  /** Cookie header value. */
  cookie?: string;
  /** Origin header; undefined leaves it out. */
  origin?: string;
  headers?: Record<string, string>;
  /** A body sent as is (set its content-type in headers). */
  rawBody?: string;
}

/** Sends one request to `base + path` and reads the whole answer. */
export function call(base: string, path: string, c: Call = {}): Promise<Answer> {
  const url = new URL(path, base);
  const payload = c.rawBody ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
  const headers: Record<string, string> = { ...c.headers };
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  // Node sends a DELETE's body with neither length nor chunking unless told its length, as a browser always does.
  if (payload !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  if (c.cookie) headers.cookie = c.cookie;
  if (c.origin) headers.origin = c.origin;
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: c.method ?? (payload ? 'POST' : 'GET'), headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {}
        const cookies: Record<string, string> = {};
        for (const sc of res.headers['set-cookie'] ?? []) {
          const [pair] = sc.split(';');
          const eq = pair!.indexOf('=');
          cookies[pair!.slice(0, eq).trim()] = pair!.slice(eq + 1).trim();
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, cookies });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A browser's cookies for one site: remembers Set-Cookie, sends them back. */
export class Jar {
  readonly values = new Map<string, string>();

  update(a: Answer): Answer {
    for (const [k, v] of Object.entries(a.cookies)) {
      if (v === '') this.values.delete(k);
      else this.values.set(k, v);
    }
    return a;
  }

  header(): string | undefined {
    return this.values.size ? [...this.values].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }
}
