/**
 * IBAN checks done offline (ISO 13616): format, the registered length of the country when
 * we know it, and the mod-97 check digits. A bank may still check the BBAN's inner
 * structure (bank code, national check digits) and whether the account exists.
 */
import { SettlementError } from './errors.js';

/**
 * Registered IBAN lengths (SWIFT IBAN registry) of the countries this connector's operators
 * and their customers are most likely to pay into. A country not listed is held to the
 * generic 15..34 characters only.
 */
const COUNTRY_LENGTHS: Record<string, number> = {
  AE: 23, BH: 22, SA: 24, QA: 29, KW: 30, OM: 23, JO: 30, EG: 29, LB: 28, TR: 26, PK: 24,
  GB: 22, IE: 22, DE: 22, FR: 27, ES: 24, IT: 27, NL: 18, BE: 16, LU: 20, CH: 21, AT: 20,
  PT: 25, DK: 18, FI: 18, SE: 24, NO: 15, PL: 28, CZ: 24, GR: 27, MT: 31, CY: 28,
};

/** Spaces removed, upper case: the electronic form that goes into files. */
export function normalizeIban(input: string): string {
  return input.replace(/\s+/g, '').toUpperCase();
}

/** Remainder of the IBAN's numeric form modulo 97, computed in chunks (no BigInt needed). */
function mod97(rearranged: string): number {
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    // letters count as two digits: A = 10 … Z = 35
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder;
}

/** Why an IBAN is not valid, or undefined when it is (after normalizeIban). */
export function ibanProblem(input: string): string | undefined {
  const iban = normalizeIban(input);
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(iban)) return 'must be 2 letters, 2 check digits and letters or digits';
  if (iban.length < 15 || iban.length > 34) return `must be 15 to 34 characters, not ${iban.length}`;
  const expected = COUNTRY_LENGTHS[iban.slice(0, 2)];
  if (expected !== undefined && iban.length !== expected) return `must be ${expected} characters for ${iban.slice(0, 2)}, not ${iban.length}`;
  if (mod97(iban.slice(4) + iban.slice(0, 4)) !== 1) return 'check digits do not match (mod 97)';
  return undefined;
}

export function isValidIban(input: string): boolean {
  return ibanProblem(input) === undefined;
}

/** The IBAN in electronic form, or a SettlementError naming the field. */
export function requireIban(input: string, field: string): string {
  const problem = ibanProblem(input);
  if (problem) throw new SettlementError('invalid_iban', `${field}: ${problem}`, field);
  return normalizeIban(input);
}

/** The two check digits for a country code and BBAN (used to build test and fixture IBANs). */
export function ibanCheckDigits(country: string, bban: string): string {
  const remainder = mod97(normalizeIban(bban) + country.toUpperCase() + '00');
  return String(98 - remainder).padStart(2, '0');
}
