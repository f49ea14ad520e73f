/**
 * The logger's two formats: JSON lines for collectors, and for a person at a terminal the same
 * events as plain lines, redacted alike.
 */
import t from 'tap';
import pino from 'pino';
import { textDestination, textLine } from '../logger.ts';

const at = Date.UTC(2030, 0, 2, 3, 4, 5);

t.test('a JSON line becomes time, level, message, then the fields', async (t) => {
  const line = textLine(JSON.stringify({ level: 40, time: at, pid: 7, node: 'a-1', msg: 'redis error', attempts: 3, link: 'bus' }));
  t.match(line, /^\d\d:\d\d:\d\d warn  redis error \(attempts=3, link=bus\)\n$/, 'one line, the process fields (pid, node) left out');
});

t.test("an error gives its message, and its stack from the error level up", async (t) => {
  const err = { type: 'Error', message: 'connect ECONNREFUSED', stack: 'Error: connect ECONNREFUSED\n    at x (y.ts:1:1)' };
  t.match(textLine(JSON.stringify({ level: 40, time: at, msg: 'redis error', err })), /^\S+ warn  redis error: connect ECONNREFUSED\n$/, 'a warning: the message only');
  const error = textLine(JSON.stringify({ level: 50, time: at, msg: 'request failed', err }));
  t.match(error, /^\S+ error request failed: connect ECONNREFUSED\n {4}Error: connect ECONNREFUSED\n {8}at x \(y\.ts:1:1\)\n$/, 'an error: the stack, indented, under it');
});

t.test('the text destination gets what pino logs, redacted as the JSON is', async (t) => {
  const written: string[] = [];
  const log = pino({ level: 'info', redact: { paths: ['*.cookie'], censor: '[redacted]' } }, textDestination({ write: (s: string) => written.push(s) }));
  log.info({ req: { cookie: 'sid=secret' } }, 'request');
  log.debug('not at info');
  t.equal(written.length, 1, 'one line per event at the level');
  t.match(written[0], /info  request \(req=\{"cookie":"\[redacted\]"\}\)/, 'the cookie is redacted');
  t.notMatch(written.join(''), /secret/, 'the secret never reaches the terminal');
});
