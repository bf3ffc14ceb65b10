/**
 * Who may call: Kasisto's `secret` on every API route (checked first, before the body is
 * read, in constant time), the rate limit, and the customer's `token` on the operations
 * whose contract requires it (checked once the body is parsed, for its user_id, but before
 * it is validated: a caller without a valid token gets 403, never a 400 about the body).
 * The token is rotated only on a 200, the one answer the platform takes a token from.
 *
 * These are plain synchronous hooks attached to each API route when it is added (see
 * app.ts): what a route needs is known then, so nothing is looked up per request.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Config } from '../config.js';
import type { DomainContext } from '../domain/context.js';
import { storedTokenHash } from '../domain/crypto.js';
import { authenticate, requireSignedIn, rotateIfDue, type Caller } from '../domain/sessions.js';
import { runWithVerifyDeadline } from '../adapters/verify/deadline.js';
import { ApiError } from './errors.js';
import { unauthorized } from './error-handler.js';
import { addressBucket, RateLimiter, type Verdict } from './rate-limit.js';
import { secretDigest, secretMatches } from './secret.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated customer of a token operation. */
    caller?: Caller;
    /** The token header's keyed hash: worked out once, for the rate limit, and reused by authenticate. */
    tokenHash?: string;
  }
}

type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
type SendHook = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void;

export interface AuthHooks {
  /** true when the presented secret is one of the accepted ones */
  secretAccepted(request: FastifyRequest): boolean;
  /** onRequest of every API route: the secret, the rate limit, the Verify budget */
  guard: Hook;
  /** preValidation of the token operations; `answersOtp` for the one that answers a pending OTP */
  checkToken(answersOtp: boolean): Hook;
  /** onSend of the token operations: a due rotation, on a 200 only */
  passToken: SendHook;
}

export function authHooks(config: Config, ctx: DomainContext): AuthHooks {
  const accepted = config.kasistoSecrets.map(secretDigest);
  // Limits are per instance (in memory): N instances allow up to N times the limit.
  const limiter = new RateLimiter(config.rateLimitWindowSeconds * 1000);
  const secretAccepted = (request: FastifyRequest) => secretMatches(request.headers.secret as string | undefined, accepted);

  const guard: Hook = (request, reply, done) => {
    if (!secretAccepted(request)) return done(unauthorized());
    // Only callers that presented the secret are counted (the rest got a constant-time 401):
    // by the customer's token when one is sent (its keyed hash, as the store knows it), else
    // by client address (TRUST_PROXY decides which).
    const token = request.headers.token;
    let verdict: Verdict;
    if (typeof token === 'string' && token.length > 0) {
      const hash = storedTokenHash(ctx.keys, token);
      request.tokenHash = hash;
      verdict = limiter.hit(`token:${hash}`, config.rateLimitPerToken);
    } else {
      verdict = limiter.hit(`address:${addressBucket(request.ip)}`, config.rateLimitPerAddress);
    }
    if (!verdict.allowed) {
      const seconds = verdict.retryAfterSeconds;
      return done(new ApiError(429, 'rate_limited', `Too many requests; retry in ${seconds} second${seconds === 1 ? '' : 's'}`, undefined, seconds));
    }
    // All Verify calls of one Kasisto request share a budget that starts when it arrives.
    runWithVerifyDeadline(performance.now() - reply.elapsedTime + config.verifyBudgetMs, done);
  };

  const checkToken = (answersOtp: boolean): Hook => (request, _reply, done) => {
    const body = request.body as { user_id?: unknown } | undefined;
    const userId = body && typeof body === 'object' && !Array.isArray(body) ? body.user_id : undefined;
    authenticate(ctx, request.headers.token, userId, request.tokenHash)
      .then((caller) => {
        request.caller = caller;
        // Data operations wait for a sign-in's pending one-time password; the operation that
        // answers it does not (the error handler turns the 450 into a 403 where the contract has none).
        if (!answersOtp) requireSignedIn(caller);
      })
      .then(() => done(), done);
  };

  const passToken: SendHook = (request, reply, payload, done) => {
    const caller = request.caller;
    if (!caller || reply.statusCode !== 200) return done(null, payload);
    if (!caller.rotationDue || caller.newToken) {
      if (caller.newToken) reply.header('token', caller.newToken);
      return done(null, payload);
    }
    rotateIfDue(ctx, caller)
      .catch((error: unknown) => {
        request.log.warn({ err: error }, 'token rotation failed; the current token stays valid');
        return caller.newToken;
      })
      .then((token) => {
        if (token) reply.header('token', token);
        done(null, payload);
      });
  };

  return { secretAccepted, guard, checkToken, passToken };
}
