/**
 * Structured logs: one JSON line per event, for log collectors. Message bodies, cookies and tokens
 * are never logged; the redaction list is a second line of defence for objects that carry them by
 * accident. A person at a terminal gets the same events as plain lines instead (`text`).
 */
import pino, { type DestinationStream, type Logger } from 'pino';

/** `json`: one JSON object per line (production, files, collectors); `text`: a plain line per event, for a person. */
export type LogFormat = 'json' | 'text';

/** Creates the process logger at `level`, writing `format` to stdout (default json). */
export function createLogger(level: string, base: Record<string, unknown> = {}, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: { ...base, pid: process.pid },
    redact: { paths: ['*.body', '*.cookie', 'headers.cookie', '*.token', '*.password'], censor: '[redacted]' },
  };
  return format === 'text' ? pino(options, textDestination(process.stdout)) : pino(options);
}

/** Writes each of pino's JSON lines to `out` as a line of text (textLine). */
export function textDestination(out: { write(chunk: string): unknown }): DestinationStream {
  return { write: (line: string) => void out.write(textLine(line)) };
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * One of pino's JSON lines as a person reads it: `14:02:07 warn  redis error: connect ECONNREFUSED
 * (node=a-1)`: the time, the level, the message, an error's message (and its stack from `error`
 * up), then the other fields. The process's own fields (pid, node, worker) are left out.
 */
export function textLine(json: string): string {
  const { level, time, msg, err, pid: _pid, node: _node, worker: _worker, hostname: _host, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const label = LEVELS[level as number] ?? String(level);
  const clock = new Date(typeof time === 'number' ? time : Date.now()).toTimeString().slice(0, 8);
  const error = err as { message?: string; stack?: string } | undefined;
  let line = `${clock} ${label.padEnd(5)} ${String(msg ?? '')}`;
  if (error?.message) line += `: ${error.message}`;
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (rest.length > 0) line += ` (${rest.join(', ')})`;
  if (error?.stack && (level as number) >= 50) line += `\n${error.stack.replace(/^/gm, '    ')}`;
  return `${line}\n`;
}

export type { Logger };
