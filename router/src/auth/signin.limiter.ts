/**
 * Sign-up and sign-in attempts per client address. Each passkey sign-up, passkey sign-in and OAuth
 * start mints an attempt (a challenge, a state), and every account made of one gets its own
 * message rate; without a bound one address could open accounts by the hundred in seconds. The
 * count is taken when the attempt starts (a verify or callback needs a started attempt), in the
 * rate-limit store, which Redis shares between the nodes. Over the limit: 429
 * `too_many_attempts` with Retry-After.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RateLimitStore, RateLimitVerdict } from '../../../db/ratelimit.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import { addressKey, ClientAddresses } from '../http/client.address.ts';
import type { AttemptLimit, EdgeConfig } from '../edge.config.ts';

/** What is being attempted: a new account, or signing in to one (passkey or OAuth). */
export type AttemptKind = 'signup' | 'signin';

export interface SignInLimiterDeps {
  rateLimits: RateLimitStore;
  config: { edge: EdgeConfig };
  log: Logger;
}

export class SignInLimiter {
  readonly #addresses: ClientAddresses;
  readonly #limits: Record<AttemptKind, AttemptLimit>;

  private readonly deps: SignInLimiterDeps;

  constructor(deps: SignInLimiterDeps) {
    this.deps = deps;
    this.#addresses = new ClientAddresses(deps.config.edge.trustProxy);
    this.#limits = { signup: deps.config.edge.signUp, signin: deps.config.edge.signIn };
  }

  /**
   * Counts one attempt of `kind` from the request's client. Over the limit it sets Retry-After
   * (whole seconds) on `res` and throws `too_many_attempts`; a store that does not answer is
   * `unavailable`, as the attempt store on the same Redis would be.
   */
  async admit(req: IncomingMessage, res: ServerResponse, kind: AttemptKind): Promise<void> {
    const { limit, windowMs } = this.#limits[kind];
    const address = this.#addresses.of(req);
    let verdict: RateLimitVerdict;
    try {
      verdict = await this.deps.rateLimits.hit(`${kind}:${addressKey(address)}`, limit, windowMs);
    } catch (err) {
      this.deps.log.warn({ err }, 'rate limit store failed');
      throw new AppError('unavailable');
    }
    if (verdict.allowed) return;
    this.deps.log.info({ kind, address }, 'too many sign-in attempts');
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
    throw new AppError('too_many_attempts');
  }
}
