/**
 * Who is in which group in the group mode (`--groups GxM`): G groups of M distinct members drawn
 * from the C connections' users, each user in about G*M/C groups (never more than one above or
 * below the others), the same layout on every run and for every target, so the router and the
 * bare forwarder carry exactly the same groups.
 *
 * Members are dealt from a stream of shuffled rounds of all users (a seeded shuffle per round):
 * dealing consecutive users alone would make every round repeat the same groups, and shuffling
 * each round gives groups overlapping one another as a real user's groups do. A user the stream
 * offers to a group that already has them is held back for the next group.
 */

/** Member indices (into the users/connections) of each group; the first member creates it. */
export type GroupLayout = number[][];

/** Deals `groups` groups of `members` members over `users` users. */
export function groupLayout(users: number, groups: number, members: number, seed = 0x9e3779b9): GroupLayout {
  if (members < 2 || members > users) throw new Error(`a group needs 2..${users} members, got ${members}`);
  const random = mulberry32(seed);
  let round: number[] = [];
  let at = 0;
  const next = (): number => {
    if (at === round.length) {
      round = shuffle(Array.from({ length: users }, (_, i) => i), random);
      at = 0;
    }
    return round[at++]!;
  };
  const held: number[] = [];
  const layout: GroupLayout = [];
  for (let g = 0; g < groups; g++) {
    const group: number[] = [];
    const inGroup = new Set<number>();
    // Those held back from earlier groups come first, so nobody falls behind the others.
    for (let i = 0; i < held.length && group.length < members; ) {
      const u = held[i]!;
      if (inGroup.has(u)) i++;
      else {
        held.splice(i, 1);
        group.push(u);
        inGroup.add(u);
      }
    }
    while (group.length < members) {
      const u = next();
      if (inGroup.has(u)) held.push(u);
      else {
        group.push(u);
        inGroup.add(u);
      }
    }
    layout.push(group);
  }
  return layout;
}

/** Parses `GxM` (e.g. `100x50`). */
export function parseGroups(text: string): { groups: number; members: number } | undefined {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  return { groups: Number(m[1]), members: Number(m[2]) };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A small seeded PRNG: the layout must not change between runs or targets. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
