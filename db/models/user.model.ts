import { Model } from 'objection';

/** A person. `handle` is unique and stored lower-case; `id` is what the protocol calls a user id. */
export class UserModel extends Model {
  static override tableName = 'users';

  id!: number;
  handle!: string;
  display_name!: string;
  created_at!: Date;
}
