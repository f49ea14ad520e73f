import { Model } from 'objection';

/** A person. `handle` is unique and stored lower-case; `id` is what the protocol calls a user id. */
export class UserModel extends Model {
  static override tableName = 'users';

  id!: number;
  /** Null once a deleted account's handle was freed (db/handle.hold.ts). */
  handle!: string | null;
  display_name!: string;
  /** The profile photo: `/api/avatars/<id>` for one uploaded here, a provider's https URL, or null. */
  avatar_url!: string | null;
  created_at!: Date;
  /** Set when the account was deleted (migration 010). */
  deleted_at!: Date | null;
}
