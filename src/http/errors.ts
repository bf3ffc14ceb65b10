/**
 * The HTTP edge of every failure: `ApiError` is what the app sends, as Kasisto's
 * `error_response` of the revision served (`bodyFor`): in 1.0 `{code, message, otp_details?}`;
 * from 1.0-final on `{code, message, display_message_id?, meta?}` with a 450's challenge in
 * `meta` name/value pairs, and in 1.3 its text in `otp_details` (a string). `toApiError`
 * maps the domain's typed errors to their statuses. Messages never carry credentials,
 * tokens or stack traces. See docs/kasisto-revisions.md sections 3 to 5.
 */
import type { components } from '../../generated/kasisto/1.0.js';
import type { components as components13 } from '../../generated/kasisto/1.3.js';
import type { KasistoRevision } from '../config.js';
import { DomainError, type DomainErrorKind, type OtpChallenge } from '../domain/errors.js';

export type ErrorBody = components['schemas']['error_response'];
export type OtpDetails = components['schemas']['otp_details'];
/** 1.3's error_response; 1.0-final's and 1.2's are the same without `otp_details`. */
export type RevisionErrorBody = components13['schemas']['error_response'];
type NameValue = components13['schemas']['name_value_pair'];

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

  /** The body in the revision's own `error_response`: only the properties it defines. */
  bodyFor(revision: KasistoRevision): ErrorBody | RevisionErrorBody {
    if (revision === '1.0') return this.toBody();
    const body: RevisionErrorBody = { code: this.code, message: this.message };
    const challenge = this.otpDetails;
    if (challenge && revision === '1.3') body.otp_details = challenge.challenge_text;
    const displayMessageId = displayMessageIdOf(this.code, this.message);
    if (displayMessageId) body.display_message_id = displayMessageId;
    if (challenge) body.meta = challengeMeta(challenge, revision);
    return body;
  }
}

/** A 450's challenge as name/value pairs: `otp_type`, the text (before 1.3), `question_1`, … */
function challengeMeta(challenge: OtpDetails, revision: KasistoRevision): NameValue[] {
  const meta: NameValue[] = [{ name: 'otp_type', value: challenge.type }];
  // 1.3 carries the text in otp_details itself
  if (revision !== '1.3') meta.push({ name: 'challenge_text', value: challenge.challenge_text });
  (challenge.questions ?? []).forEach((question, i) => meta.push({ name: `question_${i + 1}`, value: question }));
  return meta;
}

/**
 * The message Kasisto's platform shows for a functional error (from 1.0-final on; the ids
 * must be agreed with Kasisto before go-live: docs/kasisto-revisions.md section 5).
 */
function displayMessageIdOf(code: string, message: string): string | undefined {
  switch (code) {
    case 'invalid_request':
      if (/^(source_account_id|dest_account_id): is (not one of the customer's accounts|neither another account)/.test(message)) return 'account_not_found';
      if (/^currency_code: must be the source account's currency/.test(message)) return 'currency_mismatch';
      return 'invalid_request';
    case 'otp_required':
    case 'otp_invalid':
    case 'otp_expired':
    case 'otp_too_many_failures':
    case 'not_implemented':
      return code;
    case 'upstream_unavailable':
      return 'service_unavailable';
    default:
      return undefined;
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
  // Kasisto lists 501 Not Implemented, with error_response, on every operation from 1.0-final on
  not_implemented: 501,
};

export function otpDetailsOf(challenge: OtpChallenge): OtpDetails {
  return challenge.type === 'questions'
    ? { type: 'questions', challenge_text: challenge.challengeText, questions: challenge.questions }
    : { type: 'sms', challenge_text: challenge.challengeText };
}

export function toApiError(error: DomainError, revision: KasistoRevision = '1.0'): ApiError {
  // Kasisto 1.3's exception table: wrong /token credentials are 401 Authentication Failed
  if (revision === '1.3' && error.kind === 'invalid_credentials') return new ApiError(401, 'unauthorized', error.message);
  const { challenge, retryAfterSeconds } = error.details;
  return new ApiError(STATUS_OF[error.kind], error.kind, error.message, challenge ? otpDetailsOf(challenge) : undefined, retryAfterSeconds);
}
