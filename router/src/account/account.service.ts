/**
 * Deleting an account (docs/http-api.md, "Deleting the account"). In this order, so that a failure
 * leaves something the user can retry or that nobody can use:
 *
 * 1. The handle typed to confirm must be the account's (`confirmation_mismatch`).
 * 2. Every group is left by a normal leave, through the group's room actor: a `member.left` entry
 *    in its log that every member sees, and an owner's leave hands ownership on as any owner's
 *    does (group.rules.ts, `successor`: the admin who joined first, else the member who joined
 *    first). A store that fails here fails the request (`unavailable`) before anything is erased:
 *    the user is still signed in and may retry.
 * 3. The account is erased in one transaction (account.store.ts) and marked deleted at the clock's
 *    now: no passkey or identity is left to sign in with, every later request of its sessions is
 *    `account_deleted`, nobody can add it to a group or open a chat with it. A second deletion
 *    that raced this one is told `account_deleted`.
 * 4. Every socket of the account, on every node, is closed with 4003 (the bus), and its sessions
 *    are deleted.
 * 5. A group joined between 2 and 3 (someone added the user just then) is left too.
 *
 * Messages already sent stay in the other members' chats; their sender reads as "Deleted account".
 */
import type { AccountStore } from '../../../db/account.port.ts';
import type { Clock } from '../../../db/clock.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { SessionStore } from '../../../db/session.port.ts';
import type { Logger } from '../../../kit/logger.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { PublicUser } from '../../../protocol/frames.ts';
import type { AccountDeleteResponse } from '../../../protocol/http.ts';
import type { ChatroomDirectory } from '../chat/chatroom.directory.ts';
import type { Requester } from '../chat/group.ops.ts';
import type { Bus } from '../live/bus.port.ts';

export interface AccountDeps {
  accounts: Pick<AccountStore, 'erase'>;
  relational: Pick<RelationalStore, 'roomsOf'>;
  sessions: Pick<SessionStore, 'deleteAllOf'>;
  /** Tells every node to close the account's sockets. */
  bus: Pick<Bus, 'publish'>;
  /** The room actors a leave goes through, as a socket's would. */
  rooms: Pick<ChatroomDirectory, 'tell'>;
  /** The time the deletion is stamped with (the handle's grace runs from it). */
  clock: Clock;
  /** `deletedHandleGraceMs`: how long the handle stays held, ms. */
  config: { deletedHandleGraceMs: number };
  log: Logger;
}

/** The ref a leave is sent with: a crash of the room actor answers it with `fail` instead of silence. */
const LEAVE_REF = 'account.delete';

export class AccountService {
  private readonly deps: AccountDeps;

  constructor(deps: AccountDeps) {
    this.deps = deps;
  }

  /** Deletes `user`'s account once `confirmHandle` (already normalised) is their handle. */
  async delete(user: PublicUser, confirmHandle: string): Promise<AccountDeleteResponse> {
    const { accounts, sessions, bus, clock, config, log } = this.deps;
    if (confirmHandle !== user.handle) throw new AppError('confirmation_mismatch');
    let groupsLeft = await this.leaveGroups(user);
    const outcome = await accounts.erase(user.id, clock.now());
    if (outcome.kind === 'not_found') throw new AppError('unauthenticated');
    if (outcome.kind === 'already_deleted') throw new AppError('account_deleted');
    bus.publish({ kind: 'account.deleted', user: user.id });
    // The sessions are refused from now on whatever happens here (the guard sees the deletion).
    const sessionsEnded = await sessions.deleteAllOf(user.id).then(
      (ids) => ids.length,
      (err: unknown) => {
        log.warn({ err, user: user.id }, 'could not delete the sessions of a deleted account; they are refused anyway');
        return 0;
      },
    );
    groupsLeft += await this.leaveGroups(user).catch((err: unknown) => {
      log.error({ err, user: user.id }, 'a deleted account could not leave a group it was added to during its deletion');
      return 0;
    });
    log.info({ user: user.id, groupsLeft, sessionsEnded }, 'account deleted');
    return { groupsLeft, sessionsEnded, handleFreeAt: new Date(outcome.deletedAt + config.deletedHandleGraceMs).toISOString() };
  }

  /** Leaves every group the user is in, one after the other; how many were left. */
  private async leaveGroups(user: PublicUser): Promise<number> {
    const groups = (await this.deps.relational.roomsOf(user.id)).filter((r) => r.kind === 'group');
    let left = 0;
    for (const g of groups) if (await this.leave(g.id, user)) left++;
    return left;
  }

  /** One leave through the group's room actor: true once stored, false when the user was no longer a member. */
  private leave(room: string, user: PublicUser): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const requester: Requester = {
        user,
        reply: (frame) => {
          if (frame.type === 'group.done') resolve(true);
        },
        fail: (err) => (err.code === 'room_not_found' ? resolve(false) : reject(err)),
      };
      this.deps.rooms.tell(room, { type: 'group', conn: requester, ref: LEAVE_REF, req: { type: 'group.leave', room } });
    });
  }
}
