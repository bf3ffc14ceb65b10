/** The pieces of the revision layer that need no server: exchange-rate maths, request dates, meta credentials, error bodies. */
import { describe, expect, it } from 'vitest';
import { developmentRates, divideHalfEven, ratesFromUsdPegs } from '../../src/domain/fx.js';
import { DomainError, otpRequired } from '../../src/domain/errors.js';
import { toApiError } from '../../src/http/errors.js';
import { credentialsFromMeta, dayOf } from '../../src/routes/revisions/common.js';

describe('development exchange rates (integer maths, half-even)', () => {
  it('rounds ties to even and everything else to nearest', () => {
    expect(divideHalfEven(5n, 2n)).toBe(2n);
    expect(divideHalfEven(7n, 2n)).toBe(4n);
    expect(divideHalfEven(-5n, 2n)).toBe(-2n);
    expect(divideHalfEven(10n, 3n)).toBe(3n);
    expect(divideHalfEven(11n, 3n)).toBe(4n);
  });

  it('converts through the USD pegs at the destination exponent', () => {
    // 10.00 USD → 36.725 AED → 36.72 (tie, even); 10.01 USD → 36.761725 → 36.76
    expect(developmentRates.convert(1000, 'USD', 'AED').minor).toBe(3672);
    expect(developmentRates.convert(1001, 'USD', 'AED').minor).toBe(3676);
    // 1.000 BHD → 2.659574… USD → 9.767287… AED → 9.77; back: 9.77 AED → 1.000… BHD
    expect(developmentRates.convert(1000, 'BHD', 'AED').minor).toBe(977);
    expect(developmentRates.convert(977, 'AED', 'BHD').minor).toBe(1000);
    expect(developmentRates.convert(1000, 'BHD', 'USD')).toMatchObject({ minor: 266 });
    expect(developmentRates.convert(123, 'AED', 'AED')).toEqual({ minor: 123, rate: 1 });
    expect(developmentRates.convert(100, 'USD', 'AED').rate).toBeCloseTo(3.6725, 10);
  });

  it('refuses a pair it has no rate for, and unsafe amounts', () => {
    expect(() => developmentRates.convert(100, 'EUR', 'AED')).toThrow(RangeError);
    expect(() => developmentRates.convert(0.5, 'USD', 'AED')).toThrow(RangeError);
    const huge = ratesFromUsdPegs({ USD: { num: 1n, den: 1n }, JPY: { num: 1000000n, den: 1n } });
    expect(() => huge.convert(Number.MAX_SAFE_INTEGER, 'USD', 'JPY')).toThrow(RangeError);
  });
});

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
