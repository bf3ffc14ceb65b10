/**
 * What can go wrong in the domain, as the domain sees it. No HTTP here: src/http/errors.ts
 * maps each kind to a status and Kasisto's `error_response`. Messages are written for a
 * person (the assistant may read them out) and never carry credentials or stack traces.
 */

/** A one-time password challenge the customer has to answer (Kasisto's 450). */
export interface OtpChallenge {
  type: 'sms' | 'questions';
  challengeText: string;
  questions: string[];
}

export type DomainErrorKind =
  | 'invalid_request'
  | 'forbidden'
  | 'invalid_credentials'
  | 'rate_limited'
  | 'customer_locked'
  | 'otp_required'
  | 'otp_invalid'
  | 'otp_expired'
  | 'otp_too_many_failures'
  | 'in_progress'
  | 'upstream_timeout'
  | 'upstream_unavailable'
  | 'upstream_error'
  /** an operation of the caller's contract the bank side cannot fulfil (Verify has nothing for it) */
  | 'not_implemented';

export interface DomainErrorDetails {
  /** the request field at fault (invalid_request) */
  field?: string;
  /** the pending challenge (otp_required) */
  challenge?: OtpChallenge;
  /** when a retry may succeed */
  retryAfterSeconds?: number;
}

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly details: DomainErrorDetails = {},
  ) {
    super(message);
  }
}

/** A request field at fault, e.g. invalidField('amount', 'must be greater than 0'). */
export const invalidField = (field: string, problem: string) => new DomainError('invalid_request', `${field}: ${problem}`, { field });
export const forbidden = (message: string) => new DomainError('forbidden', message);
export const otpRequired = (challenge: OtpChallenge) =>
  new DomainError('otp_required', 'A one-time password is required: ask the customer and call /validate_otp', { challenge });
export const notImplemented = () => new DomainError('not_implemented', 'This operation is not available at this bank');
export const inProgress = (message = 'This transfer is still being processed; retry shortly') => new DomainError('in_progress', message, { retryAfterSeconds: 1 });
