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
import { runWithVerifyDeadline, setVerifyKey } from '../adapters/verify/deadline.js';
import { ApiError } from './errors.js';
import { unauthorized } from './error-handler.js';
import { addressBucket, RateLimiter, type Verdict } from './rate-limit.js';
import { secretDigest, secretMatches } from './secret.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated customer of a token operation. */
    caller?: Caller;
  }
}

type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
type SendHook = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void;

export interface AuthHooks {
  /** true when the presented secret is one of the accepted ones */
  secretAccepted(request: FastifyRequest): boolean;
  /** onRequest of every API route: the secret, the address rate limit (operations without a token), the Verify budget */
  guard(needsToken: boolean): Hook;
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

  const tooMany = (verdict: Verdict) => {
    const seconds = verdict.retryAfterSeconds;
    return new ApiError(429, 'rate_limited', `Too many requests; retry in ${seconds} second${seconds === 1 ? '' : 's'}`, undefined, seconds);
  };
  const byAddress = (request: FastifyRequest) => limiter.hit(`address:${addressBucket(request.ip)}`, config.rateLimitPerAddress);

  // onRequest of every API route. Only callers that presented the secret are counted (the
  // rest got a constant-time 401). What a caller sends never picks its bucket: operations
  // without a token count by client address (TRUST_PROXY decides which); token operations
  // count by the customer's token once it is known to be valid (checkToken), and a token
  // that is not valid counts against the address.
  const guard = (needsToken: boolean): Hook => (request, reply, done) => {
    if (!secretAccepted(request)) return done(unauthorized());
    if (!needsToken) {
      const verdict = byAddress(request);
      if (!verdict.allowed) return done(tooMany(verdict));
    }
    // All Verify calls of one Kasisto request share a budget that starts when it arrives.
    runWithVerifyDeadline(performance.now() - reply.elapsedTime + config.verifyBudgetMs, done);
  };

  const checkToken = (answersOtp: boolean): Hook => (request, _reply, done) => {
    const body = request.body as { user_id?: unknown } | undefined;
    const userId = body && typeof body === 'object' && !Array.isArray(body) ? body.user_id : undefined;
    const token = request.headers.token;
    const tokenHash = typeof token === 'string' && token.length > 0 && token.length <= 512 ? storedTokenHash(ctx.keys, token) : undefined;
    authenticate(ctx, token, userId, tokenHash)
      .then(
        (caller) => {
          const verdict = limiter.hit(`token:${caller.tokenHash}`, config.rateLimitPerToken);
          if (!verdict.allowed) throw tooMany(verdict);
          request.caller = caller;
          // this customer's Verify calls share one customer's part of the pool
          setVerifyKey(caller.grant.user_id);
          // Data operations wait for a sign-in's pending one-time password; the operation that
          // answers it does not (the error handler turns the 450 into a 403 where the contract has none).
          if (!answersOtp) requireSignedIn(caller);
        },
        (error: unknown) => {
          const verdict = byAddress(request);
          throw verdict.allowed ? error : tooMany(verdict);
        },
      )
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
