/**
 * What a node keeps of the privacy of its connected users: their settings, whom they blocked and
 * who blocked them. Loaded once when a user's first socket opens here (one read), kept current by
 * the `privacy` events every node gets on the bus, dropped when their last socket here closes.
 *
 * So every decision on a frame of a connected user is a Map lookup, never a database round trip:
 * whether a message goes to its recipient (the sender's `blockedBy`), whom a typing or receipt
 * event must skip, whether a read receipt is shown. Events that arrive while a user's record is
 * loading are applied on top of what the load read; each carries the new state of what it changes,
 * so applying one twice changes nothing.
 */
import type { PrivacySettings } from '../../../protocol/http.ts';
import type { PrivacyRecord } from '../../../db/privacy.port.ts';
import type { BusEvent } from '../live/bus.port.ts';

/** One connected user's privacy as decisions read it. */
export interface LivePrivacy {
  settings: PrivacySettings;
  /** Users this user blocked. */
  blocked: Set<number>;
  /** Users who blocked this user. */
  blockedBy: Set<number>;
}

type PrivacyEvent = Extract<BusEvent, { kind: 'privacy' }>;

interface Entry {
  live: LivePrivacy | null;
  loading: Promise<LivePrivacy>;
  /** Events that came while loading, applied after it. */
  pending: PrivacyEvent[];
}

export class PrivacyCache {
  readonly #entries = new Map<number, Entry>();
  private readonly load: (user: number) => Promise<PrivacyRecord>;

  /** @param load reads one user's record from the store (PrivacyStore.recordOf) */
  constructor(load: (user: number) => Promise<PrivacyRecord>) {
    this.load = load;
  }

  /** The user's record if this node holds it (they have a socket here and it has loaded). */
  get(user: number): LivePrivacy | undefined {
    return this.#entries.get(user)?.live ?? undefined;
  }

  /** The user's record, loaded on first call; a failed load is forgotten, so the next call tries again. */
  ensure(user: number): Promise<LivePrivacy> {
    const known = this.#entries.get(user);
    if (known) return known.loading;
    const entry: Entry = { live: null, pending: [], loading: undefined as unknown as Promise<LivePrivacy> };
    entry.loading = this.load(user).then(
      (record) => {
        const live: LivePrivacy = { settings: { ...record.settings }, blocked: new Set(record.blocked), blockedBy: new Set(record.blockedBy) };
        entry.live = live;
        for (const event of entry.pending.splice(0)) applyTo(user, live, event);
        return live;
      },
      (err: unknown) => {
        if (this.#entries.get(user) === entry) this.#entries.delete(user);
        throw err;
      },
    );
    this.#entries.set(user, entry);
    return entry.loading;
  }

  /** The user's last socket on this node closed. */
  forget(user: number): void {
    this.#entries.delete(user);
  }

  /** Users on either side of a block with `user`, whom their typing, receipts and presence skip; undefined when none. */
  hideFrom(user: number): number[] | undefined {
    const live = this.get(user);
    if (!live || (live.blocked.size === 0 && live.blockedBy.size === 0)) return undefined;
    return [...new Set([...live.blocked, ...live.blockedBy])];
  }

  /** True unless `user`, connected here, turned read receipts off (then they see nobody's read marks). */
  seesReads(user: number): boolean {
    return this.get(user)?.settings.readReceipts ?? true;
  }

  /** A bus event: updates the records it concerns that this node holds. */
  onEvent(event: BusEvent): void {
    if (event.kind !== 'privacy') return;
    const affected = event.block ? [event.user, event.block.user] : [event.user];
    for (const user of affected) {
      const entry = this.#entries.get(user);
      if (!entry) continue;
      if (entry.live) applyTo(user, entry.live, event);
      else entry.pending.push(event);
    }
  }
}

function applyTo(user: number, live: LivePrivacy, event: PrivacyEvent): void {
  if (event.settings && event.user === user) live.settings = { ...event.settings };
  if (!event.block) return;
  const [set, other] = event.user === user ? [live.blocked, event.block.user] : [live.blockedBy, event.user];
  if (event.block.on) set.add(other);
  else set.delete(other);
}
