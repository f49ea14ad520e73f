/**
 * Attachments (docs/http-api.md, "Attachments"). An upload is a row of `uploads`, bound to its
 * owner from the start; its bytes are in the blob store under `blob_key` (and an image's thumbnail
 * under `thumb_key`). A message claims it: `claimed_room` and `claimed_msg` (the sender's
 * clientMsgId, so a retry claims the same uploads again) are set before the message is appended,
 * `claimed_seq` once it is stored. Who may fetch it follows from that seq: the room's members who
 * see the message. An upload never claimed, or whose claim never got a seq, is swept after
 * UPLOAD_TTL_MS. `history_messages.attachments` keeps what the message shows of each.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uploads', (t) => {
    t.uuid('id').primary();
    t.integer('owner_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('blob_key', 200).notNullable();
    t.string('thumb_key', 200);
    t.string('name', 400).notNullable();
    t.string('type', 128).notNullable();
    t.string('ext', 16);
    t.bigInteger('size').notNullable();
    t.string('sha256', 64).notNullable();
    t.integer('width');
    t.integer('height');
    t.string('placeholder', 64);
    t.bigInteger('created_at').notNullable();
    t.string('claimed_room', 64);
    t.string('claimed_msg', 64);
    t.bigInteger('claimed_at');
    t.bigInteger('claimed_seq');
  });
  await knex.raw('CREATE INDEX uploads_owner ON uploads (owner_id)');
  await knex.raw('CREATE INDEX uploads_message ON uploads (claimed_room, claimed_seq) WHERE claimed_seq IS NOT NULL');
  await knex.raw('CREATE INDEX uploads_unsettled ON uploads (created_at) WHERE claimed_seq IS NULL');
  await knex.schema.alterTable('history_messages', (t) => {
    t.jsonb('attachments');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('history_messages', (t) => t.dropColumn('attachments'));
  await knex.schema.dropTableIfExists('uploads');
}
