/**
 * Group chats (docs/protocol.md, "Groups"). Two sides, as for every room:
 *
 * - The relational side is what queries read (a user's rooms, members with roles, who may see which
 *   seqs, watermarks, mutes): a room's kind, name and creator, and per membership a role, the seq
 *   that made it (joined_seq) and the one that ended it (left_seq; null while a member). It is a
 *   projection of the log's events, written after them; `changed_seq` and `name_seq` make writing an
 *   event twice, or two events out of order, harmless.
 * - The history side decides: `history_group_members` holds a group's current members next to its
 *   seq counter, and every append to a group checks and changes them in the commit that assigns the
 *   seq, so the log orders every race (docs/protocol.md, "Ordering: one log decides").
 *
 * Existing rows are 1:1 rooms: their new columns keep defaults that mean "member from the start".
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('chatrooms', (t) => {
    t.string('name', 128);
    t.integer('creator').references('users.id').onDelete('SET NULL');
    t.bigInteger('name_seq').notNullable().defaultTo(0);
    // The highest seq of a membership event written here: compared with the log's to repair a lag.
    t.bigInteger('members_seq').notNullable().defaultTo(0);
  });
  await knex.schema.alterTable('memberships', (t) => {
    t.string('role', 8);
    t.bigInteger('joined_seq').notNullable().defaultTo(0);
    t.bigInteger('left_seq');
    t.bigInteger('changed_seq').notNullable().defaultTo(0);
    t.boolean('muted').notNullable().defaultTo(false);
  });
  await knex.schema.alterTable('history_messages', (t) => {
    t.jsonb('event');
  });
  await knex.schema.alterTable('history_rooms', (t) => {
    // The seq of the last entry that changed the group's members (0: none, or not a group).
    t.bigInteger('members_version').notNullable().defaultTo(0);
  });
  await knex.schema.createTable('history_group_members', (t) => {
    t.string('room_id', 64).notNullable();
    t.integer('user_id').notNullable();
    t.string('role', 8).notNullable();
    t.bigInteger('joined_seq').notNullable();
    t.primary(['room_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('history_group_members');
  await knex.schema.alterTable('history_rooms', (t) => t.dropColumn('members_version'));
  await knex.schema.alterTable('history_messages', (t) => t.dropColumn('event'));
  await knex.schema.alterTable('memberships', (t) => {
    for (const c of ['role', 'joined_seq', 'left_seq', 'changed_seq', 'muted']) t.dropColumn(c);
  });
  await knex.schema.alterTable('chatrooms', (t) => {
    for (const c of ['name', 'creator', 'name_seq', 'members_seq']) t.dropColumn(c);
  });
}
