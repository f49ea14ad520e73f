/**
 * Requests in flight that are not messages: group requests (docs/protocol.md, "Groups") and
 * message actions (edit, delete, react). Each goes out with its own `ref` and is settled by the
 * answer that carries it back (`group.done`, `group.members`, `message.changed`, `message.hidden`),
 * or failed by the `error` that does. Nothing is retried and nothing waits in an outbox: a request
 * made offline or lost with its socket fails, and the page says so (its entries, if it was applied,
 * still arrive through sync).
 */
import { LIMITS, type ClientFrame, type ServerFrame } from '../../../../protocol/frames.ts';
import { ERROR_CODES, type ErrorCode } from '../../../../protocol/errors.ts';

export type GroupRequest = Extract<ClientFrame, { type: `group.${string}` }>;
/** A change to a message: edit, delete (for everyone or for me), react. */
export type ActionRequest = Extract<ClientFrame, { type: 'message.edit' | 'message.delete' | 'message.react' }>;
export type Answer = Extract<ServerFrame, { type: 'group.done' | 'group.members' | 'message.changed' | 'message.hidden' }>;

/** The `ref` prefix of these requests, so their answers are told apart from the outbox's. */
export const REQUEST_REF = 'req:';
const ANSWERS: ReadonlySet<ServerFrame['type']> = new Set(['group.done', 'group.members', 'message.changed', 'message.hidden']);

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
  message_not_found: 'That message is no longer there.',
  not_sender: 'Only the sender can do that to this message.',
  not_editable: 'Only your own messages can be edited, not forwarded ones.',
  edit_window_closed: 'This message is too old to edit.',
  message_deleted: 'That message was deleted.',
  invalid_reaction: 'That reaction is not available.',
  too_many_reactions: `You can put at most ${LIMITS.reactionsPerUserMax} reactions on a message. Take one off first.`,
  rate_limited: 'Slow down a little and try again.',
};

/** The sentence to show a person for a refusal. */
export function refusal(code: ErrorCode, message?: string): string {
  return SAID[code] ?? message ?? ERROR_CODES[code]?.text ?? 'Something went wrong.';
}

export class Requests {
  private readonly pending = new Map<string, { resolve: (a: Answer) => void; reject: (e: RequestError) => void }>();
  private next = 0;

  /** Sends `frame` with a fresh ref; rejects at once when the socket cannot take it. */
  send(socket: { send(frame: ClientFrame): boolean } | null, frame: GroupRequest | ActionRequest): Promise<Answer> {
    const ref = `${REQUEST_REF}${++this.next}`;
    return new Promise((resolve, reject) => {
      if (!socket?.send({ ...frame, ref })) return reject(new RequestError('offline', OFFLINE));
      this.pending.set(ref, { resolve, reject });
    });
  }

  /** Settles the request a frame answers, if any. */
  settle(frame: ServerFrame): void {
    if (!('ref' in frame) || !frame.ref?.startsWith(REQUEST_REF)) return;
    const waiter = this.pending.get(frame.ref);
    if (!waiter) return;
    if (ANSWERS.has(frame.type)) {
      this.pending.delete(frame.ref);
      waiter.resolve(frame as Answer);
    } else if (frame.type === 'error') {
      this.pending.delete(frame.ref);
      waiter.reject(new RequestError(frame.code, refusal(frame.code, frame.message)));
    }
  }

  /** Fails every request in flight (the socket is gone, so no answer will come). */
  failAll(): void {
    for (const { reject } of this.pending.values()) reject(new RequestError('offline', OFFLINE));
    this.pending.clear();
  }
}
