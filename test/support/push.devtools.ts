/**
 * Pushes to a browser's service worker the way the push worker would, for the app's browser
 * suites: the registration id CDP's `ServiceWorker.deliverPushMessage` needs, and the push task
 * the router queues about a message (its payload is `pushPayload(task)` from workers/src/push.job.ts).
 */
import type { CDPSession } from 'playwright-core';
import type { Message } from '../../protocol/frames.ts';
import { newTask, type TaskOf } from '../../workers/tasks/task.types.ts';

/** The registration id of the origin's service worker, from CDP. */
export async function registration(cdp: CDPSession, origin: string): Promise<string> {
  const found = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
      const reg = e.registrations.find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted);
      if (reg) resolve(reg.registrationId);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  return found;
}

/** The push task the router would queue for `recipient` about `m`, which `sender` wrote. */
export function pushTask(recipient: number, sender: { id: number; handle: string; displayName: string }, m: Message): TaskOf<'push.message'> {
  return newTask({ kind: 'push.message', recipient, sender: { id: sender.id, handle: sender.handle, displayName: sender.displayName }, room: m.room, seq: m.seq, messageId: m.id, preview: m.body, body: m.body, ts: m.ts }) as TaskOf<'push.message'>;
}
