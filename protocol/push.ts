/**
 * The web-push payload: what a worker encrypts and the app's service worker decrypts (JSON). Enough
 * to show the notification, open the room and dedupe against messages the app already has.
 */
import type { PublicUser } from './frames.ts';

export interface PushPayload {
  type: 'message';
  room: string;
  seq: number;
  /** The message id. */
  id: string;
  sender: PublicUser;
  preview: string;
  /** True when the preview was cut to fit the payload limit. */
  trimmed: boolean;
}
