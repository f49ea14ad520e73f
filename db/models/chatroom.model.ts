import { Model, type RelationMappings } from 'objection';
import { MembershipModel } from './membership.model.ts';

/** A conversation. A 1:1 room's id is `LOWER-HIGHER` of its two members' ids. */
export class ChatroomModel extends Model {
  static override tableName = 'chatrooms';

  id!: string;
  kind!: 'direct' | 'group';
  created_at!: Date;
  memberships?: MembershipModel[];

  static override get relationMappings(): RelationMappings {
    return {
      memberships: {
        relation: Model.HasManyRelation,
        modelClass: MembershipModel,
        join: { from: 'chatrooms.id', to: 'memberships.room_id' },
      },
    };
  }
}
