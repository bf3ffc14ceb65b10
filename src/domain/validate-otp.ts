/**
 * /validate_otp: the customer's answer to whatever verification is pending — the sign-in's
 * own, or a movement's — with Kasisto's outcomes: a rotated token, otp_invalid (451),
 * otp_expired (452), otp_too_many_failures (453; the pending operation is ended).
 * Answers of one customer are judged one at a time (any instance), each against the state
 * the previous one left.
 */
import type { Grant } from '../adapters/store/store.js';
import type { DomainContext } from './context.js';
import { oneAnswerAtATime } from './customer-guard.js';
import { DomainError, forbidden, invalidField } from './errors.js';
import { validateMovementOtp } from './movements/otp.js';
import { answerChallenge, parsePending, pendingFrom } from './otp.js';
import { rotate, type Caller } from './sessions.js';

export async function validateOtp(ctx: DomainContext, caller: Caller, otp: unknown): Promise<{ userId: string; token: string }> {
  if (typeof otp !== 'string' || otp.trim().length === 0) throw invalidField('otp', 'is required');
  if (otp.length > 1024) throw invalidField('otp', 'must be at most 1024 characters');
  const { grant } = caller;
  await oneAnswerAtATime(ctx, grant.user_id, async () => {
    // read again under the lease: an answer judged meanwhile may have ended or completed it
    const current = await ctx.store.getGrant(grant.id);
    if (!current || current.status === 'ended') throw forbidden('The token is not valid or has expired: call /token again');
    if (current.status === 'pending_otp') {
      await validateSignInOtp(ctx, caller, current, otp);
    } else {
      const movement = await ctx.store.findAwaitingMovement(grant.id);
      if (!movement) throw forbidden('No one-time password is pending for this token');
      await validateMovementOtp(ctx, movement, otp);
    }
  });
  // A successful OTP always answers a fresh token (Kasisto's flow), the old one keeps its grace.
  const token = await rotate(ctx, caller);
  return { userId: grant.user_id, token };
}

async function validateSignInOtp(ctx: DomainContext, caller: Caller, current: Grant, otp: string): Promise<void> {
  const pending = parsePending(current.pending_json);
  if (!pending) throw forbidden('No one-time password is pending for this token');
  const endSignIn = async () => {
    await ctx.store.endGrant(current.id);
    return 'ended' as const;
  };
  const verification = await answerChallenge(
    ctx,
    { holder: 'grant', id: current.id, userId: current.user_id, pending, startedAt: current.otp_started_at, consequence: 'sign in again', giveUp: endSignIn },
    otp,
  );
  const parent = verification?.verifiable;
  if (parent && parent.status === 'pending_verification' && parent.verification) {
    const next = pendingFrom(parent.verification, pending.target);
    await ctx.store.updateGrant(current.id, { pending_json: JSON.stringify(next), otp_attempts: 0, otp_started_at: ctx.now() });
    return;
  }
  if (parent && parent.status !== 'connected') {
    await endSignIn();
    throw new DomainError('otp_too_many_failures', 'The bank did not complete the sign-in; sign in again');
  }
  if (!(await ctx.store.activateGrant(current.id))) throw forbidden('The token is not valid or has expired: call /token again');
  caller.grant.status = 'active';
}
