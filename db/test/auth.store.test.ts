/**
 * The AuthStore's conflicts: each way a write can take what someone holds already rejects with its
 * own error class from store.errors.ts, and a passkey is renamed only by its owner, on every
 * database the machine has.
 */
import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import type { NewPasskey } from '../auth.port.ts';
import { KnexAuthStore } from '../auth.store.ts';
import { openRelational } from '../relational.ts';
import { HandleTakenError, IdentityTakenError, PasskeyTakenError } from '../store.errors.ts';
import { freshPgDatabase, need } from '../../test/support/services.ts';

const passkey = (id: string): NewPasskey => ({ id, publicKey: new Uint8Array([1, 2, 3]), counter: 0, transports: ['internal'], deviceType: 'multiDevice', backedUp: true, name: 'Laptop' });
const identity = (subject: string) => ({ provider: 'github', subject, email: null, displayName: null });

function conflicts(t: Test, open: () => Promise<Knex>) {
  let store: KnexAuthStore;
  t.before(async () => {
    const knex = await open();
    t.teardown(() => knex.destroy());
    store = new KnexAuthStore(knex);
  });

  t.test('signing up with a taken handle (in any case) is a HandleTakenError', async (t) => {
    await store.createUserWithPasskey({ handle: 'carol', displayName: 'Carol', webauthnId: 'w-carol' }, passkey('cred-carol'));
    await t.rejects(store.createUserWithPasskey({ handle: 'CAROL', displayName: 'C', webauthnId: 'w-carol2' }, passkey('cred-carol2')), HandleTakenError, 'with a passkey');
    await t.rejects(store.createUserWithIdentity({ handle: 'Carol', displayName: 'C', avatarUrl: null }, identity('s-carol2')), HandleTakenError, 'with a provider account');
    t.equal(await store.getPasskey('cred-carol2'), null, 'the refused sign-up stored no passkey');
    t.equal(await store.findIdentity('github', 's-carol2'), null, 'nor an identity');
  });

  t.test('a passkey whose credential is stored already is a PasskeyTakenError, for anyone', async (t) => {
    const dave = await store.createUserWithPasskey({ handle: 'dave', displayName: 'Dave', webauthnId: 'w-dave' }, passkey('cred-dave'));
    const erin = await store.createUserWithPasskey({ handle: 'erin', displayName: 'Erin', webauthnId: 'w-erin' }, passkey('cred-erin'));
    await t.rejects(store.addPasskey(erin.id, passkey('cred-dave')), PasskeyTakenError, "adding another user's credential");
    await t.rejects(store.addPasskey(dave.id, passkey('cred-dave')), PasskeyTakenError, 'adding one of the same user again');
    await t.rejects(store.createUserWithPasskey({ handle: 'frank', displayName: 'Frank', webauthnId: 'w-frank' }, passkey('cred-dave')), PasskeyTakenError, 'signing up with it');
    t.equal(await store.profileByHandle('frank'), null, 'the refused sign-up created no user');
  });

  t.test('a provider account linked already is an IdentityTakenError', async (t) => {
    const gina = await store.createUserWithIdentity({ handle: 'gina', displayName: 'Gina', avatarUrl: null }, identity('s-gina'));
    const hal = await store.createUserWithIdentity({ handle: 'hal', displayName: 'Hal', avatarUrl: null }, identity('s-hal'));
    await t.rejects(store.linkIdentity(hal.id, identity('s-gina')), IdentityTakenError, "linking another user's provider account");
    await t.rejects(store.createUserWithIdentity({ handle: 'ivy', displayName: 'Ivy', avatarUrl: null }, identity('s-gina')), IdentityTakenError, 'signing up with it');
    t.equal((await store.findIdentity('github', 's-gina'))?.userId, gina.id, 'it stays with its owner');
  });

  t.test('a passkey is renamed by its owner only', async (t) => {
    const jo = await store.createUserWithPasskey({ handle: 'jo', displayName: 'Jo', webauthnId: 'w-jo' }, passkey('cred-jo'));
    const kim = await store.createUserWithPasskey({ handle: 'kim', displayName: 'Kim', webauthnId: 'w-kim' }, passkey('cred-kim'));
    const renamed = await store.renamePasskey(jo.id, 'cred-jo', 'Work laptop');
    t.match(renamed, { id: 'cred-jo', name: 'Work laptop', deviceType: 'multiDevice', backedUp: true }, 'the owner renames it and gets it back as stored');
    t.equal((await store.listPasskeys(jo.id))[0]?.name, 'Work laptop', 'the list shows the new name');
    t.equal(await store.renamePasskey(kim.id, 'cred-jo', 'Mine now'), null, 'someone else cannot rename it');
    t.equal(await store.renamePasskey(jo.id, 'cred-nobody', 'X'), null, 'an unknown id renames nothing');
    t.equal((await store.listPasskeys(jo.id))[0]?.name, 'Work laptop', 'the name stays the owner\'s');
  });
}

t.test('the auth store on PGlite', async (t) => conflicts(t, () => openRelational({})));

t.test('the auth store on PostgreSQL', async (t) => {
  const url = need(t, 'DATABASE_URL', 'PostgreSQL auth store');
  if (!url) return;
  const databaseUrl = await freshPgDatabase(t, url);
  conflicts(t, () => openRelational({ databaseUrl }));
});
