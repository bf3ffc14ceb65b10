/**
 * A movement's one-time password: the customer's answer to the login or transfer
 * verification the movement waits on, under the one attempt policy (../otp.ts).
 */
import type { Movement } from '../../adapters/store/store.js';
import type { VerifyTransfer } from '../../adapters/verify/client.js';
import type { DomainContext } from '../context.js';
import { DomainError } from '../errors.js';
import { answerChallenge, parsePending, pendingFrom, type GiveUpReason } from '../otp.js';
import { toDomainError } from '../verify-errors.js';
import { advance, applyTransfer, finish, leaseMs, newLeaseOwner, update } from './drive.js';
import { isAwaitingOtp } from './status.js';

export type OtpOutcome = 'done' | 'another_challenge';

const GIVE_UP_REASONS: Record<GiveUpReason, string> = {
  expired: 'one-time password expired',
  too_many_failures: 'too many one-time password failures',
  rejected_by_bank: 'the bank failed the verification',
};

/**
 * Submits the customer's otp to the movement's pending Verify verification and moves the
 * movement on. Throws otp_invalid / otp_expired / otp_too_many_failures (451/452/453).
 */
export async function validateMovementOtp(ctx: DomainContext, movement: Movement, otp: string): Promise<OtpOutcome> {
  const now = ctx.now();
  const owner = newLeaseOwner(ctx);
  if (!(await ctx.store.claimMovement(movement.id, owner, now, now + leaseMs(ctx)))) {
    throw new DomainError('in_progress', 'This transfer is being processed; retry shortly', { retryAfterSeconds: 1 });
  }
  try {
    const m = (await ctx.store.getMovement(movement.id)) ?? movement;
    const pending = parsePending(m.pending_json);
    if (!pending || !isAwaitingOtp(m.status)) return 'done';
    const verification = await answerChallenge(
      ctx,
      {
        holder: 'movement',
        id: m.id,
        userId: m.user_id,
        pending,
        startedAt: m.otp_started_at,
        consequence: 'the transfer was cancelled',
        giveUp: (reason) => endAwaiting(ctx, m, GIVE_UP_REASONS[reason]),
      },
      otp,
    );
    if (!verification) return 'done'; // Verify had already settled it: the platform's retry shows how
    // succeeded: the parent may carry another verification, or be done
    const parent = verification.verifiable;
    if (parent && parent.status === 'pending_verification' && parent.verification) {
      const next = pendingFrom(parent.verification, pending.target);
      await update(ctx, m, { pending_json: JSON.stringify(next), otp_attempts: 0, otp_started_at: ctx.now() });
      return 'another_challenge';
    }
    if (pending.target.type === 'session') {
      const advanced = await advance(ctx, await update(ctx, m, { status: 'logged_in', pending_json: null }), owner);
      return advanced.status === 'awaiting_transfer_otp' ? 'another_challenge' : 'done';
    }
    const transfer = parent && parent.object === 'transfer' ? (parent as VerifyTransfer) : await ctx.verify.getTransfer(pending.target.transferId);
    await applyTransfer(ctx, m, transfer);
    return 'done';
  } catch (error) {
    throw toDomainError(error);
  } finally {
    await ctx.store.releaseMovement(movement.id, owner).catch(() => {});
  }
}

/**
 * Ends a movement that waits for a one-time password the customer can no longer give. Its
 * transfer, if Verify has one, may have moved money already (an answer whose reply was lost):
 * Verify is asked first: a transfer it completed is recorded as processed ('settled'); one it
 * failed or still holds unanswered is cancelled (no money moved); when Verify cannot be asked, the outcome stays unknown
 * (transfer_requested, shown as pending) and reconciliation asks later.
 */
export async function endAwaiting(ctx: DomainContext, m: Movement, reason: string): Promise<'ended' | 'settled'> {
  if (m.status !== 'awaiting_transfer_otp' || !m.verify_transfer_id) {
    // a login verification: no transfer exists yet, nothing can have moved
    await finish(ctx, m, 'cancelled', { failure_reason: reason });
    return 'ended';
  }
  let transfer: VerifyTransfer;
  try {
    transfer = await ctx.verify.getTransfer(m.verify_transfer_id);
  } catch (error) {
    await update(ctx, m, { status: 'transfer_requested', pending_json: null });
    ctx.log.warn({ movement: m.id }, 'could not ask Verify before cancelling: outcome unknown, left to reconciliation');
    throw toDomainError(error);
  }
  if (transfer.status === 'succeeded') {
    await applyTransfer(ctx, m, transfer);
    ctx.log.info({ movement: m.id }, 'Verify had completed the transfer before the one-time password was given up');
    return 'settled';
  }
  // Verify failed it (the bank failed the verification) or still holds it unanswered: no money moved
  await finish(ctx, m, 'cancelled', { failure_reason: reason, verify_status: transfer.status });
  return 'ended';
}
