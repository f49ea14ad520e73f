import { Model } from 'objection';

/** A user's place in a room, with the receipt watermarks of that user's devices. */
export class MembershipModel extends Model {
  static override tableName = 'memberships';
  static override get idColumn() {
    return ['room_id', 'user_id'];
  }

  room_id!: string;
  user_id!: number;
  delivered_seq!: number;
  read_seq!: number;
  joined_at!: Date;
}
