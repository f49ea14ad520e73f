/**
 * Requests in flight that are not messages: group requests (docs/protocol.md, "Groups") and
 * message actions (edit, delete, react). Each goes out with its own `ref` and is settled by the
 * answer that carries it back (`group.done`, `group.members`, `message.changed`, `message.hidden`),
 * or failed by the `error` that does. Nothing is retried and nothing waits in an outbox: a request
 * made offline or lost with its socket fails, and the page says so (its entries, if it was applied,
 * still arrive through sync).
 */
import type { ClientFrame, ServerFrame } from '../../../../protocol/frames.ts';
import type { ErrorCode } from '../../../../protocol/errors.ts';
import { sentenceFor } from '../errors.ts';

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
      waiter.reject(new RequestError(frame.code, sentenceFor(frame.code)));
    }
  }

  /** Fails every request in flight (the socket is gone, so no answer will come). */
  failAll(): void {
    for (const { reject } of this.pending.values()) reject(new RequestError('offline', OFFLINE));
    this.pending.clear();
  }
}
