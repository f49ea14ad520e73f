/**
 * What the service worker does for the chat with no page open: reports receipts over HTTP (a
 * stored push is "delivered", a notification's "Mark as read" is read), and sends the outbox over
 * a short-lived socket (a reply written in a notification, or what waited offline when Background
 * Sync fires). Everything is best effort: what fails stays in the outbox for the app or the next sync.
 */
import { SUBPROTOCOL, type ServerFrame } from '../../../../protocol/frames.ts';
import type { ReceiptRequest } from '../../../../protocol/http.ts';
import { loadUser, removeFromOutbox } from './offline.db.ts';
import { isFinalRefusal, sendFrame } from './outbox.ts';

/** Longest a background flush keeps its socket open, ms (a service worker's event has limited time). */
const FLUSH_TIMEOUT_MS = 20_000;

/** Raises this user's `delivered` or `read` watermark of `room` to `seq`; false when it could not. */
export async function postReceipt(kind: 'delivered' | 'read', room: string, seq: number): Promise<boolean> {
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(room)}/${kind}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seq } satisfies ReceiptRequest),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Sends `user`'s outbox over one socket, oldest first, and removes what the server acknowledged
 * (or refused for good). Resolves with how many items are left.
 */
export async function flushOutbox(user: number, wsUrl: string): Promise<number> {
  const { outbox } = await loadUser(user);
  if (outbox.length === 0) return 0;
  const done = new Set<string>();
  await new Promise<void>((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl, SUBPROTOCOL);
    } catch {
      return resolve();
    }
    const timer = setTimeout(() => ws.close(), FLUSH_TIMEOUT_MS);
    ws.onclose = () => {
      clearTimeout(timer);
      resolve();
    };
    ws.onerror = () => ws.close();
    ws.onmessage = (e) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(e.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'hello') for (const item of outbox) ws.send(JSON.stringify(sendFrame(item)));
      if (frame.type === 'message.sent') done.add(frame.ref);
      if (frame.type === 'error' && frame.ref && isFinalRefusal(frame.code)) done.add(frame.ref);
      if (outbox.every((o) => done.has(o.clientMsgId))) ws.close(1000);
    };
  });
  // Only what went out leaves: the app may have added to the outbox meanwhile.
  return removeFromOutbox(user, done);
}
