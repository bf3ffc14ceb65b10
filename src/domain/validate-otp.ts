/**
 * /validate_otp: the customer's answer to whatever verification is pending — the sign-in's
 * own, or a movement's — with Kasisto's outcomes: 200 and a rotated token, 451 (wrong,
 * try again), 452 (too late), 453 (too many failures; the pending operation is cancelled).
 */
import { ApiError, forbidden, invalidField } from '../http/errors.js';
import type { DomainContext } from './context.js';
import { submit, validateMovementOtp } from './movements.js';
import { parsePending, pendingFrom } from './otp.js';
import { rotate, type Caller } from './sessions.js';
import { toApiError } from './verify-errors.js';

export async function validateOtp(ctx: DomainContext, caller: Caller, otp: unknown): Promise<{ userId: string; token: string }> {
  if (typeof otp !== 'string' || otp.trim().length === 0) throw invalidField('otp', 'is required');
  if (otp.length > 1024) throw invalidField('otp', 'must be at most 1024 characters');
  const { grant } = caller;
  if (grant.status === 'pending_otp') {
    await validateSignInOtp(ctx, caller, otp);
  } else {
    const movement = await ctx.store.findAwaitingMovement(grant.id);
    if (!movement) throw forbidden('No one-time password is pending for this token');
    await validateMovementOtp(ctx, movement, otp);
  }
  // A successful OTP always answers a fresh token (Kasisto's flow), the old one keeps its grace.
  const token = await rotate(ctx, caller);
  return { userId: grant.user_id, token };
}

async function validateSignInOtp(ctx: DomainContext, caller: Caller, otp: string): Promise<void> {
  const { grant } = caller;
  const pending = parsePending(grant.pending_json);
  if (!pending) throw forbidden('No one-time password is pending for this token');
  const now = ctx.now();
  if (grant.otp_started_at !== null && now - grant.otp_started_at > ctx.config.otpWindowSeconds * 1000) {
    await ctx.store.endGrant(grant.id);
    throw new ApiError(452, 'otp_expired', 'The one-time password has expired; sign in again');
  }
  const attempts = await ctx.store.countGrantOtpAttempt(grant.id);
  const tooMany = async (message: string) => {
    await ctx.store.endGrant(grant.id);
    return new ApiError(453, 'otp_too_many_failures', message);
  };
  if (attempts > ctx.config.otpMaxAttempts) throw await tooMany('Too many wrong one-time passwords; sign in again');
  let verification;
  try {
    verification = await submit(ctx, pending, otp);
  } catch (error) {
    await ctx.store.refundGrantOtpAttempt(grant.id).catch(() => {}); // no verdict: not a wrong password
    throw toApiError(error);
  }
  if (verification.status === 'retry' || verification.status === 'initial') {
    if (attempts >= ctx.config.otpMaxAttempts) throw await tooMany('Too many wrong one-time passwords; sign in again');
    throw new ApiError(451, 'otp_invalid', `The one-time password is not correct; ${ctx.config.otpMaxAttempts - attempts} attempt(s) left`);
  }
  if (verification.status === 'failed') throw await tooMany('The bank rejected the one-time password; sign in again');
  const parent = verification.verifiable;
  if (parent && parent.status === 'pending_verification' && parent.verification) {
    const next = pendingFrom(parent.verification, pending.target);
    await ctx.store.updateGrant(grant.id, { pending_json: JSON.stringify(next), otp_attempts: 0, otp_started_at: ctx.now() });
    return;
  }
  if (parent && parent.status !== 'connected') throw await tooMany('The bank did not complete the sign-in; sign in again');
  await ctx.store.updateGrant(grant.id, { status: 'active', pending_json: null, otp_attempts: 0, otp_started_at: null });
  grant.status = 'active';
}
