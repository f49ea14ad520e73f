/**
 * The push handler: sends one new-message notification to every web-push subscription of the
 * recipient. Per subscription: 2xx done; 404/410 the subscription is gone and deleted; 429 and 5xx
 * (and network errors) retry the task with backoff; 401/403 mean our VAPID configuration is wrong
 * and are logged as such. Each subscription that got the notification is marked with an
 * idempotency key, so a retry or a redelivery never notifies the same device twice.
 */
import { roomKindOf } from '../../protocol/frames.ts';
import type { PushPayload } from '../../protocol/push.ts';
import { createHash } from 'node:crypto';
import type { Agent } from 'node:https';
import type { Logger } from 'pino';
import webpush, { WebPushError } from 'web-push';
import type { IdempotencyStore } from '../../db/idempotency.port.ts';
import type { NotifyStore, PushSubscriptionRecord } from '../../db/notify.port.ts';
import { pushAgent } from './push.agent.ts';
import { parsePushEndpoint, PushEndpointRefused, type PushEndpointPolicy, type ResolveHost } from '../tasks/push.endpoint.ts';
import type { Handler, Outcome } from './task.runner.ts';
import type { TaskOf } from '../tasks/task.types.ts';
import type { VapidKeys } from '../tasks/vapid.ts';

export interface PushJobDeps {
  store: NotifyStore;
  idempotency: IdempotencyStore;
  log: Logger;
  vapid: VapidKeys;
  /** VAPID contact, mailto: or https:. */
  subject: string;
  /** How long the push service keeps an undelivered notification, seconds. Default 86 400. */
  ttlSeconds?: number;
  /** Urgency header. Default 'high' (a chat message). */
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
  /** Allow loopback and private endpoints (development, tests and private deployments only). Default false. */
  allowPrivateEndpoints?: boolean;
  /** Resolves endpoint host names, once per connection, for the address check. Default: the system resolver. */
  resolve?: ResolveHost;
  /** CA certificates (PEM) the push requests trust instead of the system's (tests' local push service). */
  ca?: string;
  /** Socket timeout of one push request, ms. Default 10 000. */
  timeoutMs?: number;
  /** How long a delivered notification's key is remembered, ms. Default 7 days. */
  idempotencyTtlMs?: number;
}

/** The plaintext limit: 4096 bytes of record minus aes128gcm's header (86), tag (16) and padding delimiter. */
export const MAX_PAYLOAD_BYTES = 3993;

export type { PushPayload };

/**
 * The payload of a push task: the whole message (body and time) when it fits `max` bytes, so the
 * device stores it and reports it delivered; else its preview, cut (on a code point) until it fits.
 */
export function pushPayload(task: TaskOf<'push.message'>, max = MAX_PAYLOAD_BYTES, count = 1): string {
  const base: PushPayload = {
    type: 'message',
    room: task.room,
    kind: task.roomKind ?? 'direct',
    ...(task.roomName !== undefined ? { roomName: task.roomName } : {}),
    tag: task.room,
    count,
    seq: task.seq,
    id: task.messageId,
    sender: task.sender,
    preview: task.preview,
    trimmed: false,
    recipient: task.recipient,
  };
  if (task.body !== undefined && task.ts !== undefined) {
    const whole = JSON.stringify({ ...base, body: task.body, ts: task.ts });
    if (Buffer.byteLength(whole) <= max) return whole;
  }
  let json = JSON.stringify(base);
  if (Buffer.byteLength(json) <= max) return json;
  const chars = [...task.preview];
  // Halve, then creep: a few JSON.stringify calls even for a preview far over the limit.
  let keep = chars.length;
  while (keep > 0 && Buffer.byteLength(json) > max) {
    keep = Buffer.byteLength(json) - max > 64 ? Math.floor(keep / 2) : keep - 1;
    json = JSON.stringify({ ...base, preview: `${chars.slice(0, keep).join('')}…`, trimmed: true });
  }
  return json;
}

type SendResult = 'sent' | 'skipped' | 'gone' | 'refused' | { retry: string; afterMs?: number } | { config: string } | { rejected: string };

/** The handler for `push.message` tasks. */
export function pushJob(deps: PushJobDeps): Handler<'push.message'> {
  const policy = { allowPrivate: deps.allowPrivateEndpoints ?? false, ...(deps.resolve ? { resolve: deps.resolve } : {}) };
  // One agent for the job: kept-alive sockets were each connected to an address checked when they opened.
  const agent = pushAgent(policy, deps.ca ? { ca: deps.ca } : {});
  const send: Send = { ...deps, policy, agent };
  return async (task) => {
    // Asked when sending, not when the message was stored: a mute or a removal since then counts.
    const notice = await deps.store.roomNotice(task.recipient, task.room);
    if (!notice && roomKindOf(task.room) === 'group') return { status: 'done', note: 'not a member' };
    if (notice?.muted) return { status: 'done', note: 'muted' };
    const subs = await deps.store.subscriptionsOf(task.recipient);
    if (subs.length === 0) return { status: 'done', note: 'no subscriptions' };
    const payload = pushPayload(task, MAX_PAYLOAD_BYTES, Math.max(1, task.seq - (notice?.readSeq ?? task.seq - 1)));
    const results = await Promise.all(subs.map((sub) => sendOne(send, task, sub, payload)));
    return decide(results, subs.length);
  };
}

