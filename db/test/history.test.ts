import knexFactory from 'knex';
import t from 'tap';
import { PgHistoryStore } from '../history.pg.ts';
import { isHistoryContentError } from '../history.port.ts';
import { historyContract } from './history.contract.ts';
import { reachableHistoryStores } from './history.stores.ts';

for (const { name, open } of reachableHistoryStores(t)) {
  t.test(`the ${name} keeps the contract`, async (t) => {
    await historyContract(t, () => open(t));
  });
}

t.test('a PostgreSQL store that cannot reach its server fails as unknown, not as content', async (t) => {
  // Nothing listens on port 1: the connection is refused at once (knex's warning about it is muted).
  const db = knexFactory({ client: 'pg', connection: 'postgres://127.0.0.1:1/none', pool: { min: 0, max: 1 }, log: { warn: () => {} } });
  t.teardown(() => db.destroy());
  const failure = new PgHistoryStore(db).append([{ room: 'r', sender: 1, body: 'b', clientMsgId: 'c' }]);
  await t.rejects(failure, 'the append fails');
  t.notOk(isHistoryContentError(await failure.catch((err: unknown) => err)), 'and is not blamed on its content, so its batch is not split');
});
