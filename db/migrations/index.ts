/**
 * The migrations, listed in code rather than discovered on disk, so they run the same under tsx,
 * in a container and in tests. Append new ones; never edit one that has shipped.
 */
import type { Knex } from 'knex';
import * as m001 from './001_users_rooms_history.ts';
import * as m002 from './002_auth.ts';
import * as m003 from './003_push.ts';
import * as m004 from './004_history_id_not_indexed.ts';
import * as m005 from './005_history_append_function.ts';
import * as m006 from './006_groups.ts';
import * as m007 from './007_message_actions.ts';
import * as m008 from './008_search.ts';
import * as m009 from './009_privacy.ts';
import * as m010 from './010_account_deletion.ts';
import * as m011 from './011_attachments.ts';
import * as m012 from './012_group_avatars.ts';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const all: Record<string, Migration> = {
  '001_users_rooms_history': m001,
  '002_auth': m002,
  '003_push': m003,
  '004_history_id_not_indexed': m004,
  '005_history_append_function': m005,
  '006_groups': m006,
  '007_message_actions': m007,
  '008_search': m008,
  '009_privacy': m009,
  '010_account_deletion': m010,
  '011_attachments': m011,
  '012_group_avatars': m012,
};

export const migrations: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(all),
  getMigrationName: (name) => name,
  getMigration: async (name) => all[name]!,
};
