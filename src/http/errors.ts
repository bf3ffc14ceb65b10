/**
 * The HTTP edge of every failure: `ApiError` is what the app sends, as Kasisto's
 * `error_response {code, message, otp_details?}`; `toApiError` maps the domain's typed
 * errors to their statuses. Messages never carry credentials, tokens or stack traces.
 */
import type { components } from '../../generated/kasisto/1.0.js';
import { DomainError, type DomainErrorKind, type OtpChallenge } from '../domain/errors.js';

export type ErrorBody = components['schemas']['error_response'];
export type OtpDetails = components['schemas']['otp_details'];

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly otpDetails?: OtpDetails,
    /** seconds, for 429 and 503 */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return this.otpDetails ? { code: this.code, message: this.message, otp_details: this.otpDetails } : { code: this.code, message: this.message };
  }
}

/** Kasisto's statuses for the domain's failures (450–453 are Kasisto's OTP flow). */
export const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid_request: 400,
  forbidden: 403,
  invalid_credentials: 403,
  rate_limited: 429,
  customer_locked: 429,
  otp_required: 450,
  otp_invalid: 451,
  otp_expired: 452,
  otp_too_many_failures: 453,
  upstream_error: 502,
  upstream_unavailable: 503,
  in_progress: 503,
  upstream_timeout: 504,
};

export function otpDetailsOf(challenge: OtpChallenge): OtpDetails {
  return challenge.type === 'questions'
    ? { type: 'questions', challenge_text: challenge.challengeText, questions: challenge.questions }
    : { type: 'sms', challenge_text: challenge.challengeText };
}

export function toApiError(error: DomainError): ApiError {
  const { challenge, retryAfterSeconds } = error.details;
  return new ApiError(STATUS_OF[error.kind], error.kind, error.message, challenge ? otpDetailsOf(challenge) : undefined, retryAfterSeconds);
}
