/**
 * Group requests in flight (docs/protocol.md, "Groups"): each goes out with its own `ref` and is
 * settled by the `group.done` or `group.members` that carries it back, or failed by the `error`
 * that does. Nothing is retried: a request lost with its socket fails, and the page says so (its
 * entries, if it was applied, still arrive through sync).
 */
import type { ClientFrame, ServerFrame } from '../../../../protocol/frames.ts';
import { ERROR_CODES, type ErrorCode } from '../../../../protocol/errors.ts';

export type GroupRequest = Extract<ClientFrame, { type: `group.${string}` }>;
export type GroupAnswer = Extract<ServerFrame, { type: 'group.done' | 'group.members' }>;

/** The `ref` prefix of group requests, so their answers are told apart from the outbox's. */
export const GROUP_REF = 'group:';

/** A refused (or lost) group request: `code` from docs/errors.md, or `offline`. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'offline',
    message: string,
  ) {
    super(message);
  }
}

const OFFLINE = 'You are offline. Try again once connected.';

/** Friendlier words for the refusals a person can cause from the group screens. */
const SAID: Partial<Record<ErrorCode, string>> = {
  not_admin: 'Only the owner or an admin can do that.',
  not_owner: 'Only the owner can change roles.',
  owner_protected: 'The owner cannot be removed or demoted.',
  member_not_found: 'That person is no longer a member.',
  already_member: 'That person is already a member.',
  too_many_members: 'The group is full.',
  too_many_groups: 'Someone is in too many groups already.',
  room_not_found: 'You are not a member of this group.',
  user_not_found: 'Someone you picked does not exist any more.',
};

export class GroupRequests {
  private readonly pending = new Map<string, { resolve: (a: GroupAnswer) => void; reject: (e: RequestError) => void }>();
  private next = 0;

  /** Sends `frame` with a fresh ref; rejects at once when the socket cannot take it. */
  send(socket: { send(frame: ClientFrame): boolean } | null, frame: GroupRequest): Promise<GroupAnswer> {
    const ref = `${GROUP_REF}${++this.next}`;
    return new Promise((resolve, reject) => {
      if (!socket?.send({ ...frame, ref })) return reject(new RequestError('offline', OFFLINE));
      this.pending.set(ref, { resolve, reject });
    });
  }

  /** Settles the request a frame answers, if any. */
  settle(frame: ServerFrame): void {
    if (!('ref' in frame) || !frame.ref?.startsWith(GROUP_REF)) return;
    const waiter = this.pending.get(frame.ref);
    if (!waiter) return;
    if (frame.type === 'group.done' || frame.type === 'group.members') {
      this.pending.delete(frame.ref);
      waiter.resolve(frame);
    } else if (frame.type === 'error') {
      this.pending.delete(frame.ref);
      waiter.reject(new RequestError(frame.code, SAID[frame.code] ?? frame.message ?? ERROR_CODES[frame.code]?.text));
    }
  }

  /** Fails every request in flight (the socket is gone, so no answer will come). */
  failAll(): void {
    for (const { reject } of this.pending.values()) reject(new RequestError('offline', OFFLINE));
    this.pending.clear();
  }
}
