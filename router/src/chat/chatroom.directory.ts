/**
 * Finds the actor of a room, spawning it on first use, and stops actors of rooms that went quiet.
 * Idle actors are stopped here rather than with nact's `shutdownAfter`, so a room is removed from
 * the map in the same tick it stops and no message can be dispatched to a stopped actor.
 */
import { dispatch, stop, type Ref } from 'nact';
import { spawnChatroom, type ChatDeps, type RoomMsg } from './chatroom.actor.ts';

interface Entry {
  ref: Ref<RoomMsg>;
  lastUsed: number;
}

export class ChatroomDirectory {
  private readonly rooms = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  private readonly parent: Ref<unknown>;
  private readonly idleMs: number;
  private readonly deps: ChatDeps;

  /**
   * @param parent the supervisor room actors are spawned under
   * @param idleMs how long a room actor may go unused before it is stopped, ms
   * @param deps what every room actor uses
   */
  constructor(parent: Ref<unknown>, idleMs: number, deps: ChatDeps) {
    this.parent = parent;
    this.idleMs = idleMs;
    this.deps = deps;
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, this.idleMs / 2));
    this.sweeper.unref();
  }

  /** Sends a message to a room's actor. */
  tell(roomId: string, msg: RoomMsg): void {
    let entry = this.rooms.get(roomId);
    if (!entry) {
      entry = { ref: spawnChatroom(this.parent, roomId, this.deps), lastUsed: 0 };
      this.rooms.set(roomId, entry);
    }
    entry.lastUsed = Date.now();
    dispatch(entry.ref, msg);
  }

  get size(): number {
    return this.rooms.size;
  }

  /** Stops every room actor (shutdown). */
  stopAll(): void {
    clearInterval(this.sweeper);
    for (const { ref } of this.rooms.values()) stop(ref);
    this.rooms.clear();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [id, entry] of this.rooms) {
      if (entry.lastUsed < cutoff) {
        this.rooms.delete(id);
        stop(entry.ref);
      }
    }
  }
}
