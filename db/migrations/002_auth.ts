/**
 * Sign-in: passkeys (WebAuthn credentials) and identities at OAuth providers, both owned by a user,
 * plus the profile's avatar and the user's WebAuthn user handle.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.text('avatar_url');
    // The opaque user handle authenticators store with a discoverable credential (base64url, 32 random
    // bytes), so a passkey never carries the numeric id. Null until the user's first passkey.
    t.string('webauthn_id', 64).unique();
  });

  await knex.schema.createTable('passkeys', (t) => {
    // The credential id as the browser reports it (base64url); globally unique by WebAuthn's design.
    t.string('id', 1400).primary();
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.binary('public_key').notNullable();
    // The signature counter last seen; a response with a counter not above it is a cloned key.
    t.bigInteger('counter').notNullable().defaultTo(0);
    t.specificType('transports', 'text[]').notNullable().defaultTo('{}');
    t.string('device_type', 16).notNullable();
    t.boolean('backed_up').notNullable();
    t.string('name', 64).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.index(['user_id']);
  });

  await knex.schema.createTable('identities', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('provider', 32).notNullable();
    // The provider's immutable user id (OIDC `sub`, GitHub's numeric id, Yandex's id): never the e-mail.
    t.string('subject', 255).notNullable();
    t.string('email', 320);
    t.string('display_name', 128);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['provider', 'subject']);
    t.index(['user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('identities');
  await knex.schema.dropTableIfExists('passkeys');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('webauthn_id');
    t.dropColumn('avatar_url');
  });
}
