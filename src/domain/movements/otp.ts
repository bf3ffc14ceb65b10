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
        pending,
        startedAt: m.otp_started_at,
        consequence: 'the transfer was cancelled',
        giveUp: async (reason) => {
          await finish(ctx, m, 'cancelled', { failure_reason: GIVE_UP_REASONS[reason] });
        },
      },
      otp,
    );
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
