/**
 * Deleting an account (docs/http-api.md, "Deleting the account"). The user's row stays, so their
 * messages in other people's chats keep a sender ("Deleted account"), but everything that says who
 * they were is erased from it and `deleted_at` is set. The handle stays on the row for a grace
 * period (DELETED_HANDLE_GRACE_MS), so nobody can take it at once and pass for them; the first
 * sign-up after that sets it to NULL and takes it (several NULLs do not clash in the unique index).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.timestamp('deleted_at', { useTz: true });
  });
  await knex.raw('ALTER TABLE users ALTER COLUMN handle DROP NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex('users').whereNull('handle').update({ handle: knex.raw(`'~' || id`) });
  await knex.raw('ALTER TABLE users ALTER COLUMN handle SET NOT NULL');
  await knex.schema.alterTable('users', (t) => t.dropColumn('deleted_at'));
}
