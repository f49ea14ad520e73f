import t from 'tap';
import { readFileSync } from 'node:fs';
import { CLOSE_CODES, ERROR_CODES } from '../protocol/errors.ts';
import { clientFrameSchema, CLIENT_FRAME_TYPES } from '../protocol/frames.schema.ts';
import { directRoomId } from '../protocol/frames.ts';

t.test('a 1:1 room id sorts the two user ids numerically', async (t) => {
  t.equal(directRoomId(10, 9), '9-10', '9 comes before 10, not after it as text would');
  t.equal(directRoomId(9, 10), '9-10', 'the order of arguments does not matter');
});

t.test('every client frame type is documented in docs/protocol.md', async (t) => {
  const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  for (const type of CLIENT_FRAME_TYPES) t.match(doc, `\`${type}\``, `${type} is documented`);
  for (const type of ['hello', 'message.sent', 'message.new', 'receipt', 'history.page', 'sync.done', 'presence', 'pong', 'error']) {
    t.match(doc, `\`${type}\``, `server frame ${type} is documented`);
  }
});

t.test('every error code and close code is listed in docs/errors.md', async (t) => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    t.match(doc, new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`), `${code} (${status}) is listed`);
  }
  for (const [name, { code }] of Object.entries(CLOSE_CODES)) {
    t.match(doc, new RegExp(`\\|\\s*${code}\\s*\\|\\s*\`${name}\`\\s*\\|`), `close ${code} ${name} is listed`);
  }
});

t.test('the schema refuses what a hostile client might try', async (t) => {
  const refuse = (value: unknown, why: string) => t.notOk(clientFrameSchema.safeParse(value).success, why);
  refuse({ type: 'message.send', to: 2, clientMsgId: 'a', body: { $ne: null } }, 'an operator object as the body');
  refuse({ type: 'message.send', to: { $gt: 0 }, clientMsgId: 'a', body: 'x' }, 'an operator object as the recipient');
  refuse(JSON.parse('{"type":"ping","__proto__":{"admin":true}}'), 'a __proto__ key');
  refuse({ type: 'message.send', to: 2, clientMsgId: 'a', body: 'x', sender: 1 }, 'a spoofed sender');
  refuse({ type: 'message.ack', room: '1-2', seq: -1 }, 'a negative seq');
  refuse({ type: 'message.ack', room: '1-2', seq: 1.5 }, 'a fractional seq');
  refuse({ type: 'history.get', room: '../etc', limit: 5 }, 'a room id outside the charset');
  t.ok(clientFrameSchema.safeParse({ type: 'message.send', to: 2, clientMsgId: 'a-1_B', body: 'hi' }).success, 'a valid send passes');
});
