/**
 * The account's own routes: deleting it and exporting its data (docs/http-api.md). Handlers parse
 * and delegate (account.service.ts, export.service.ts).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { accountDeleteBody } from '../../../protocol/auth.schema.ts';
import type { AccountDeleteResponse } from '../../../protocol/http.ts';
import type { Logger } from '../../../kit/logger.ts';
import { clearSessionCookie } from '../auth/session.ts';
import type { RouteModule } from '../http/route.ts';
import { readJson, sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';
import type { AccountService } from './account.service.ts';
import { ExportBusy, type ExportService } from './export.service.ts';

export interface AccountRoutesDeps {
  accounts: AccountService;
  exports: ExportService;
  log: Logger;
}

/** The account routes. */
export function accountRoutes({ accounts, exports, log }: AccountRoutesDeps): RouteModule {
  return ({ signedIn }) => {
    signedIn.delete('/api/me', async (req, res) => {
      const { handle } = parseWith(accountDeleteBody, await readJson(req));
      const done = await accounts.delete(req.caller.user, handle);
      clearSessionCookie(res);
      sendJson(res, 200, done satisfies AccountDeleteResponse);
    });

    signedIn.get('/api/me/export', async (req, res) => {
      const user = req.caller.user;
      let release: () => void;
      try {
        release = await exports.admit(user.id);
      } catch (err) {
        if (err instanceof ExportBusy) res.setHeader('Retry-After', String(err.retryAfterS));
        throw err;
      }
      try {
        const document = exports.document(user.id);
        // The first piece is read before the status goes out: a store down at the start is still a 503.
        const first = await document.next();
        res.writeHead(200, {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Disposition': `attachment; filename="messenger-${user.handle}-${new Date().toISOString().slice(0, 10)}.json"`,
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
        });
        const rest = async function* () {
          if (!first.done) yield first.value;
          yield* document;
        };
        // pipeline waits for the socket to take each piece (backpressure) and stops reading the
        // store when the client goes away.
        await pipeline(Readable.from(rest(), { objectMode: false }), res).catch((err: unknown) => {
          // The status is out: a failure now can only cut the download short, which the client sees.
          if (!res.destroyed) res.destroy();
          log.warn({ err, user: user.id }, 'export ended early');
        });
      } finally {
        release();
      }
    });
  };
}
