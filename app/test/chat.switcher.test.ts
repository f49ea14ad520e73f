/**
 * The quick switcher's type-ahead (app/src/lib/chat/switcher.ts): which chats match what was typed
 * and in what order. The rows come newest first, as the chat list has them.
 */
import t from 'tap';
import { matchChats } from '../src/lib/chat/switcher.ts';

const rows = [
  { name: 'Climbing club', handle: '' },
  { name: 'Carla Díaz', handle: 'carla' },
  { name: 'Oscar Wilde', handle: 'oscar' },
  { name: 'Bob Example', handle: 'carter_b' },
  { name: 'Zoë Ng', handle: 'zoe_n' },
];
const names = (q: string) => matchChats(rows, q).map((r) => r.name);

t.test('a blank query lists every chat in the list\'s order', async (t) => {
  t.same(names(''), rows.map((r) => r.name), 'nothing typed: all, newest first');
  t.same(names('   '), rows.map((r) => r.name), 'spaces count as nothing');
});

t.test('the best match comes first', async (t) => {
  t.same(names('car'), ['Carla Díaz', 'Bob Example', 'Oscar Wilde'], 'a name that starts with it, then a handle that does, then a name containing it');
  t.same(names('wil'), ['Oscar Wilde'], 'a later word of the name that starts with it');
  t.same(names('c'), ['Climbing club', 'Carla Díaz', 'Bob Example', 'Oscar Wilde'], 'names that start with it keep the list\'s order between them');
  t.same(names('zzz'), [], 'nothing matches: nothing');
});

t.test('case, accents and a leading @ do not matter', async (t) => {
  t.same(names('CARLA'), ['Carla Díaz'], 'case');
  t.same(names('diaz'), ['Carla Díaz'], 'accents in the name');
  t.same(names('zoe'), ['Zoë Ng'], 'and the other way round');
  t.same(names('@osc'), ['Oscar Wilde'], 'a handle typed with its @');
});
