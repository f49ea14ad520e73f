/**
 * Each node's view of its groups' members, for fan-out: a group event on the bus carries no member
 * list (a thousand ids per event per node would be parsed by every node), so each node keeps one set
 * per group, loaded once from the relational store and then kept current by the membership events
 * passing through the bus. An event stored under a newer membership than the node knows (its
 * `version`) makes the node reload first; events of a group wait, in order, while it loads.
 *
 * Best effort, like all live delivery: `sync` and history decide what a member sees.
 */
import type { Message } from '../../../protocol/frames.ts';
import { membershipChange } from '../chat/group.rules.ts';

/** A group's members as the relational store has them, and the seq of the last membership event written there. */
export type LoadMembers = (room: string) => Promise<{ members: number[]; version: number } | null>;

interface Entry {
  members: Set<number>;
  /** The membership version the members reflect (at least). */
  version: number;
  /** The version loaded from the store: membership events at or below it are in `members` already. */
  base: number;
  /** Per user, the seq of the last change applied to them. */
  changed: Map<number, number>;
  /** While loading: what waits for it, in order. */
  waiting: Array<() => void> | null;
}

export class GroupMembers {
  readonly #rooms = new Map<string, Entry>();

  /** @param onError told when a load fails; the waiting events are then delivered to nobody. */
  private readonly load: LoadMembers;
  private readonly onError: (err: unknown, room: string) => void;

  constructor(load: LoadMembers, onError: (err: unknown, room: string) => void) {
    this.load = load;
    this.onError = onError;
  }

  /**
   * Calls `deliver` with the members who should get an event of `room`: `entry` is the log entry of
   * a message event (its membership change is applied: additions before delivery, so a new member
   * gets their own `member.added`; removals after, so the removed member gets their removal), and
   * `version` the membership version it was stored under (reload when this node is behind).
   */
  route(room: string, deliver: (members: ReadonlySet<number>) => void, entry?: Message, version?: number): void {
    const known = this.#rooms.get(room);
    if (!known) {
      const fresh: Entry = { members: new Set(), version: 0, base: 0, changed: new Map(), waiting: [] };
      this.#rooms.set(room, fresh);
      this.#reload(room, fresh);
      fresh.waiting!.push(() => this.#deliver(fresh, deliver, entry));
      return;
    }
    if (known.waiting) {
      known.waiting.push(() => this.#deliver(known, deliver, entry));
      return;
    }
    // A change is applied by its own seq, user by user, so changes need no order; a message stored
    // under a membership this node has not seen yet waits for a reload.
    if (!(entry && changeOf(entry)) && (version ?? 0) > known.version) {
      known.waiting = [() => this.#deliver(known, deliver, entry)];
      this.#reload(room, known);
      return;
    }
    this.#deliver(known, deliver, entry);
  }

  #deliver(e: Entry, deliver: (members: ReadonlySet<number>) => void, entry?: Message): void {
    const change = entry ? changeOf(entry) : undefined;
    const seq = entry?.seq ?? 0;
    const applies = (user: number) => seq > e.base && seq > (e.changed.get(user) ?? 0);
    for (const user of change?.set ?? []) {
      if (!applies(user)) continue;
      e.members.add(user);
      e.changed.set(user, seq);
    }
    deliver(e.members);
    for (const user of change?.remove ?? []) {
      if (!applies(user)) continue;
      e.members.delete(user);
      e.changed.set(user, seq);
    }
    if (change && seq > e.version) e.version = seq;
  }

  #reload(room: string, e: Entry): void {
    this.load(room).then(
      (loaded) => {
        e.members = new Set(loaded?.members ?? []);
        e.version = Math.max(e.version, loaded?.version ?? 0);
        e.base = loaded?.version ?? 0;
        e.changed.clear();
        this.#drain(e);
      },
      (err: unknown) => {
        this.onError(err, room);
        this.#rooms.delete(room);
        e.waiting = null;
      },
    );
  }

  #drain(e: Entry): void {
    const waiting = e.waiting ?? [];
    e.waiting = null;
    for (const run of waiting) run();
  }
}

/** The members a log entry sets and removes. */
function changeOf(m: Message): { set?: number[]; remove?: number[] } | undefined {
  const change = m.event && membershipChange(m.event);
  return change && { ...(change.set ? { set: change.set.map((x) => x.user) } : {}), ...(change.remove ? { remove: change.remove } : {}) };
}
