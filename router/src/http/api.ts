/**
 * The /api of a router node: every feature's routes, each given only what it uses (AuthDeps,
 * PasskeyRoutesDeps, SessionDeps, UsersDeps, PushDeps, ReceiptRoutesDeps, SearchRoutesDeps, AccountRoutesDeps, PrivacyRoutesDeps, AttachmentRoutesDeps; CallerDeps for the guards), and the guards their groups run. Built once, here, from
 * the node's stores and services; app.ts registers the result.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../../db/clock.ts';
import { accountRoutes } from '../account/account.routes.ts';
import { AccountService } from '../account/account.service.ts';
import { ExportService } from '../account/export.service.ts';
import { attachmentRoutes } from '../attachments/attachments.routes.ts';
import { avatarRoutes } from '../attachments/avatar.routes.ts';
import { AvatarService } from '../attachments/avatar.service.ts';
import { UploadService } from '../attachments/upload.service.ts';
import { authRoutes } from '../auth/auth.routes.ts';
import { OAuthService } from '../auth/oauth.service.ts';
import { passkeyRoutes } from '../auth/passkey.routes.ts';
import { PasskeyService } from '../auth/passkey.service.ts';
import { SessionActivity } from '../auth/session.activity.ts';
import { sessionsRoutes } from '../auth/sessions.routes.ts';
import { SignInLimiter } from '../auth/signin.limiter.ts';
import type { ChatroomDirectory } from '../chat/chatroom.directory.ts';
import { receiptRoutes } from '../chat/receipts.routes.ts';
import type { Config } from '../config.ts';
import type { Notifications } from '../notify/notifications.ts';
import { pushRoutes } from '../notify/push.routes.ts';
import { privacyRoutes } from '../privacy/privacy.routes.ts';
import { PrivacyService } from '../privacy/privacy.service.ts';
import type { Stores } from '../stores.ts';
import { searchRoutes } from '../search/search.routes.ts';
import { SearchService } from '../search/search.service.ts';
import { ProfileService } from '../users/profile.service.ts';
import { usersRoutes } from '../users/users.routes.ts';
import { callerOf, edgeGuards, type Caller } from './caller.ts';
import type { HttpDeps } from './app.ts';

/** What the /api is built from. */
export interface ApiSources {
  config: Readonly<Config>;
  log: Logger;
  stores: Pick<Stores, 'sessions' | 'relational' | 'auth' | 'accounts' | 'history' | 'attempts' | 'rateLimits' | 'notify' | 'bus' | 'search' | 'privacy' | 'blobs' | 'uploads' | 'spoolDir'>;
  notifications: Pick<Notifications, 'vapidPublicKey' | 'pushEndpoints'>;
  /** The room actors: deleting an account leaves its groups through them; receipts over HTTP raise their watermarks. */
  rooms: Pick<ChatroomDirectory, 'tell'>;
  /** The time deletions are stamped with, exports dated by and sessions' activity measured on. */
  clock: Clock;
}

/**
 * The guards and route modules of the /api, how they recognise a caller, and how a session's use
 * is marked (the WebSocket upgrade and the sockets' frames use both too).
 */
export function apiRoutes({ config, log, stores, notifications, rooms, clock }: ApiSources): Pick<HttpDeps, 'guards' | 'routes'> & {
  callerOf: (req: IncomingMessage) => Promise<Caller | null>;
  activity: SessionActivity;
} {
  const activity = new SessionActivity({ sessions: stores.sessions, config, log, clock });
  const callers = { sessions: stores.sessions, relational: stores.relational, activity, config, log };
  const caller = (req: IncomingMessage) => callerOf(req, callers);
  const sessions = { sessions: stores.sessions, bus: stores.bus, config };
  // One limiter serves passkeys and OAuth: its counts live in the store, so they share one budget anyway.
  const limiter = new SignInLimiter({ rateLimits: stores.rateLimits, config, log });
  const services = { auth: stores.auth, attempts: stores.attempts, config, log };
  const profiles = new ProfileService({ auth: stores.auth, relational: stores.relational, bus: stores.bus, log });
  return {
    callerOf: caller,
    activity,
    guards: edgeGuards(callers),
    routes: [
      authRoutes({
        ...sessions,
        auth: stores.auth,
        profiles,
        oauth: new OAuthService(services),
        limiter,
        callerOf: caller,
        log,
      }),
      sessionsRoutes(sessions),
      passkeyRoutes({ ...sessions, auth: stores.auth, passkeys: new PasskeyService(services), limiter }),
      usersRoutes({ auth: stores.auth }),
      searchRoutes({
        searches: new SearchService({
          search: stores.search,
          rooms: stores.relational,
          // What the caller deleted for themselves is not found again.
          hiddenFor: async (user, found) => {
            const hidden = await stores.relational.hiddenOf(user, [...new Set(found.map((f) => f.room))]);
            return found.filter((f) => hidden.get(f.room)?.includes(f.seq));
          },
        }),
      }),
      privacyRoutes({ privacy: new PrivacyService({ privacy: stores.privacy, auth: stores.auth, bus: stores.bus }) }),
      pushRoutes({ notify: stores.notify, rooms: stores.relational, vapidPublicKey: notifications.vapidPublicKey, pushEndpoints: notifications.pushEndpoints, log }),
      attachmentRoutes({
        uploader: new UploadService({ blobs: stores.blobs, uploads: stores.uploads, spoolDir: stores.spoolDir, config: config.attachments, clock, log }),
        blobs: stores.blobs,
        uploads: stores.uploads,
        relational: stores.relational,
        withheld: stores.privacy,
        log,
      }),
      avatarRoutes({
        avatars: new AvatarService({ blobs: stores.blobs, auth: stores.auth, profiles, relational: stores.relational, spoolDir: stores.spoolDir, config: config.attachments, log }),
        blobs: stores.blobs,
        log,
      }),
      receiptRoutes({ rooms }),
      accountRoutes({
        accounts: new AccountService({ accounts: stores.accounts, relational: stores.relational, sessions: stores.sessions, bus: stores.bus, rooms, clock, config: config.account, log }),
        exports: new ExportService({ auth: stores.auth, accounts: stores.accounts, relational: stores.relational, history: stores.history, rateLimits: stores.rateLimits, clock, config: config.account, log }),
        log,
      }),
    ],
  };
}
