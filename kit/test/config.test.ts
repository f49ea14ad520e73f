/**
 * The config kit both processes' config.ts are made of: how an environment is parsed, how problems
 * are reported, and what is frozen.
 */
import t from 'tap';
import { z } from 'zod';
import { bool, ConfigError, deepFreeze, int, keysOf, parseEnv, throwIfProblems, url } from '../config.ts';

const schema = z.object({
  PORT: int(3000, 0, 65535),
  DEBUG: bool,
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  NAME: z.string().default('x'),
});

t.test('an environment is parsed with its defaults, empty strings meaning unset', async (t) => {
  t.same(parseEnv(schema, {}), { PORT: 3000, DEBUG: false, NAME: 'x' }, 'every default applies to an empty environment');
  t.same(parseEnv(schema, { PORT: '', DEBUG: '', REDIS_URL: '', NAME: '' }), { PORT: 3000, DEBUG: false, NAME: 'x' }, 'as it does to keys set to the empty string');
  t.same(parseEnv(schema, { PORT: '8080', DEBUG: '1', REDIS_URL: 'rediss://cache:6380', UNRELATED: 'y' }), { PORT: 8080, DEBUG: true, REDIS_URL: 'rediss://cache:6380', NAME: 'x' }, 'values are coerced and keys outside the schema ignored');
  t.equal(parseEnv(schema, { DEBUG: 'true' }).DEBUG, true, 'true is true');
  t.equal(parseEnv(schema, { DEBUG: '0' }).DEBUG, false, '0 is false');
});

t.test('a bad environment is refused with every bad key listed, each on its own line', async (t) => {
  const err = t.throws(() => parseEnv(schema, { PORT: '70000', DEBUG: 'yes', REDIS_URL: 'http://cache' }), ConfigError, 'a ConfigError');
  t.equal((err as Error).name, 'ConfigError', 'named ConfigError');
  const lines = (err as Error).message.split('\n');
  t.equal(lines[0], 'invalid configuration:', 'the first line says what happened');
  t.match(lines.slice(1), [/^ {2}PORT: /, /^ {2}DEBUG: /, /^ {2}REDIS_URL: must be a redis: or rediss: URL$/], 'then one indented line per bad key');
  t.throws(() => parseEnv(schema, { PORT: '1.5' }), /PORT:/, 'an integer key refuses a fraction');
});

t.test('problems found across keys are thrown only when there are some', async (t) => {
  t.doesNotThrow(() => throwIfProblems([]), 'no problems, no error');
  t.throws(() => throwIfProblems(['A: one', 'B: two']), { name: 'ConfigError', message: 'invalid configuration:\n  A: one\n  B: two' }, 'each problem on its own line');
});

t.test('the keys of a schema are listed in order, and the list cannot change', async (t) => {
  const keys = keysOf(schema);
  t.same(keys, ['PORT', 'DEBUG', 'REDIS_URL', 'NAME'], 'every key, in the schema\'s order');
  t.ok(Object.isFrozen(keys), 'frozen');
});

t.test('a configuration is frozen through its plain objects and arrays', async (t) => {
  const origins = new Set(['http://a']);
  const config = deepFreeze({ a: 1, nested: { list: [{ x: 1 }] }, origins });
  t.ok(Object.isFrozen(config), 'the top level is frozen');
  t.ok(Object.isFrozen(config.nested) && Object.isFrozen(config.nested.list) && Object.isFrozen(config.nested.list[0]), 'and every plain object and array inside it');
  t.notOk(Object.isFrozen(origins), 'a Set is left as it is');
});
