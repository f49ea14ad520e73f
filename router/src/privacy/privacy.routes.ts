/**
 * Blocking and privacy settings over HTTP (docs/http-api.md, "Privacy and blocking"): parse,
 * delegate to the PrivacyService, answer. Signed-in users only; state changes from our origin.
 */
import { z } from 'zod';
import type { BlockResponse, BlocksResponse, PrivacyRequest, PrivacyResponse } from '../../../protocol/http.ts';
import type { RouteModule } from '../http/route.ts';
import { readJson, sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';
import type { PrivacyService } from './privacy.service.ts';

export interface PrivacyRoutesDeps {
  privacy: Pick<PrivacyService, 'block' | 'unblock' | 'blocks' | 'settings' | 'setSettings'>;
}

const userParam = z.object({ user: z.coerce.number().int().positive().max(2 ** 31 - 1) });
const privacyBody = z
  .strictObject({ lastSeen: z.enum(['everyone', 'contacts', 'nobody']).optional(), readReceipts: z.boolean().optional() })
  .refine((b) => b.lastSeen !== undefined || b.readReceipts !== undefined, 'at least one of lastSeen and readReceipts');

/** The privacy routes. */
export function privacyRoutes({ privacy }: PrivacyRoutesDeps): RouteModule {
  return ({ signedIn }) => {
    signedIn.get('/api/blocks', async (req, res) => {
      sendJson(res, 200, { blocks: await privacy.blocks(req.caller.user.id) } satisfies BlocksResponse);
    });

    signedIn.put('/api/blocks/:user', async (req, res) => {
      const { user } = parseWith(userParam, req.params);
      sendJson(res, 200, (await privacy.block(req.caller.user.id, user)) satisfies BlockResponse);
    });

    signedIn.delete('/api/blocks/:user', async (req, res) => {
      const { user } = parseWith(userParam, req.params);
      await privacy.unblock(req.caller.user.id, user);
      res.writeHead(204).end();
    });

    signedIn.get('/api/me/privacy', async (req, res) => {
      sendJson(res, 200, (await privacy.settings(req.caller.user.id)) satisfies PrivacyResponse);
    });

    signedIn.put('/api/me/privacy', async (req, res) => {
      const change = parseWith(privacyBody, await readJson(req)) satisfies PrivacyRequest;
      sendJson(res, 200, (await privacy.setSettings(req.caller.user.id, change)) satisfies PrivacyResponse);
    });
  };
}
