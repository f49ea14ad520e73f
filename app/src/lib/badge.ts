/**
 * The unread count outside the page: in the tab's title ("(3) Chats · Messenger") and on the
 * installed app's icon through the Badging API where the browser has it.
 */
import { unreadTotal } from './chat/rows.ts';

/** A screen's document title, with the unread count in front when there is one. Reactive in a template. */
export function pageTitle(screen?: string): string {
  const n = unreadTotal();
  return `${n > 0 ? `(${n}) ` : ''}${screen ? `${screen} · ` : ''}Messenger`;
}

/**
 * Shows `count` on the app's icon (none at 0). Browsers without the Badging API, or that refuse it
 * (an app that is not installed, a denied permission), are left alone: the title still says it.
 */
export function showAppBadge(count: number): void {
  if (!('setAppBadge' in navigator)) return;
  const done = count > 0 ? navigator.setAppBadge(count) : navigator.clearAppBadge();
  done.catch(() => undefined);
}
