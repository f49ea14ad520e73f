/**
 * A group's photo (docs/http-api.md, "Avatars"): `/api/avatars/<id>` of a blob in the blob store,
 * or null. Set by the group's owner or admins; the group's summary in `sync.done` carries it.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('chatrooms', (t) => {
    t.text('avatar_url');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('chatrooms', (t) => t.dropColumn('avatar_url'));
}
