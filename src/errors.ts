/**
 * The one error type the HTTP layer turns into the spec's error body
 * `{code, message, otp_details?}`. Messages are written for a person and never carry
 * credentials, tokens or stack traces.
 */
import type { components } from '../generated/kasisto/1.0.js';

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

/** 400 naming the field, e.g. invalidField('amount', 'must be greater than 0'). */
export const invalidField = (field: string, problem: string) => new ApiError(400, 'invalid_request', `${field}: ${problem}`);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const otpRequired = (details: OtpDetails) =>
  new ApiError(450, 'otp_required', 'A one-time password is required: ask the customer and call /validate_otp', details);
