/**
 * The HTTP edge of the domain's failures: every DomainErrorKind has a status, the statuses
 * are the ones spec/kasisto/1.0.yaml gives the codes it names, and every body is an
 * `error_response` (with `otp_details` exactly when an OTP is required).
 */
import { describe, expect, it } from 'vitest';
import { DomainError, forbidden, inProgress, invalidField, otpRequired, type DomainErrorKind } from '../../src/domain/errors.js';
import { ApiError, STATUS_OF, toApiError } from '../../src/http/errors.js';
import { loadSpec } from '../helpers/spec.js';

// Every kind, kept whole by the compiler: a kind added to DomainErrorKind and missing here
// (or one removed) fails `tsc`.
const EVERY_KIND: Record<DomainErrorKind, true> = {
  invalid_request: true,
  forbidden: true,
  invalid_credentials: true,
  rate_limited: true,
  customer_locked: true,
  otp_required: true,
  otp_invalid: true,
  otp_expired: true,
  otp_too_many_failures: true,
  in_progress: true,
  upstream_timeout: true,
  upstream_unavailable: true,
  upstream_error: true,
  not_implemented: true,
};
const KINDS = Object.keys(EVERY_KIND) as DomainErrorKind[];

const kasisto = loadSpec('kasisto');
/** The `code (status)` pairs error_response's description promises. */
const SPEC_STATUS_OF = Object.fromEntries(
  [...String(kasisto.at('/components/schemas/error_response/properties/code/description')).matchAll(/`(\w+)` \((\d{3})\)/g)].map(([, code, status]) => [code!, Number(status)]),
);
/** Every status some operation documents. */
const DOCUMENTED = new Set(kasisto.operations().flatMap((op) => op.statuses));

describe('STATUS_OF', () => {
  it('gives every kind, and only the kinds, a status', () => {
    expect(Object.keys(STATUS_OF).sort()).toEqual([...KINDS].sort());
    for (const kind of KINDS) expect(Number.isInteger(STATUS_OF[kind]) && STATUS_OF[kind] >= 400 && STATUS_OF[kind] < 600, kind).toBe(true);
  });

  it("gives a kind the spec names as a code the spec's status, and any kind a documented status", () => {
    expect(Object.keys(SPEC_STATUS_OF).length).toBeGreaterThan(0);
    for (const kind of KINDS) {
      if (kind in SPEC_STATUS_OF) expect(STATUS_OF[kind], kind).toBe(SPEC_STATUS_OF[kind]);
      expect(DOCUMENTED, kind).toContain(String(STATUS_OF[kind]));
    }
  });
});

describe('toApiError', () => {
  const sms = { type: 'sms' as const, challengeText: 'Enter the code we sent', questions: [] };
  const questions = { type: 'questions' as const, challengeText: 'Answer these', questions: ['Your favourite language?', 'Your editor?'] };

  it('answers every kind with its status, the kind as code, and a valid error_response', () => {
    for (const kind of KINDS) {
      const api = toApiError(new DomainError(kind, `a ${kind} failure`));
      expect(api).toBeInstanceOf(ApiError);
      expect(api.statusCode, kind).toBe(STATUS_OF[kind]);
      expect(api.toBody(), kind).toEqual({ code: kind, message: `a ${kind} failure` });
      expect(kasisto.validateSchema('error_response', api.toBody()).message, kind).toBe('');
    }
  });

  it('carries the challenge of otp_required as otp_details, for sms and for questions', () => {
    const bySms = toApiError(otpRequired(sms));
    expect(bySms.statusCode).toBe(450);
    expect(bySms.toBody().otp_details).toEqual({ type: 'sms', challenge_text: 'Enter the code we sent' });
    const byQuestions = toApiError(otpRequired(questions));
    expect(byQuestions.toBody().otp_details).toEqual({ type: 'questions', challenge_text: 'Answer these', questions: questions.questions });
    for (const api of [bySms, byQuestions]) {
      expect(api.toBody().code).toBe('otp_required');
      expect(kasisto.validateResponse('/customer', 'post', 450, api.toBody()).message).toBe('');
    }
  });

  it('gives no otp_details without a challenge, and Retry-After only when a retry may succeed', () => {
    for (const error of [invalidField('amount', 'must be greater than 0'), forbidden('Not your account')]) {
      const api = toApiError(error);
      expect(api.toBody()).not.toHaveProperty('otp_details');
      expect(api.retryAfter).toBeUndefined();
    }
    const busy = toApiError(inProgress());
    expect(busy.statusCode).toBe(503);
    expect(busy.retryAfter).toBe(1);
    expect(toApiError(invalidField('amount', 'must be greater than 0')).toBody().message).toBe('amount: must be greater than 0');
  });
});
