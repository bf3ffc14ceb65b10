import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { currencyExponent } from '../../../src/domain/money.js';
import { SettlementError } from '../../../src/domain/settlement/errors.js';
import { errorOf } from './fixtures.js';
import { DEFAULT_FX_RATES_FILE, FxRates, parseFxRates } from '../../../src/domain/settlement/fx-rates.js';

const NOW = Date.UTC(2026, 10, 30);
const entry = (base: string, quote: string, rate: string, valid_from = '2026-01-01T00:00:00Z') => ({ base, quote, rate, valid_from });

describe('FX rates file', () => {
  it('refuses invalid entries, naming the entry and the field', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /must be a JSON array/],
      [[7], /entry 0: must be an object/],
      [[entry('USD', 'AED', '3.6725'), { ...entry('USD', 'AED', '1'), rate: 3.6725 }], /entry 1 \(USD\/AED\): rate must be a string/],
      [[entry('USD', 'AEE', '3.6725')], /entry 0 \(USD\/AEE\): quote must be an ISO 4217/],
      [[entry('usd', 'AED', '3.6725')], /base must be an ISO 4217/],
      [[entry('USD', 'USD', '1')], /base and quote must differ/],
      [[entry('USD', 'AED', '3,6725')], /rate must be a decimal string/],
      [[entry('USD', 'AED', '-1')], /rate must be a decimal string/],
      [[entry('USD', 'AED', '1e3')], /rate must be a decimal string/],
      [[entry('USD', 'AED', '0.000')], /greater than 0/],
      [[entry('USD', 'AED', '3.6725', '2026-01-01')], /valid_from must be an ISO 8601 time with a zone/],
      [[entry('USD', 'AED', '3.6725', '2026-02-30T00:00:00Z')], /valid_from/],
      [[entry('USD', 'AED', '3.6725', '2026-01-01T24:00:00Z')], /valid_from/],
      [[entry('USD', 'AED', '3.6725'), entry('USD', 'AED', '3.7')], /entry 1 \(USD\/AED\): a second rate/],
    ];
    for (const [json, message] of cases) {
      const error = errorOf(() => parseFxRates(json));
      expect(error.kind).toBe('fx_rates_invalid');
      expect(error.message).toMatch(message);
    }
  });

  it('loads the development defaults: the AED, USD and BHD pegs', () => {
    const rates = FxRates.fromFile(DEFAULT_FX_RATES_FILE);
    expect(rates.rateAt('USD', 'AED', NOW)).toMatchObject({ rate: '3.6725', inverted: false });
    expect(rates.rateAt('AED', 'USD', NOW)).toMatchObject({ base: 'USD', quote: 'AED', rate: '3.6725', inverted: true });
    expect(rates.rateAt('USD', 'BHD', NOW).rate).toBe('0.376');
    // the example: 1.50 AED to the USD account = 1.50 / 3.6725 = 0.40844… → 0.41 USD
    expect(rates.convert(150, 'AED', 'USD', NOW).amount_minor).toBe(41);
    expect(rates.convert(100, 'USD', 'BHD', NOW).amount_minor).toBe(376); // 1.00 USD = 0.376 BHD
    expect(rates.convert(1000, 'BHD', 'AED', NOW).amount_minor).toBe(977); // 1.000 BHD = 9.767… AED
    expect(rates.convert(977, 'AED', 'BHD', NOW).amount_minor).toBe(1000); // 9.77 / 9.76728723 = 1.000277… → 1.000
  });

  it('picks the latest entry valid at the time, and a direct entry over an inverse one', () => {
    const rates = new FxRates([
      entry('USD', 'AED', '3.60', '2026-01-01T00:00:00Z'),
      entry('USD', 'AED', '3.70', '2026-06-01T00:00:00+04:00'),
      entry('AED', 'USD', '0.25', '2026-01-01T00:00:00Z'),
    ]);
    expect(rates.rateAt('USD', 'AED', Date.UTC(2026, 4, 31)).rate).toBe('3.60');
    expect(rates.rateAt('USD', 'AED', Date.UTC(2026, 4, 31, 20)).rate).toBe('3.70'); // 2026-06-01T00:00+04:00
    expect(rates.rateAt('AED', 'USD', NOW)).toMatchObject({ rate: '0.25', inverted: false });
    const missing = errorOf(() => rates.rateAt('USD', 'AED', Date.UTC(2025, 11, 31)));
    expect(missing.kind).toBe('fx_rate_missing');
    expect(missing.message).toMatch(/USD\/AED/);
  });

  it('a missing pair is a typed error naming the pair; same currency needs no rate', () => {
    const rates = new FxRates([entry('USD', 'AED', '3.6725')]);
    const error = errorOf(() => rates.convert(100, 'BHD', 'AED', NOW));
    expect(error.kind).toBe('fx_rate_missing');
    expect(error.field).toBe('BHD/AED');
    expect(error.message).toContain('BHD/AED');
    expect(rates.convert(123, 'AED', 'AED', NOW)).toEqual({ amount_minor: 123, currency: 'AED', source_amount_minor: 123, source_currency: 'AED', quote: null });
  });

  it('rounds half up by the destination exponent', () => {
    const rates = new FxRates([entry('USD', 'AED', '0.5'), entry('USD', 'BHD', '0.0005'), entry('USD', 'JPY', '150.5')]);
    expect(rates.convert(1, 'USD', 'AED', NOW).amount_minor).toBe(1); // 0.005 AED → 0.01
    expect(rates.convert(3, 'USD', 'AED', NOW).amount_minor).toBe(2); // 0.015 → 0.02
    expect(rates.convert(100, 'USD', 'BHD', NOW).amount_minor).toBe(1); // 0.0005 BHD → 0.001
    expect(rates.convert(99, 'USD', 'BHD', NOW).amount_minor).toBe(0); // 0.000495 → 0.000
    expect(rates.convert(1, 'USD', 'JPY', NOW).amount_minor).toBe(2); // 1.505 JPY → 2
  });

  it('refuses amounts that are not safe non-negative integers, or overflow once converted', () => {
    const rates = new FxRates([entry('USD', 'JPY', '150')]);
    expect(errorOf(() => rates.convert(1.5, 'USD', 'JPY', NOW)).kind).toBe('amount_out_of_range');
    expect(errorOf(() => rates.convert(Number.MAX_SAFE_INTEGER, 'USD', 'JPY', NOW)).kind).toBe('amount_out_of_range');
  });

  describe('reload', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fx-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'rates.json');

    it('takes a new sheet, and keeps the old one when the new file is bad', () => {
      writeFileSync(file, JSON.stringify([entry('USD', 'AED', '3.6725')]));
      const rates = FxRates.fromFile(file);
      writeFileSync(file, JSON.stringify([entry('USD', 'AED', '3.70'), entry('USD', 'BHD', '0.376')]));
      expect(rates.reload()).toBe(2);
      expect(rates.rateAt('USD', 'AED', NOW).rate).toBe('3.70');
      writeFileSync(file, '[{"base":"USD"');
      expect(errorOf(() => rates.reload()).message).toMatch(/is not valid JSON/);
      writeFileSync(file, JSON.stringify([entry('USD', 'AED', 'x')]));
      expect(errorOf(() => rates.reload()).message).toMatch(/entry 0 \(USD\/AED\): rate/);
      expect(rates.list()).toHaveLength(2);
      rmSync(file);
      expect(errorOf(() => rates.reload()).message).toMatch(/cannot be read \(ENOENT\)/);
      expect(rates.rateAt('USD', 'BHD', NOW).rate).toBe('0.376');
    });
  });
});

