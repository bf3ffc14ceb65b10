import { describe, expect, it } from 'vitest';
import { ibanCheckDigits, ibanProblem, isValidIban, normalizeIban, requireIban } from '../../../src/domain/settlement/iban.js';
import { SettlementError } from '../../../src/domain/settlement/errors.js';

describe('IBAN', () => {
  it('accepts published valid IBANs, in paper or electronic form', () => {
    for (const valid of ['AE070331234567890123456', 'GB82 WEST 1234 5698 7654 32', 'DE89370400440532013000', 'BH67BMAG00001299123456', 'NO9386011117947']) {
      expect(ibanProblem(valid)).toBeUndefined();
    }
    expect(normalizeIban('gb82 west 1234 5698 7654 32')).toBe('GB82WEST12345698765432');
  });

  it('refuses a corrupted digit, swapped digits and wrong check digits', () => {
    expect(ibanProblem('AE070331234567890123457')).toMatch(/check digits/);
    expect(ibanProblem('GB82WEST12345698765423')).toMatch(/check digits/);
    expect(ibanProblem('DE88370400440532013000')).toMatch(/check digits/);
  });

  it('refuses wrong lengths and shapes', () => {
    expect(ibanProblem('AE07033123456789012345')).toMatch(/23 characters for AE/);
    expect(ibanProblem('1E070331234567890123456')).toMatch(/2 letters/);
    expect(ibanProblem('AE07-0331234567890123456')).toMatch(/2 letters/);
    expect(ibanProblem('XX12345')).toMatch(/15 to 34/);
  });

  it('computes check digits that validate, for any BBAN', () => {
    for (const bban of ['0331234567890123457', '0331234567890123458', 'BMAG00001299123456']) {
      const country = bban.startsWith('BMAG') ? 'BH' : 'AE';
      expect(isValidIban(`${country}${ibanCheckDigits(country, bban)}${bban}`)).toBe(true);
    }
  });

  it('requireIban names the field', () => {
    try {
      requireIban('AE000331234567890123456', 'debtor.iban');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SettlementError);
      expect((error as SettlementError).kind).toBe('invalid_iban');
      expect((error as SettlementError).message).toMatch(/^debtor\.iban: /);
    }
  });
});
