import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Web-push subscriptions (PushSubscription.toJSON() of the browser), one row per endpoint.
  await knex.schema.createTable('push_subscriptions', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    // An endpoint identifies one browser's subscription; re-subscribing moves it to the new user.
    t.text('endpoint').notNullable().unique();
    t.string('p256dh', 128).notNullable();
    t.string('auth', 64).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_success_at', { useTz: true });
    t.index(['user_id']);
  });

  // E-mail digests: the address, the opt-out (the unsubscribe link's token), the last digest sent.
  await knex.schema.createTable('notification_prefs', (t) => {
    t.integer('user_id').primary().references('users.id').onDelete('CASCADE');
    t.string('email', 320);
    t.boolean('email_digest').notNullable().defaultTo(true);
    t.string('unsubscribe_token', 64).notNullable().unique();
    t.timestamp('last_digest_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('notification_prefs');
  await knex.schema.dropTableIfExists('push_subscriptions');
}
