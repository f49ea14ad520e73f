/**
 * Exporting the account's data (docs/http-api.md, "Exporting the account's data"): one JSON
 * document, written as it is read. The profile, passkeys, identities and rooms are small and come
 * first; the messages come last, room by room, a page of PAGE at a time from the history store, so
 * a node holds one page of one export in memory whatever the number of messages (100,000 messages:
 * router/bench/README.md, "The export's memory").
 *
 * An export reads every message of the user's rooms once, so it is bounded three ways: one at a
 * time per user on a node, EXPORTS_CONCURRENT_MAX at a time on a node, and EXPORT_RATE_LIMIT per
 * user per EXPORT_RATE_WINDOW_MS across the nodes (the rate-limit store); past any, `export_busy`.
 */
import type { AccountStore } from '../../../db/account.port.ts';
import type { AuthStore } from '../../../db/auth.port.ts';
import type { Clock } from '../../../db/clock.ts';
import type { HistoryStore, Message } from '../../../db/history.port.ts';
import type { RateLimitStore } from '../../../db/ratelimit.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { Logger } from '../../../kit/logger.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { AccountExport, ExportedMessage, ExportedRoom } from '../../../protocol/http.ts';
import type { AccountConfig } from '../config.ts';

/** Messages read from the history store at a time. */
export const PAGE = 500;

export interface ExportDeps {
  auth: Pick<AuthStore, 'profile' | 'listPasskeys' | 'listIdentities'>;
  accounts: Pick<AccountStore, 'emailSettings'>;
  relational: Pick<RelationalStore, 'roomsOf'>;
  history: Pick<HistoryStore, 'sentBy'>;
  rateLimits: Pick<RateLimitStore, 'hit'>;
  /** `exportedAt` is read from it. */
  clock: Clock;
  config: Pick<AccountConfig, 'exportLimit' | 'exportsConcurrentMax'>;
  log: Logger;
}

/** A refusal with the seconds after which to retry (Retry-After). */
export class ExportBusy extends AppError {
  readonly retryAfterS: number;
  constructor(retryAfterS: number) {
    super('export_busy');
    this.retryAfterS = retryAfterS;
  }
}

export class ExportService {
  /** Users with an export under way on this node. */
  readonly #running = new Set<number>();
  private readonly deps: ExportDeps;

  constructor(deps: ExportDeps) {
    this.deps = deps;
  }

  /**
   * Admits one export for `userId`, or throws ExportBusy (or `unavailable` when the rate-limit
   * store does not answer). Call the returned function when the export has ended, however it ended.
   */
  async admit(userId: number): Promise<() => void> {
    const { config, rateLimits, log } = this.deps;
    // The cheap checks first, so a refused export does not spend the user's budget.
    if (this.#running.has(userId) || this.#running.size >= config.exportsConcurrentMax) throw new ExportBusy(5);
    this.#running.add(userId);
    const release = () => void this.#running.delete(userId);
    try {
      const verdict = await rateLimits.hit(`export:${userId}`, config.exportLimit.limit, config.exportLimit.windowMs);
      if (!verdict.allowed) throw new ExportBusy(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
    } catch (err) {
      release();
      if (err instanceof AppError) throw err;
      log.warn({ err }, 'rate limit store failed');
      throw new AppError('unavailable');
    }
    return release;
  }

  /** The document's text, in pieces: everything but the messages at once, then a page of messages at a time. */
  async *document(userId: number): AsyncGenerator<string> {
    const { auth, accounts, relational, clock } = this.deps;
    const [profile, email, passkeys, identities, memberships] = await Promise.all([
      auth.profile(userId),
      accounts.emailSettings(userId),
      auth.listPasskeys(userId),
      auth.listIdentities(userId),
      relational.roomsOf(userId, { former: true }),
    ]);
    if (!profile) throw new AppError('unauthenticated');
    const rooms: ExportedRoom[] = memberships
      .map((r) => ({ id: r.id, kind: r.kind, name: r.kind === 'group' ? (r.name ?? '') : null, joinedSeq: r.own.joinedSeq, leftSeq: r.own.leftSeq }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const head: Omit<AccountExport, 'messages'> = {
      format: 'messenger.export.v1',
      exportedAt: new Date(clock.now()).toISOString(),
      profile: { ...profile, ...email },
      // Names and dates only: the credential id is left out with the key.
      passkeys: passkeys.map(({ name, deviceType, backedUp, createdAt, lastUsedAt }) => ({ name, deviceType, backedUp, createdAt, lastUsedAt })),
      identities: identities.map(({ provider, email: address, displayName, createdAt }) => ({ provider, email: address, displayName, createdAt })),
      rooms,
    };
    const text = JSON.stringify(head);
    // The head without its closing brace, then the messages array, then the brace.
    yield `${text.slice(0, -1)},"messages":[`;
    let first = true;
    for (const room of rooms) {
      for (let after = 0; ; ) {
        const page = await this.deps.history.sentBy(room.id, userId, after, PAGE);
        if (page.length > 0) {
          yield (first ? '\n' : ',\n') + page.map((m) => JSON.stringify(exported(m))).join(',\n');
          first = false;
          after = page.at(-1)!.seq;
        }
        if (page.length < PAGE) break;
      }
    }
    yield '\n]}\n';
  }
}

/** A message as the export shows it: where, when, what it says now, and what happened to it. */
function exported(m: Message): ExportedMessage {
  const out: ExportedMessage = { room: m.room, seq: m.seq, ts: m.ts, body: m.body };
  if (m.editedAt !== undefined) out.editedAt = m.editedAt;
  if (m.deleted) out.deleted = true;
  if (m.replyTo) out.replyTo = m.replyTo.seq;
  if (m.forwarded) out.forwarded = true;
  return out;
}
