/**
 * The web-push payload: what a worker encrypts and the app's service worker decrypts (JSON). Enough
 * to show the notification, open the room and dedupe against messages the app already has.
 */
import type { PublicUser, RoomKind } from './frames.ts';

export interface PushPayload {
  type: 'message';
  room: string;
  /** Added within version 1; absent means `direct`. */
  kind?: RoomKind;
  /** Groups only: the group's name, for the notification's title ("Sender in Group"). */
  roomName?: string;
  /**
   * Show one notification per room: `tag` is the room id, and a newer one replaces the older with
   * `count`, the entries the recipient has not read (an upper bound: events and their own
   * messages since their read watermark count too). Absent from older workers.
   */
  tag?: string;
  count?: number;
  seq: number;
  /** The message id. */
  id: string;
  sender: PublicUser;
  preview: string;
  /** True when the preview was cut to fit the payload limit. */
  trimmed: boolean;
  /**
   * The whole message, when it fits the payload limit (absent: only the preview fits, or an older
   * worker): its body and time. The service worker stores it on the device and reports it delivered.
   */
  body?: string;
  ts?: number;
  /** The user the push is for: the service worker stores a message only for the user signed in here. */
  recipient?: number;
}
