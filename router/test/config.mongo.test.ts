import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.ts';

t.test('the MongoDB history waits are configured in ms, with defaults that fail fast', async (t) => {
  t.test('the defaults', async (t) => {
    t.same(
      loadConfig({}).mongo,
      { serverSelectionTimeoutMs: 5000, writeTimeoutMs: 5000, appendTimeoutMs: 10_000, socketTimeoutMs: 30_000, pingTimeoutMs: 1000 },
      'a primary is waited for 5 s, a majority 5 s, an append 10 s, an answer 30 s, a readiness ping 1 s',
    );
  });

  t.test('each key sets its wait', async (t) => {
    const config = loadConfig({
      MONGO_SERVER_SELECTION_TIMEOUT_MS: '2000',
      MONGO_WRITE_TIMEOUT_MS: '3000',
      MONGO_APPEND_TIMEOUT_MS: '8000',
      MONGO_SOCKET_TIMEOUT_MS: '20000',
      MONGO_PING_TIMEOUT_MS: '500',
    });
    t.same(
      config.mongo,
      { serverSelectionTimeoutMs: 2000, writeTimeoutMs: 3000, appendTimeoutMs: 8000, socketTimeoutMs: 20_000, pingTimeoutMs: 500 },
      'every key is read',
    );
  });

  t.test('a socket timeout that would cut off a commit waiting for its majority is refused', async (t) => {
    t.throws(
      () => loadConfig({ MONGO_WRITE_TIMEOUT_MS: '10000', MONGO_SOCKET_TIMEOUT_MS: '10000' }),
      { name: 'ConfigError', message: /MONGO_SOCKET_TIMEOUT_MS: must be longer than MONGO_WRITE_TIMEOUT_MS/ },
      'the process refuses to start and says why',
    );
    t.throws(() => loadConfig({ MONGO_PING_TIMEOUT_MS: 'soon' }), ConfigError, 'a wait that is not a number is refused');
  });
});
