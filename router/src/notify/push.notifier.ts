/**
 * Decides, after a message is stored, whom to notify by push: every other member with no live
 * connection on any node (this node's registry first, then presence). The check and the enqueue
 * run after the sender's ack, off the chatroom actor's path; a failure is logged, never thrown.
 */
import type { PresenceStore } from '../../../db/presence.port.ts';
import { attachmentsPreview } from '../../../protocol/attachments.ts';
import type { Message, PublicUser } from '../../../protocol/frames.ts';
import { clipText } from '../../../protocol/text.ts';
import type { TaskQueue } from '../../../workers/tasks/queue.port.ts';
import { newTask, PREVIEW_CHARS } from '../../../workers/tasks/task.types.ts';
import type { ConnectionRegistry } from '../socket/registry.ts';
import type { Logger } from '../../../kit/logger.ts';

/** The room a message was stored in, as its notification names it. */
export type RoomInfo = { kind: 'direct' } | { kind: 'group'; name: string };

export class PushNotifier {
  readonly #pending = new Set<Promise<void>>();

  private readonly deps: { tasks: TaskQueue; presence: PresenceStore; registry: ConnectionRegistry; log: Logger; enabled: boolean };

  constructor(
    deps: { tasks: TaskQueue; presence: PresenceStore; registry: ConnectionRegistry; log: Logger; enabled: boolean },
  ) {
    this.deps = deps;
  }

  /**
   * A message was stored (or repeated, when its first attempt may not have got this far): enqueue
   * a push task for each offline recipient among `members`. A repeat's task has the key of the
   * first, so a worker that ran the first skips it.
   */
  messageStored(message: Message, members: readonly number[], sender: PublicUser, room: RoomInfo = { kind: 'direct' }): void {
    // Events (members added, removed) are never pushed: they show when the app next opens the room.
    if (!this.deps.enabled || message.kind === 'event') return;
    const absent = members.filter((member) => member !== message.sender && !this.deps.registry.ofUser(member));
    if (absent.length === 0) return;
    const p = this.#notify(absent, message, sender, room).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Resolves when every enqueue started so far has settled (graceful shutdown). */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /** One presence lookup for every absent member (a group's are many), then a task for each offline one. */
  async #notify(absent: readonly number[], m: Message, sender: PublicUser, room: RoomInfo): Promise<void> {
    let presence: Awaited<ReturnType<PresenceStore['presenceOf']>>;
    try {
      presence = await this.deps.presence.presenceOf(absent);
    } catch (err) {
      this.deps.log.warn({ err, room: m.room, seq: m.seq }, 'could not enqueue push notifications: presence is unavailable');
      return;
    }
    const preview = m.attachments?.length ? attachmentsPreview(m.attachments, PREVIEW_CHARS) : m.body.length > PREVIEW_CHARS ? `${clipText(m.body, PREVIEW_CHARS)}…` : m.body;
    const offline = absent.filter((recipient) => !presence.get(recipient)?.online);
    await Promise.all(
      offline.map((recipient) =>
        this.deps.tasks
          .publish(
            newTask({
              kind: 'push.message',
              recipient,
              sender: { id: sender.id, handle: sender.handle, displayName: sender.displayName },
              room: m.room,
              ...(room.kind === 'group' ? { roomKind: 'group' as const, roomName: room.name } : {}),
              seq: m.seq,
              messageId: m.id,
              preview,
              body: m.body,
              ts: m.ts,
            }),
          )
          .catch((err: unknown) => this.deps.log.warn({ err, room: m.room, seq: m.seq, recipient }, 'could not enqueue a push notification')),
      ),
    );
  }
}