describe('FX conversion is exact (property)', () => {
  const currencies = ['AED', 'USD', 'BHD', 'JPY', 'KWD', 'CLF'];
  // a rate as digits and a scale: "d.ddd" text and its exact fraction
  const rateArb = fc.record({ digits: fc.bigInt({ min: 1n, max: 10n ** 12n }), scale: fc.integer({ min: 0, max: 10 }) }).map(({ digits, scale }) => {
    const text = digits.toString().padStart(scale + 1, '0');
    return { text: scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`, num: digits, den: 10n ** BigInt(scale) };
  });

  it('rounds the exact rational value half up, for direct and inverse use', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...currencies), fc.constantFrom(...currencies), rateArb, fc.integer({ min: 0, max: 10 ** 12 }), fc.boolean(),
        (base, quote, rate, amount, inverse) => {
          fc.pre(base !== quote);
          const rates = new FxRates([entry(base, quote, rate.text)]);
          const [from, to] = inverse ? [quote, base] : [base, quote];
          let result: number;
          try {
            result = rates.convert(amount, from, to, NOW).amount_minor;
          } catch (error) {
            expect((error as SettlementError).kind).toBe('amount_out_of_range');
            return;
          }
          // reference: exact value N / D of the destination minor units
          const [rn, rd] = inverse ? [rate.den, rate.num] : [rate.num, rate.den];
          const N = BigInt(amount) * rn * 10n ** BigInt(currencyExponent(to));
          const D = rd * 10n ** BigInt(currencyExponent(from));
          const r = BigInt(result);
          // |r - N/D| ≤ 1/2, and an exact tie goes up
          expect(2n * (r * D - N) <= D && 2n * (N - r * D) < D).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never loses a unit it could keep: converting to a finer currency and back at rate 1 is the identity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), (amount) => {
        const rates = new FxRates([entry('AED', 'BHD', '1')]);
        const there = rates.convert(amount, 'AED', 'BHD', NOW).amount_minor;
        expect(there).toBe(amount * 10);
        expect(rates.convert(there, 'BHD', 'AED', NOW).amount_minor).toBe(amount);
      }),
    );
  });
});