function decide(results: SendResult[], total: number): Outcome {
  const retries = results.filter((r): r is { retry: string; afterMs?: number } => typeof r === 'object' && 'retry' in r);
  const config = results.find((r): r is { config: string } => typeof r === 'object' && 'config' in r);
  const sent = results.filter((r) => r === 'sent' || r === 'skipped').length;
  if (retries.length > 0) {
    const afterMs = Math.max(0, ...retries.map((r) => r.afterMs ?? 0));
    return { status: 'retry', reason: retries.map((r) => r.retry).join('; '), afterMs };
  }
  // Nothing transient is left: a configuration error cannot be fixed by retrying this task.
  if (config && sent === 0) return { status: 'failed', reason: config.config };
  const gone = results.filter((r) => r === 'gone').length;
  return { status: 'done', note: `${sent}/${total} subscriptions notified${gone ? `, ${gone} removed` : ''}` };
}

/** What one send needs: the job's deps, its endpoint policy and its checking agent. */
type Send = PushJobDeps & { policy: PushEndpointPolicy; agent: Agent };

async function sendOne(deps: Send, task: TaskOf<'push.message'>, sub: PushSubscriptionRecord, payload: string): Promise<SendResult> {
  const { log } = deps;
  const endpointHash = createHash('sha256').update(sub.endpoint).digest('base64url').slice(0, 16);
  const key = `push:${task.key}:${endpointHash}`;
  const fields = { task: task.id, subscription: sub.id, endpointHost: URL.canParse(sub.endpoint) ? new URL(sub.endpoint).host : undefined };
  if (await deps.idempotency.has(key)) return 'skipped';
  const refuse = async (problem: string): Promise<SendResult> => {
    log.warn({ ...fields, problem }, 'push endpoint refused; subscription removed');
    await deps.store.removeEndpoint(sub.endpoint);
    return 'refused';
  };
  let url: URL;
  try {
    // An IP-literal host is checked here (a socket does no lookup for it); a name by the agent's lookup.
    url = parsePushEndpoint(sub.endpoint, deps.policy);
  } catch (err) {
    if (err instanceof PushEndpointRefused) return refuse(err.message);
    throw err;
  }
  try {
    // The URL as checked, serialised: web-push parses it again, and must see the same host.
    await webpush.sendNotification({ endpoint: url.href, keys: sub.keys }, payload, {
      vapidDetails: { subject: deps.subject, publicKey: deps.vapid.publicKey, privateKey: deps.vapid.privateKey },
      TTL: deps.ttlSeconds ?? 86_400,
      urgency: deps.urgency ?? 'high',
      // A newer notification for the same room replaces one the device has not received yet.
      topic: topicOf(task.room),
      timeout: deps.timeoutMs ?? 10_000,
      agent: deps.agent,
    });
  } catch (err) {
    if (err instanceof PushEndpointRefused) return refuse(err.message);
    if (!(err instanceof WebPushError)) return { retry: `network: ${(err as Error).message}` };
    const status = err.statusCode;
    if (status === 404 || status === 410) {
      log.info({ ...fields, status }, 'push subscription gone; removed');
      await deps.store.removeEndpoint(sub.endpoint);
      return 'gone';
    }
    if (status === 429 || status >= 500) {
      const retryAfter = Number(err.headers?.['retry-after']);
      return { retry: `push service answered ${status}`, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { afterMs: Math.min(retryAfter, 3600) * 1000 } : {}) };
    }
    if (status === 401 || status === 403) {
      log.error({ ...fields, status }, 'push service refused our VAPID credentials: check VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY / VAPID_SUBJECT (and that the subscription was made with this public key)');
      return { config: `push service refused the VAPID credentials (${status})` };
    }
    log.warn({ ...fields, status }, 'push service rejected the notification');
    return { rejected: `push service answered ${status}` };
  }
  await deps.idempotency.mark(key, deps.idempotencyTtlMs ?? 7 * 24 * 3600_000);
  await deps.store.markPushSuccess(sub.endpoint).catch((err: unknown) => log.warn({ ...fields, err }, 'could not record the push success'));
  return 'sent';
}

/** Topic header: at most 32 URL-safe base64 characters. */
function topicOf(room: string): string {
  return createHash('sha256').update(room).digest('base64url').slice(0, 32);
}
