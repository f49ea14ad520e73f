/**
 * The e-mail digest: for a user who has been offline a while and has no working push
 * subscription, one message listing what they have not read, in plain text and HTML, with an
 * unsubscribe link (and List-Unsubscribe headers) that the next digest honours.
 */
import type { Logger } from 'pino';
import type { Transporter } from 'nodemailer';
import type { HistoryStore } from '../../db/history.port.ts';
import type { NotifyStore } from '../../db/notify.port.ts';
import type { RelationalStore } from '../../db/relational.port.ts';
import type { Message } from '../../protocol/frames.ts';
import { clipText } from '../../protocol/text.ts';
import type { Handler } from './task.runner.ts';

export interface DigestDeps {
  store: NotifyStore;
  relational: RelationalStore;
  history: HistoryStore;
  log: Logger;
  /** Where links point (the app and the unsubscribe route). */
  publicOrigin: string;
}

export interface EmailJobDeps extends DigestDeps {
  transport: Transporter;
  /** From: header. */
  from: string;
}

/** Most messages listed per room. */
const PER_ROOM = 5;

export interface Unread {
  room: string;
  /** Unread messages from others, oldest first (at most PER_ROOM). */
  messages: Message[];
  /** How many unread in all. */
  count: number;
}

/** The user's unread messages from others, room by room (rooms without any left out). */
export async function unreadOf(deps: Pick<DigestDeps, 'relational' | 'history'>, userId: number): Promise<Unread[]> {
  const out: Unread[] = [];
  for (const room of await deps.relational.roomsOf(userId)) {
    const read = room.read[userId] ?? 0;
    const last = await deps.history.lastSeq(room.id);
    if (last <= read) continue;
    const messages = (await deps.history.after(room.id, read, 50)).filter((m) => m.sender !== userId && m.kind !== 'event' && !m.deleted);
    if (messages.length === 0) continue;
    out.push({ room: room.id, messages: messages.slice(-PER_ROOM), count: messages.length });
  }
  return out;
}

/** The handler for `email.digest` tasks. */
export function emailJob(deps: EmailJobDeps): Handler<'email.digest'> {
  return async (task) => {
    const prefs = await deps.store.prefs(task.user);
    if (!prefs.email || !prefs.emailDigest) return { status: 'done', note: 'no address or unsubscribed' };
    const unread = await unreadOf(deps, task.user);
    if (unread.length === 0) return { status: 'done', note: 'nothing unread' };
    const senderIds = [...new Set(unread.flatMap((u) => u.messages.map((m) => m.sender)))];
    const names = new Map((await deps.relational.getUsers(senderIds)).map((u) => [u.id, u.displayName]));
    const unsubscribe = `${deps.publicOrigin}/api/notifications/unsubscribe?token=${encodeURIComponent(prefs.unsubscribeToken)}`;
    const total = unread.reduce((n, u) => n + u.count, 0);
    const subject = `${total} unread message${total === 1 ? '' : 's'} on Messenger`;
    try {
      await deps.transport.sendMail({
        from: deps.from,
        to: prefs.email,
        subject,
        text: renderText(unread, names, deps.publicOrigin, unsubscribe),
        html: renderHtml(unread, names, deps.publicOrigin, unsubscribe),
        headers: { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      // 5xx from the SMTP server is a permanent refusal (bad address, policy); the rest is transient.
      if (code && code >= 500) return { status: 'failed', reason: `SMTP refused the digest (${code})` };
      return { status: 'retry', reason: `SMTP: ${(err as Error).message}` };
    }
    await deps.store.markDigestSent(task.user, Date.now());
    return { status: 'done', note: `digest of ${total} sent` };
  };
}

const nameOf = (names: Map<number, string>, id: number) => names.get(id) ?? `user ${id}`;
const clip = (s: string) => (s.length > 200 ? `${clipText(s, 200)}…` : s);

function renderText(unread: Unread[], names: Map<number, string>, origin: string, unsubscribe: string): string {
  const lines = ['You have unread messages:', ''];
  for (const u of unread) {
    for (const m of u.messages) lines.push(`${nameOf(names, m.sender)}: ${clip(m.body)}`);
    if (u.count > u.messages.length) lines.push(`… and ${u.count - u.messages.length} more`);
    lines.push('');
  }
  lines.push(`Open Messenger: ${origin}/`, '', `Stop these e-mails: ${unsubscribe}`);
  return lines.join('\n');
}

function renderHtml(unread: Unread[], names: Map<number, string>, origin: string, unsubscribe: string): string {
  const rooms = unread
    .map((u) => {
      const items = u.messages.map((m) => `<li><strong>${esc(nameOf(names, m.sender))}</strong>: ${esc(clip(m.body))}</li>`).join('');
      const more = u.count > u.messages.length ? `<li>… and ${u.count - u.messages.length} more</li>` : '';
      return `<ul>${items}${more}</ul>`;
    })
    .join('');
  return `<!doctype html><html><body><p>You have unread messages:</p>${rooms}<p><a href="${esc(origin)}/">Open Messenger</a></p><p style="font-size:small"><a href="${esc(unsubscribe)}">Stop these e-mails</a></p></body></html>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
