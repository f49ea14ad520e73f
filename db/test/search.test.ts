import t from 'tap';
import { searchContract } from './search.contract.ts';
import { reachableSearchStores } from './search.stores.ts';

for (const { name, open } of reachableSearchStores(t)) {
  t.test(`the ${name} keeps the contract`, async (t) => {
    await searchContract(t, () => open(t));
  });
}
