/** The pieces of the revision layer that need no server: request dates, meta credentials, error bodies (exchange rates: test/domain/settlement). */
import { describe, expect, it } from 'vitest';
import { DomainError, otpRequired } from '../../src/domain/errors.js';
import { toApiError } from '../../src/http/errors.js';
import { credentialsFromMeta, dayOf } from '../../src/routes/revisions/common.js';

describe('request mapping', () => {
  it('takes the UTC day of RFC 3339 and Kasisto-sample date-times', () => {
    expect(dayOf('date', undefined)).toBeUndefined();
    expect(dayOf('date', '2025-03-12T09:30:00Z')).toBe('2025-03-12');
    expect(dayOf('date', '2025-03-12T02:00:00+04:00')).toBe('2025-03-11');
    expect(dayOf('date', '2016-01-30T00:00:00.000+0000')).toBe('2016-01-30');
    for (const bad of ['2025-03-12', '2025-13-12T00:00:00Z', 'yesterday', 12]) expect(() => dayOf('start_date', bad)).toThrow(/^start_date: must be a date-time/);
  });

  it('reads username (or login) and password from meta, the first of each, never echoing values', () => {
    expect(credentialsFromMeta([{ name: 'login', value: 'a' }, { name: 'password', value: 'p' }, { name: 'password', value: 'q' }])).toEqual({ username: 'a', password: 'p' });
    expect(() => credentialsFromMeta([{ name: 'Username', value: 'a' }, { name: 'password', value: 'secret-pw' }])).toThrow('meta: username is required');
    expect(() => credentialsFromMeta(undefined)).toThrow('meta: username is required');
    try {
      credentialsFromMeta([{ name: 'username', value: 'who' }]);
    } catch (error) {
      expect((error as Error).message).toBe('meta: password is required');
    }
  });
});

describe('error bodies per revision', () => {
  const questions = otpRequired({ type: 'questions', challengeText: 'Answer these', questions: ['Q one', 'Q two'] });

  it('keeps 1.0 as it was: otp_details object, no display_message_id', () => {
    expect(toApiError(questions).bodyFor('1.0')).toEqual({ code: 'otp_required', message: questions.message, otp_details: { type: 'questions', challenge_text: 'Answer these', questions: ['Q one', 'Q two'] } });
  });

  it('puts the challenge in meta before 1.3, and its text in otp_details in 1.3', () => {
    expect(toApiError(questions, '1.2').bodyFor('1.2')).toEqual({
      code: 'otp_required',
      message: questions.message,
      display_message_id: 'otp_required',
      meta: [
        { name: 'otp_type', value: 'questions' },
        { name: 'challenge_text', value: 'Answer these' },
        { name: 'question_1', value: 'Q one' },
        { name: 'question_2', value: 'Q two' },
      ],
    });
    expect(toApiError(questions, '1.3').bodyFor('1.3')).toEqual({
      code: 'otp_required',
      message: questions.message,
      otp_details: 'Answer these',
      display_message_id: 'otp_required',
      meta: [
        { name: 'otp_type', value: 'questions' },
        { name: 'question_1', value: 'Q one' },
        { name: 'question_2', value: 'Q two' },
      ],
    });
  });

  it('answers wrong credentials 401 in 1.3 only, and names functional errors', () => {
    const refused = new DomainError('invalid_credentials', 'The bank refused these credentials');
    expect(toApiError(refused, '1.2').statusCode).toBe(403);
    expect(toApiError(refused, '1.3')).toMatchObject({ statusCode: 401, code: 'unauthorized' });
    const mismatch = new DomainError('invalid_request', "currency_code: must be the source account's currency (AED)");
    expect(toApiError(mismatch, '1.0-final').bodyFor('1.0-final')).toMatchObject({ display_message_id: 'currency_mismatch' });
    expect(toApiError(new DomainError('upstream_unavailable', 'down'), '1.3').bodyFor('1.3')).toMatchObject({ display_message_id: 'service_unavailable' });
    expect(toApiError(new DomainError('not_implemented', 'no'), '1.3')).toMatchObject({ statusCode: 501 });
    expect(toApiError(new DomainError('forbidden', 'no'), '1.3').bodyFor('1.3')).toEqual({ code: 'forbidden', message: 'no' });
  });
});
