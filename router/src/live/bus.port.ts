/**
 * The bus carries live events between router nodes: RabbitMQ in the full stack (bus.amqp.ts), a
 * direct in-process call on the embedded default (bus.memory.ts); one contract test.
 *
 * Live fan-out is best effort by design: a dropped event is repaired by the client's resync from
 * history, so the bus never blocks an acknowledgement.
 */
import type { Message, PublicUser } from '../../../protocol/frames.ts';
import type { PrivacySettings } from '../../../protocol/http.ts';

/** Who should receive an event: the members of its room, except the one connection it came from. */
interface Addressed {
  room: string;
  members: number[];
  /** Connection id the event came from; that connection already has it (it got the ack). */
  origin?: string;
}

export type BusEvent =
  /** In a group, `members` is empty (each node knows them) and `version` is the membership version the entry was stored under. */
  | (Addressed & { kind: 'message'; message: Message; version?: number })
  /**
   * `hideFrom`: members who must not get it (a block between them and `user`); `private`: `user`
   * turned read receipts off, so others get a read receipt as `delivered` (docs/protocol.md, "Privacy settings").
   */
  | (Addressed & { kind: 'receipt'; user: number; receipt: 'delivered' | 'read'; seq: number; hideFrom?: number[]; private?: true })
  /** `hideFrom`: members who must not get it (a block between them and `user`). */
  | (Addressed & { kind: 'typing'; user: number; active: boolean; hideFrom?: number[] })
  /** `user` came online or went offline; `members` are their contacts, `room` is ''. */
  | (Addressed & { kind: 'presence'; user: number; online: boolean; lastSeen?: number })
  /** A user changed their profile (now `profile`); `members` are their contacts and themselves, `room` is ''. */
  | (Addressed & { kind: 'profile'; profile: PublicUser })
  /** `user` deleted a message for themselves: every socket of theirs but `origin`, on any node, gets `message.hidden`. */
  | { kind: 'hidden'; user: number; room: string; seq: number; origin?: string }
  /**
   * `user` changed their privacy settings, or blocked (`on`) or unblocked `block.user`: every node
   * updates what it keeps of both users (router/src/privacy/privacy.cache.ts).
   */
  | { kind: 'privacy'; user: number; settings?: PrivacySettings; block?: { user: number; on: boolean } }
  /** Every socket of these sessions, on any node, must close (sign-out). */
  | { kind: 'session.ended'; user: number; sessions: string[] }
  /** The user deleted their account: every socket of theirs, on any node and of any session, closes with 4003. */
  | { kind: 'account.deleted'; user: number };

export interface Bus {
  /**
   * Sends an event to every node, this one included. Never throws; events published in one
   * tick may travel together, and events from one node arrive at every node in publish order.
   */
  publish(event: BusEvent): void;
  /** Registers the one handler for events arriving at this node (local ones included). */
  subscribe(handler: (event: BusEvent) => void): void;
  /** Registers the observer of each batch's publish-to-confirm time, in seconds (metrics); brokers only. */
  onConfirm?(observer: (seconds: number) => void): void;
  /** Registers the observer of events other nodes may not get (broker unreachable, batch unconfirmed); brokers only. */
  onDrop?(observer: (events: number) => void): void;
  /** Resolves when everything published so far was confirmed (or failed) by the broker. */
  flush(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
