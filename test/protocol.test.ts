import t from 'tap';
import { readFileSync } from 'node:fs';
import { CLOSE_CODES, ERROR_CODES } from '../protocol/errors.ts';
import { clientFrameSchema, CLIENT_FRAME_TYPES } from '../protocol/frames.schema.ts';
import { directRoomId, roomKindOf } from '../protocol/frames.ts';

t.test('a 1:1 room id sorts the two user ids numerically', async (t) => {
  t.equal(directRoomId(10, 9), '9-10', '9 comes before 10, not after it as text would');
  t.equal(directRoomId(9, 10), '9-10', 'the order of arguments does not matter');
});

t.test('every client frame type is documented in docs/protocol.md', async (t) => {
  const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  for (const type of CLIENT_FRAME_TYPES) t.match(doc, `\`${type}\``, `${type} is documented`);
  for (const type of ['hello', 'message.sent', 'message.new', 'receipt', 'history.page', 'sync.done', 'presence', 'group.done', 'group.members', 'pong', 'error']) {
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

t.test('a group id can never be a 1:1 id, and the id says the kind', async (t) => {
  t.equal(roomKindOf('g-0192f3c4-7a1b-7c2d-8e3f-0123456789ab'), 'group', 'g- names a group');
  t.equal(roomKindOf(directRoomId(3, 12)), 'direct', 'LOWER-HIGHER names a 1:1 room');
  t.notOk(/^g-/.test(directRoomId(1, 2 ** 31 - 1)), 'a 1:1 id starts with a digit');
});

t.test('group frames: names follow the text rule of names, lists are bounded', async (t) => {
  const ok = (value: unknown, why: string) => t.ok(clientFrameSchema.safeParse(value).success, why);
  const refuse = (value: unknown, why: string) => t.notOk(clientFrameSchema.safeParse(value).success, why);
  ok({ type: 'group.create', name: 'Climbing', members: [2, 3] }, 'a plain create passes');
  ok({ type: 'group.create', name: 'x'.repeat(128), members: [] }, 'a 128-unit name passes');
  refuse({ type: 'group.create', name: 'x'.repeat(129), members: [2] }, 'a 129-unit name is refused');
  refuse({ type: 'group.create', name: '   ', members: [2] }, 'a name of only whitespace is refused');
  refuse({ type: 'group.create', name: '', members: [2] }, 'an empty name is refused');
  refuse({ type: 'group.create', name: 'a\u202Eb', members: [2] }, 'a bidi override in a name is refused');
  refuse({ type: 'group.create', name: 'line\nbreak', members: [2] }, 'a line break in a name is refused');
  refuse({ type: 'group.create', name: 'x', members: Array.from({ length: 1001 }, (_, i) => i + 1) }, 'more than 1000 users is refused');
  refuse({ type: 'group.add', room: 'g-1', users: [] }, 'adding nobody is refused');
  refuse({ type: 'group.role', room: 'g-1', user: 2, role: 'owner' }, 'ownership is not given by group.role');
  refuse({ type: 'group.remove', room: 'g-1', user: 2, by: 1 }, 'an unknown field is refused');
  const parsed = clientFrameSchema.parse({ type: 'group.rename', room: 'g-1', name: '  Cafe\u0301 ' });
  t.equal(parsed.type === 'group.rename' && parsed.name, 'Caf\u00e9', 'a name is stored NFC and trimmed');
});
