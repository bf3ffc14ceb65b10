/**
 * One-time passwords over Verify verifications, for sign-ins and movements alike: what a
 * 450 tells the platform, how the customer's `otp` text becomes Verify's answer, and the one
 * attempt policy (451 wrong, 452 too late, 453 too many or refused by the bank).
 */
import { isKnownVerificationStatus, type VerifyVerification } from '../adapters/verify/client.js';
import type { OtpAttemptHolder } from '../adapters/store/store.js';
import type { DomainContext } from './context.js';
import { DomainError, type OtpChallenge } from './errors.js';
import { countFailure, forgetFailures, lockout } from './customer-guard.js';
import { toDomainError } from './verify-errors.js';

/** What the store keeps about a verification the customer still has to answer. */
export interface PendingVerification {
  verificationId: string;
  type: 'sms' | 'questions';
  challengeText: string;
  questions: string[];
  target: { type: 'session'; sessionId: string } | { type: 'transfer'; transferId: string };
}

export function pendingFrom(verification: VerifyVerification, target: PendingVerification['target']): PendingVerification {
  const questions = verification.questions ?? [];
  return {
    verificationId: verification.id,
    type: verification.type,
    challengeText:
      verification.challenge_text ??
      (verification.type === 'questions' ? 'Please answer the security questions, one answer per line.' : 'Please enter the code sent to you by SMS.'),
    questions,
    target,
  };
}

/** The part of a pending verification the customer sees. */
export function challengeOf(pending: PendingVerification): OtpChallenge {
  return { type: pending.type, challengeText: pending.challengeText, questions: pending.type === 'questions' ? pending.questions : [] };
}

/**
 * The platform has one `otp` string. For questions, answers come one per line or
 * separated by `|`, in the order of the questions.
 */
export function answerFor(pending: PendingVerification, otp: string): { challenge_response: string } | { answers: string[] } {
  if (pending.type === 'sms') return { challenge_response: otp.trim() };
  return {
    answers: otp
      .split(/\r?\n|\|/)
      .map((a) => a.trim())
      .filter((a) => a.length > 0),
  };
}

export function parsePending(json: string | null): PendingVerification | undefined {
  return json ? (JSON.parse(json) as PendingVerification) : undefined;
}

/** Why a pending operation is given up. */
export type GiveUpReason = 'expired' | 'too_many_failures' | 'rejected_by_bank';

/** One answer to a pending verification: whose it is and what ends when the customer runs out of tries. */
export interface OtpAttempt {
  holder: OtpAttemptHolder;
  id: string;
  /** the customer: failures and lockout count per customer, not per token */
  userId: string;
  pending: PendingVerification;
  /** when the challenge was issued (epoch ms) */
  startedAt: number | null;
  /** what a 452/453 tells the customer happened, e.g. "sign in again" */
  consequence: string;
  /**
   * Ends the pending operation (the sign-in, or the movement). 'settled' when it turned out
   * to be finished already (Verify had acted on an answer whose reply was lost): then there
   * is nothing to refuse.
   */
  giveUp(reason: GiveUpReason): Promise<'ended' | 'settled'>;
}

/**
 * Submits the customer's answer under Kasisto's attempt policy and returns Verify's
 * verification when the bank accepted it, or undefined when giving up found the operation
 * already settled. Attempts are counted in the store (shared by instances) per pending
 * verification, failures per customer (CUSTOMER_MAX_FAILURES locks the customer out); an
 * answer Verify never judged (it failed or did not answer) is given back, so an outage
 * cannot lock the customer out. Call it holding the customer's lease (oneAnswerAtATime).
 */
export async function answerChallenge(ctx: DomainContext, attempt: OtpAttempt, otp: string): Promise<VerifyVerification | undefined> {
  const { otpWindowSeconds, otpMaxAttempts } = ctx.config;
  const subject = { [attempt.holder === 'grant' ? 'grant' : 'movement']: attempt.id };
  const refuse = async (reason: GiveUpReason, message: string) => {
    const outcome = await attempt.giveUp(reason);
    logOtpEvent(ctx, subject, outcome === 'settled' ? 'settled_by_bank' : reason);
    if (outcome === 'settled') return undefined;
    throw new DomainError(reason === 'expired' ? 'otp_expired' : 'otp_too_many_failures', `${message}; ${attempt.consequence}`);
  };
  if (attempt.startedAt !== null && ctx.now() - attempt.startedAt > otpWindowSeconds * 1000) {
    return refuse('expired', 'The one-time password has expired');
  }
  if (await lockout(ctx, attempt.userId)) return refuse('too_many_failures', 'Too many wrong one-time passwords or passwords for this customer');
  const attempts = await ctx.store.countOtpAttempt(attempt.holder, attempt.id);
  if (attempts > otpMaxAttempts) return refuse('too_many_failures', 'Too many wrong one-time passwords');
  let verification: VerifyVerification;
  try {
    verification = await submitAnswer(ctx, attempt.pending, otp);
  } catch (error) {
    await ctx.store.refundOtpAttempt(attempt.holder, attempt.id).catch(() => {});
    throw toDomainError(error);
  }
  const status = verification.status;
  if (!isKnownVerificationStatus(status)) {
    // a verdict this connector cannot read: not a wrong answer, and not a right one
    await ctx.store.refundOtpAttempt(attempt.holder, attempt.id).catch(() => {});
    throw new DomainError('upstream_error', 'The bank answered the one-time password in an unexpected way; try again shortly');
  }
  switch (status) {
    case 'retry':
    case 'initial': {
      const lockedOut = await countFailure(ctx, attempt.userId);
      if (attempts >= otpMaxAttempts || lockedOut) return refuse('too_many_failures', 'Too many wrong one-time passwords');
      logOtpEvent(ctx, subject, 'invalid');
      throw new DomainError('otp_invalid', `The one-time password is not correct; ${otpMaxAttempts - attempts} attempt(s) left`);
    }
    case 'failed':
      await countFailure(ctx, attempt.userId);
      return refuse('rejected_by_bank', 'The bank rejected the one-time password');
    case 'succeeded':
      await forgetFailures(ctx, attempt.userId);
      logOtpEvent(ctx, subject, 'validated');
      return verification;
    default:
      // tsc names this line when spec/verify.yaml gains a verification status
      throw new Error(`unhandled verification status ${status satisfies never}`);
  }
}

/**
 * One line per step of a one-time password's life, with the sign-in (grant) or movement it
 * guards: issued (450), invalid (451), expired (452), too_many_failures or rejected_by_bank
 * (453), validated, or settled_by_bank (Verify had acted on an answer whose reply was lost).
 */
export function logOtpEvent(ctx: DomainContext, subject: Record<string, string>, event: string): void {
  ctx.log.info({ ...subject, otp_event: event }, `one-time password ${event.replaceAll('_', ' ')}`);
}

/** Sends the customer's answer to the pending Verify verification. */
export function submitAnswer(ctx: DomainContext, pending: PendingVerification, otp: string): Promise<VerifyVerification> {
  const target = pending.target.type === 'session' ? { type: 'session' as const, sessionId: pending.target.sessionId } : { type: 'transfer' as const, transferId: pending.target.transferId };
  return ctx.verify.submitVerification(target, pending.verificationId, answerFor(pending, otp));
}
