/**
 * Who sees what of whom, as pure functions (docs/protocol.md, "Blocking" and "Privacy settings").
 * Used wherever presence and read marks leave the server in a reply: `sync.done`, `group.members`.
 * Live frames apply the same rules on the bus path (chat/chatroom.actor.ts, live/fanout.ts,
 * live/presence.ts).
 */
import type { PrivacySettings } from '../../../protocol/http.ts';
import { DEFAULT_PRIVACY } from '../../../db/privacy.port.ts';

/** What a reply is filtered for: the user it goes to. */
export interface Viewer {
  id: number;
  /** Users on either side of a block with the viewer. */
  blocks: ReadonlySet<number>;
  /** The viewer's contacts: the users they share a 1:1 room with. */
  contacts: ReadonlySet<number>;
  /** False when the viewer turned read receipts off: they see nobody's read marks. */
  seesReads: boolean;
}

/** True when `viewer` may see `subject`'s online state and last seen, under `subject`'s settings. */
export function seesPresence(viewer: Viewer, subject: number, settings: PrivacySettings = DEFAULT_PRIVACY): boolean {
  if (subject === viewer.id) return true;
  if (viewer.blocks.has(subject)) return false;
  return settings.lastSeen === 'everyone' || (settings.lastSeen === 'contacts' && viewer.contacts.has(subject));
}

/**
 * Receipt watermarks as `viewer` may see them: nothing of a user on the other side of a block; a
 * read mark only when both the viewer and its user keep read receipts on, else it counts as
 * delivered. The viewer's own marks are always theirs to see (their devices share their read position).
 */
export function visibleMarks(
  viewer: Viewer,
  marks: { delivered: Record<string, number>; read: Record<string, number> },
  settings: ReadonlyMap<number, PrivacySettings>,
): { delivered: Record<string, number>; read: Record<string, number> } {
  const delivered: Record<string, number> = {};
  const read: Record<string, number> = {};
  for (const key of new Set([...Object.keys(marks.delivered), ...Object.keys(marks.read)])) {
    const user = Number(key);
    const d = marks.delivered[key] ?? 0;
    const r = marks.read[key] ?? 0;
    if (user === viewer.id) {
      delivered[key] = d;
      read[key] = r;
      continue;
    }
    if (viewer.blocks.has(user)) continue;
    if (viewer.seesReads && (settings.get(user) ?? DEFAULT_PRIVACY).readReceipts) {
      delivered[key] = d;
      read[key] = r;
    } else {
      delivered[key] = Math.max(d, r);
    }
  }
  return { delivered, read };
}
