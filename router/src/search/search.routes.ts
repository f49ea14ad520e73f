/**
 * GET /api/search (docs/http-api.md, "Search"): parses the query string and delegates to the
 * SearchService. Signed-in users only, and only over their own rooms.
 */
import { z } from 'zod';
import { AppError } from '../../../protocol/app-error.ts';
import type { SearchResponse } from '../../../protocol/http.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import { parseSearchQuery } from '../../../protocol/search.ts';
import type { RouteModule } from '../http/route.ts';
import { sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';
import { decodeCursor, encodeCursor } from './search.cursor.ts';
import type { SearchService } from './search.service.ts';

export interface SearchRoutesDeps {
  searches: Pick<SearchService, 'search'>;
}

/** Results per page when `limit` is not given. */
export const SEARCH_PAGE_DEFAULT = 20;

const paramsSchema = z.object({
  room: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.searchPageMax).optional(),
});

/** The search route. */
export function searchRoutes({ searches }: SearchRoutesDeps): RouteModule {
  return ({ signedIn }) => {
    signedIn.get('/api/search', async (req, res) => {
      // A repeated parameter arrives as an array: not a query, whatever its parts.
      const q = req.query.q;
      const words = typeof q === 'string' ? parseSearchQuery(q) : null;
      if (!words) throw new AppError('invalid_query');
      const { room, limit = SEARCH_PAGE_DEFAULT } = parseWith(paramsSchema, { room: req.query.room, limit: req.query.limit });
      const binding = { words, ...(room !== undefined ? { room } : {}) };
      const after = req.query.cursor === undefined ? undefined : decodeCursor(binding, req.query.cursor);
      const page = await searches.search(req.caller.user.id, { ...binding, limit, ...(after ? { after } : {}) });
      sendJson(res, 200, { results: page.hits, ...(page.next ? { next: encodeCursor(binding, page.next) } : {}) } satisfies SearchResponse);
    });
  };
}
