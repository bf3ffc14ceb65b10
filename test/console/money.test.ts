// The console's amounts: integer minor units written by the ISO 4217 exponent, no floats.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ES module of the console (no type declarations, no build step)
import { exponentOf, formatMinor, sumMinor } from '../../console/js/money.js';

describe('console money formatting', () => {
  it('writes minor units by the currency exponent', () => {
    expect(formatMinor(150, 'AED')).toBe('1.50 AED');
    expect(formatMinor(1250075, 'AED')).toBe('12,500.75 AED');
    expect(formatMinor(1250, 'BHD')).toBe('1.250 BHD');
    expect(formatMinor(5, 'KWD')).toBe('0.005 KWD');
    expect(formatMinor(1200, 'JPY')).toBe('1,200 JPY');
    expect(formatMinor(0, 'USD')).toBe('0.00 USD');
    expect(formatMinor(7, 'CLF')).toBe('0.0007 CLF');
    expect(exponentOf('EUR')).toBe(2);
  });

  it('stays exact where a float would not (up to the contract maximum, 2^53 - 1)', () => {
    expect(formatMinor(9007199254740991, 'AED')).toBe('90,071,992,547,409.91 AED');
    expect(sumMinor([{ amount_minor: 9007199254740991 }, { amount_minor: 1 }])).toBe(9007199254740992n);
    expect(formatMinor(sumMinor([{ amount_minor: 9007199254740991 }, { amount_minor: 2 }]), 'BHD')).toBe('9,007,199,254,740.993 BHD');
  });
});
