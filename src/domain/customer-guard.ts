/**
 * Limits that hold per customer (the pseudonymous user_id), whatever the token or address a
 * caller uses, and on every instance (the store is the arbiter):
 * - sign-in attempts per window (SIGNIN_ATTEMPTS_PER_WINDOW per SIGNIN_WINDOW_SECONDS);
 * - a lockout after CUSTOMER_MAX_FAILURES failed passwords or one-time passwords, for
 *   CUSTOMER_LOCKOUT_SECONDS: guesses are refused here, never relayed to the bank;
 * - one answer to a pending verification at a time (a lease), so answers sent at once are
 *   judged one after another, never raced.
 */
import { currentVerifyDeadline } from '../adapters/verify/deadline.js';
import type { DomainContext } from './context.js';
import { newId } from './crypto.js';
import { DomainError, inProgress } from './errors.js';

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function locked(until: number, now: number): DomainError {
  const wait = seconds(until - now);
  return new DomainError('customer_locked', `Too many failed sign-ins or one-time passwords for this customer; try again in ${Math.ceil(wait / 60)} minute(s)`, {
    retryAfterSeconds: wait,
  });
}

/** Counts a sign-in attempt; refuses it when the customer is locked out or over the window's limit. */
export async function admitSignIn(ctx: DomainContext, userId: string): Promise<void> {
  const now = ctx.now();
  const windowMs = ctx.config.signInWindowSeconds * 1000;
  const seen = await ctx.store.countSignInAttempt(userId, now, windowMs);
  if (seen.lockedUntil > now) throw locked(seen.lockedUntil, now);
  if (seen.attempts > ctx.config.signInAttemptsPerWindow) {
    const wait = seconds(seen.windowStartedAt + windowMs - now);
    throw new DomainError('rate_limited', `Too many sign-in attempts for this customer; retry in ${wait} second${wait === 1 ? '' : 's'}`, { retryAfterSeconds: wait });
  }
}

/** The customer's lockout error, if they are locked out now. */
export async function lockout(ctx: DomainContext, userId: string): Promise<DomainError | undefined> {
  const now = ctx.now();
  const until = await ctx.store.customerLockedUntil(userId);
  return until > now ? locked(until, now) : undefined;
}

/** Counts a failed password or one-time password; true when it locked the customer out. */
export async function countFailure(ctx: DomainContext, userId: string): Promise<boolean> {
  const now = ctx.now();
  const lockMs = ctx.config.customerLockoutSeconds * 1000;
  const until = await ctx.store.countCustomerFailure(userId, now, now - lockMs, ctx.config.customerMaxFailures, now + lockMs);
  if (until > now) ctx.log.warn({ user_id: userId, locked_for_s: seconds(until - now) }, 'customer locked out after repeated failures');
  return until > now;
}

/** A completed sign-in or verification proves the customer: earlier failures are forgotten. */
export function forgetFailures(ctx: DomainContext, userId: string): Promise<void> {
  return ctx.store.clearCustomerFailures(userId);
}

/**
 * Runs `work` holding the customer's verification lease. Another answer in flight for the
 * same customer (any instance) is waited for, within the request's Verify budget; past it,
 * in_progress (503, retry shortly).
 */
export async function oneAnswerAtATime<T>(ctx: DomainContext, userId: string, work: () => Promise<T>): Promise<T> {
  const name = `otp:${userId}`;
  const owner = `${ctx.instanceId}/${newId('otp')}`;
  // long enough for one answer's Verify calls; a crashed holder's lease ends by itself
  const leaseMs = ctx.config.verifyTimeoutMs * 4 + 2000;
  const budget = currentVerifyDeadline();
  const giveUpAt = ctx.now() + Math.min(leaseMs, budget === undefined ? leaseMs : Math.max(0, budget - performance.now()));
  for (;;) {
    const now = ctx.now();
    if (await ctx.store.claimLease(name, owner, now, now + leaseMs)) break;
    if (ctx.now() >= giveUpAt) throw inProgress('Another answer to this one-time password is being checked; retry shortly');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    return await work();
  } finally {
    await ctx.store.releaseLease(name, owner).catch(() => {});
  }
}
