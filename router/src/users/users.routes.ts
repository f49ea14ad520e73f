/**
 * The user directory: find a user by handle to start a chat, or read a profile by id. Signed-in
 * users only, so the directory cannot be enumerated anonymously.
 */
import { z } from 'zod';
import type { AuthStore } from '../../../db/auth.port.ts';
import { handleSchema } from '../../../protocol/auth.schema.ts';
import type { UserResponse } from '../../../protocol/http.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { RouteModule } from '../http/route.ts';
import { sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';

export interface UsersDeps {
  auth: Pick<AuthStore, 'profile' | 'profileByHandle'>;
}

const handleQuery = z.object({ handle: handleSchema });
const idParam = z.object({ id: z.coerce.number().int().positive().max(2 ** 31 - 1) });

/** The directory routes. */
export function usersRoutes({ auth }: UsersDeps): RouteModule {
  return ({ signedIn }) => {
    signedIn.get('/api/users', async (req, res) => {
      const { handle } = parseWith(handleQuery, req.query);
      const user = await auth.profileByHandle(handle);
      if (!user) throw new AppError('user_not_found');
      sendJson(res, 200, { user } satisfies UserResponse);
    });

    signedIn.get('/api/users/:id', async (req, res) => {
      const { id } = parseWith(idParam, req.params);
      const user = await auth.profile(id);
      if (!user) throw new AppError('user_not_found');
      sendJson(res, 200, { user } satisfies UserResponse);
    });
  };
}
