import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    // Stored lower-case: handles are unique regardless of case.
    t.string('handle', 32).notNullable().unique();
    t.string('display_name', 64).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('chatrooms', (t) => {
    t.string('id', 64).primary();
    t.string('kind', 16).notNullable().defaultTo('direct');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('memberships', (t) => {
    t.string('room_id', 64).notNullable().references('chatrooms.id').onDelete('CASCADE');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    // Receipt watermarks: the highest seq this member's devices acknowledged / read.
    t.bigInteger('delivered_seq').notNullable().defaultTo(0);
    t.bigInteger('read_seq').notNullable().defaultTo(0);
    t.timestamp('joined_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['room_id', 'user_id']);
    t.index(['user_id']);
  });

  // The PostgreSQL history store (db/history.pg.ts). Unused, but harmless, when MongoDB keeps history.
  await knex.schema.createTable('history_rooms', (t) => {
    t.string('room_id', 64).primary();
    t.bigInteger('last_seq').notNullable();
  });
  await knex.schema.createTable('history_messages', (t) => {
    t.string('room_id', 64).notNullable();
    t.bigInteger('seq').notNullable();
    t.uuid('id').notNullable().unique();
    t.integer('sender').notNullable();
    t.text('body').notNullable();
    t.string('client_msg_id', 64).notNullable();
    t.bigInteger('ts').notNullable();
    t.primary(['room_id', 'seq']);
    t.unique(['room_id', 'sender', 'client_msg_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['history_messages', 'history_rooms', 'memberships', 'chatrooms', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
