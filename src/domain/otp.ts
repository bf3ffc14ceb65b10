/**
 * Verify verifications seen from Kasisto's side: what a 450 tells the platform, and how
 * the customer's `otp` text becomes Verify's challenge_response or answers[].
 */
import type { VerifyVerification } from '../adapters/verify/client.js';
import type { OtpDetails } from '../http/errors.js';

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

export function otpDetailsOf(pending: PendingVerification): OtpDetails {
  return pending.type === 'questions'
    ? { type: 'questions', challenge_text: pending.challengeText, questions: pending.questions }
    : { type: 'sms', challenge_text: pending.challengeText };
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
