/**
 * The signed-in user's sessions in settings: the list (device, way in, created, last active, this
 * one marked), ending one of them, and ending all but this one. Handlers parse and delegate to
 * session.ts; docs/http-api.md, "Sessions", lists them.
 */
import { sessionIdParam } from '../../../protocol/auth.schema.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { SessionsResponse, SignOutOthersResponse } from '../../../protocol/http.ts';
import type { RouteModule } from '../http/route.ts';
import { sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';
import { clearSessionCookie, endSession, sessionsOf, signOutOthers, type SessionDeps } from './session.ts';

/** The session routes. */
export function sessionsRoutes(deps: SessionDeps): RouteModule {
  return ({ signedIn }) => {
    signedIn.get('/api/sessions', async (req, res) => {
      const { user, session } = req.caller;
      sendJson(res, 200, { sessions: await sessionsOf(deps, user.id, session.id) } satisfies SessionsResponse);
    });

    signedIn.delete('/api/sessions/:id', async (req, res) => {
      const { id } = parseWith(sessionIdParam, req.params);
      const outcome = await endSession(deps, req.caller.user.id, id, req.caller.session.id);
      if (outcome === 'not_found') throw new AppError('session_not_found');
      // Ending the session this request came with is signing out here.
      if (outcome === 'current') clearSessionCookie(res);
      res.writeHead(204).end();
    });

    signedIn.post('/api/signout/others', async (req, res) => {
      const ended = await signOutOthers(deps, req.caller.user.id, req.caller.session.id);
      sendJson(res, 200, { ended } satisfies SignOutOthersResponse);
    });
  };
}
