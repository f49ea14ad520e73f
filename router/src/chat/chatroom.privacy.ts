/**
 * What a room actor decides about blocks and privacy (docs/protocol.md, "Blocking" and "Privacy
 * settings"): from whom a sender's entry is withheld, whether a reply may quote, and a group's
 * watermarks as one member may see them. Every check on the path of a message reads this node's
 * PrivacyCache, never the store; only replies and `group.members` read it.
 */
import type { PrivacyStore } from '../../../db/privacy.port.ts';
import type { Watermarks } from '../../../db/relational.port.ts';
import type { PrivacyCache } from '../privacy/privacy.cache.ts';
import { visibleMarks, type Viewer } from '../privacy/privacy.rules.ts';

export interface RoomPrivacyDeps {
  privacy: Pick<PrivacyCache, 'get' | 'hideFrom'>;
  withheld: Pick<PrivacyStore, 'withheldIn' | 'settingsOf'>;
}

/** The part of a loaded room these read. */
interface DirectOrGroup {
  id: string;
  members: number[];
  /** Set for a group. */
  group?: unknown;
}

/** A group's watermarks as `viewer` may see them (privacy/privacy.rules.ts): one read of the members' settings. */
export async function marksFor(viewer: number, marks: Watermarks, members: readonly number[], deps: RoomPrivacyDeps): Promise<Watermarks> {
  const live = deps.privacy.get(viewer);
  const view: Viewer = { id: viewer, blocks: new Set(deps.privacy.hideFrom(viewer) ?? []), contacts: new Set(), seesReads: live?.settings.readReceipts ?? true };
  return visibleMarks(view, marks, await deps.withheld.settingsOf(members));
}

/**
 * Whether a reply in a 1:1 room may quote `seq`: `unseen` when it was withheld from the sender
 * (they cannot see it), `hidden` when from the other member (the reply goes without its quote, which
 * would show them what was withheld), else `yes`. Only replies pay these reads.
 */
export async function quotable(room: DirectOrGroup, sender: number, seq: number, deps: RoomPrivacyDeps): Promise<'yes' | 'unseen' | 'hidden'> {
  if (room.group) return 'yes';
  const other = room.members.find((m) => m !== sender);
  const [mine, theirs] = await Promise.all([deps.withheld.withheldIn(sender, room.id, seq, seq), other === undefined ? [] : deps.withheld.withheldIn(other, room.id, seq, seq)]);
  return mine.length > 0 ? 'unseen' : theirs.length > 0 ? 'hidden' : 'yes';
}

/**
 * The member a message or change of `sender` is withheld from: in a 1:1 room, the other member
 * when they blocked the sender (read from the sender's own record on this node, no store read).
 */
export function blockerOf(room: DirectOrGroup, sender: number, deps: RoomPrivacyDeps): number | undefined {
  if (room.group) return undefined;
  const other = room.members.find((m) => m !== sender);
  return other !== undefined && deps.privacy.get(sender)?.blockedBy.has(other) ? other : undefined;
}
