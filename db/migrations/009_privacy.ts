/**
 * Privacy and safety (docs/protocol.md, "Blocking" and "Privacy settings"):
 *
 * - `blocks`: who blocked whom, one row per pair and direction; read by the blocker (their list)
 *   and by the blocked (a node loads both sides of a connected user), hence the second index.
 * - `privacy_settings`: a row only for a user who changed a default (last seen and online shown to
 *   everyone, read receipts on); a missing row is the defaults.
 * - `hidden_messages.withheld`: an entry a blocked user wrote into their blocker's 1:1 room is
 *   hidden for the blocker as "delete for me" is, and marked withheld: the blocker's devices get
 *   it only as a stub without its content, for good (unblocking does not deliver it).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('blocks', (t) => {
    t.integer('blocker_id').notNullable().references('users.id').onDelete('CASCADE');
    t.integer('blocked_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['blocker_id', 'blocked_id']);
    t.index(['blocked_id']);
  });
  await knex.raw('ALTER TABLE blocks ADD CONSTRAINT blocks_not_self CHECK (blocker_id <> blocked_id)');
  await knex.schema.createTable('privacy_settings', (t) => {
    t.integer('user_id').primary().references('users.id').onDelete('CASCADE');
    t.string('last_seen', 16).notNullable().defaultTo('everyone');
    t.boolean('read_receipts').notNullable().defaultTo(true);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw("ALTER TABLE privacy_settings ADD CONSTRAINT privacy_last_seen CHECK (last_seen IN ('everyone', 'contacts', 'nobody'))");
  await knex.schema.alterTable('hidden_messages', (t) => {
    t.boolean('withheld').notNullable().defaultTo(false);
  });
  await knex.raw('CREATE INDEX hidden_messages_withheld ON hidden_messages (user_id, room_id, seq) WHERE withheld');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS hidden_messages_withheld');
  await knex.schema.alterTable('hidden_messages', (t) => t.dropColumn('withheld'));
  await knex.schema.dropTableIfExists('privacy_settings');
  await knex.schema.dropTableIfExists('blocks');
}
