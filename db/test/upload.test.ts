import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { KnexRelationalStore } from '../relational.store.ts';
import { openRelational } from '../relational.ts';
import { KnexUploadStore } from '../upload.store.ts';
import type { NewUpload } from '../upload.port.ts';
import { freshPgDatabase, need } from '../../test/support/services.ts';

/** The UploadStore contract; runs on every database the machine has. */
function uploadContract(t: Test, open: () => Promise<Knex>) {
  let store: KnexUploadStore;
  let users: KnexRelationalStore;
  t.before(async () => {
    const knex = await open();
    t.teardown(() => knex.destroy());
    store = new KnexUploadStore(knex);
    users = new KnexRelationalStore(knex);
  });
  const upload = (owner: number, size: number, createdAt = 1000, extra: Partial<NewUpload> = {}): NewUpload => {
    const id = randomUUID();
    return { id, owner, blobKey: `u/${id}`, thumbKey: null, name: 'a.pdf', type: 'application/pdf', ext: 'pdf', size, sha256: 'ab'.repeat(32), createdAt, ...extra };
  };

  t.test('an upload is recorded within the quota and read back whole', async (t) => {
    const a = await users.createUser('ua', 'A');
    const photo = upload(a.id, 600, 1000, { thumbKey: 't/x', type: 'image/png', ext: 'png', width: 4, height: 3, placeholder: 'AbCd' });
    t.ok(await store.create(photo, 1000), 'recorded');
    t.same(await store.get(photo.id), { ...photo, claim: null }, 'read back with every field');
    t.notOk(await store.create(upload(a.id, 401), 1000), 'refused: 600 + 401 is over a quota of 1000');
    t.ok(await store.create(upload(a.id, 400), 1000), 'exactly at the quota is fine');
    t.equal(await store.bytesOf(a.id), 1000, 'the owner holds 1000 bytes');
    t.equal(await store.get(randomUUID()), null, 'an unknown id is null');
  });

  t.test('a claim is all or none, only the owner\'s, repeatable by the same message', async (t) => {
    const [a, b] = [await users.createUser('ub', 'B'), await users.createUser('uc', 'C')];
    const [x, y, z] = [upload(a.id, 1), upload(a.id, 1), upload(b.id, 1)];
    for (const u of [x, y, z]) await store.create(u, 1e9);
    const claim = { room: 'r1', clientMsgId: 'm1', at: 5 };
    t.equal(await store.claim(a.id, [x.id, z.id], claim), null, 'someone else\'s upload: refused');
    t.equal((await store.get(x.id))!.claim, null, 'nothing half-applied');
    t.equal(await store.claim(a.id, [x.id, randomUUID()], claim), null, 'an unknown upload: refused');
    t.equal(await store.claim(a.id, [x.id, x.id], claim), null, 'one upload twice: refused');
    t.same((await store.claim(a.id, [y.id, x.id], claim))!.map((u) => u.id), [y.id, x.id], 'claimed, in the order asked');
    t.ok(await store.claim(a.id, [y.id, x.id], claim), 'the same message claims them again (a retry)');
    t.equal(await store.claim(a.id, [x.id], { ...claim, clientMsgId: 'm2' }), null, 'another message cannot');
    await store.settle([x.id, y.id], 'r1', 'm1', 7);
    t.same((await store.ofMessage('r1', 7)).map((u) => u.id).sort(), [x.id, y.id].sort(), 'the stored message has both');
    t.same((await store.get(x.id))!.claim, { room: 'r1', clientMsgId: 'm1', at: 5, seq: 7 }, 'the claim has its seq');
    await store.release([x.id], 'r1', 'm1');
    t.equal((await store.get(x.id))!.claim?.seq, 7, 'a stored message\'s uploads are never released');
  });

  t.test('a refused message gives its uploads back', async (t) => {
    const a = await users.createUser('ud', 'D');
    const x = upload(a.id, 1);
    await store.create(x, 1e9);
    await store.claim(a.id, [x.id], { room: 'r2', clientMsgId: 'm', at: 5 });
    await store.release([x.id], 'r2', 'm');
    t.equal((await store.get(x.id))!.claim, null, 'unclaimed again');
    t.ok(await store.claim(a.id, [x.id], { room: 'r3', clientMsgId: 'n', at: 6 }), 'and claimable by another message');
  });

  t.test('the sweep finds uploads never sent, and claims never stored, past the cutoff', async (t) => {
    const a = await users.createUser('ue', 'E');
    const [old, young, stuck, sent] = [upload(a.id, 1, 100), upload(a.id, 1, 900), upload(a.id, 1, 100), upload(a.id, 1, 100)];
    for (const u of [old, young, stuck, sent]) await store.create(u, 1e9);
    await store.claim(a.id, [stuck.id], { room: 'r4', clientMsgId: 'm', at: 200 });
    await store.claim(a.id, [sent.id], { room: 'r4', clientMsgId: 'n', at: 200 });
    await store.settle([sent.id], 'r4', 'n', 1);
    const found = (await store.unsettledBefore(500, 100)).map((u) => u.id).filter((id) => [old, young, stuck, sent].some((u) => u.id === id));
    t.same(found.sort(), [old.id, stuck.id].sort(), 'the old unclaimed one and the stuck claim, not the young or the sent one');
    await store.remove([old.id, stuck.id]);
    t.equal(await store.get(old.id), null, 'removed');
  });
}

t.test('the upload store on PGlite', async (t) => uploadContract(t, () => openRelational({})));

t.test('the upload store on PostgreSQL', async (t) => {
  const url = need(t, 'DATABASE_URL', 'PostgreSQL upload store');
  if (!url) return;
  const databaseUrl = await freshPgDatabase(t, url);
  uploadContract(t, () => openRelational({ databaseUrl }));
});
