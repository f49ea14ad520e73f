/**
 * Message actions (docs/protocol.md, "Message actions"). Edits, deletions and reactions are entries
 * of the room log (`event` set, body `''`); the commit that stores one also writes its target's
 * current state here, so reads never replay the log:
 *
 * - on every message: `rev` (the seq of the last entry that changed it), `edited_at`, `deleted`
 *   (a tombstone: body `''`, no reactions) and `reactions` ({ emoji: [user ids in order] });
 * - on a reply, only `reply_to` (the original's seq): its preview is read from the original as it is
 *   now, so deleting the original erases the preview too; on a forwarded copy, `forwarded`;
 * - on a change entry, `target_seq`, indexed: deleting a message for everyone erases the bodies of
 *   the `message.edited` entries naming it without a scan of the room.
 *
 * `hidden_messages` (relational, whichever store keeps history) holds "deleted for me".
 *
 * The one-statement append (migration 005) writes plain messages only and leaves these columns at
 * their defaults; replies, forwards and changes go through the store's transaction.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('history_messages', (t) => {
    t.bigInteger('reply_to');
    t.jsonb('forwarded');
    t.bigInteger('target_seq');
    t.bigInteger('rev');
    t.bigInteger('edited_at');
    t.boolean('deleted').notNullable().defaultTo(false);
    t.jsonb('reactions');
  });
  await knex.raw('CREATE INDEX history_messages_target ON history_messages (room_id, target_seq) WHERE target_seq IS NOT NULL');
  await knex.schema.createTable('hidden_messages', (t) => {
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('room_id', 64).notNullable().references('chatrooms.id').onDelete('CASCADE');
    t.bigInteger('seq').notNullable();
    t.timestamp('hidden_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['user_id', 'room_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('hidden_messages');
  await knex.raw('DROP INDEX IF EXISTS history_messages_target');
  await knex.schema.alterTable('history_messages', (t) => {
    for (const c of ['reply_to', 'forwarded', 'target_seq', 'rev', 'edited_at', 'deleted', 'reactions']) t.dropColumn(c);
  });
}
