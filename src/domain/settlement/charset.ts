/**
 * The restricted Latin character set that SEPA (EPC guidelines) and most banks' ISO 20022
 * channels accept in text fields, whatever the currency:
 *
 *   a-z A-Z 0-9 / - ? : ( ) . , ' + and space
 *
 * Free text (names, remittance information) is transliterated: letters with diacritics lose
 * them (é → e, Ç → C), a few letters and ligatures become their usual Latin spelling
 * (ß → ss, Æ → AE, Ø → O, Ł → L, Þ → TH), `&` becomes `+`, and every other character
 * (other scripts, `_`, `@`, `"`, emoji …) becomes a space; runs of spaces collapse. Text is then
 * cut to the field's maximum length. Identifiers are never changed (see requireIdentifier).
 */
import { SettlementError } from './errors.js';

const ALLOWED = /^[A-Za-z0-9/\-?:().,'+ ]*$/;

const SPECIAL: Record<string, string> = {
  ß: 'ss', ẞ: 'SS', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', ł: 'l', Ł: 'L',
  đ: 'd', Đ: 'D', ð: 'd', Ð: 'D', þ: 'th', Þ: 'TH', ı: 'i', ħ: 'h', Ħ: 'H', '&': '+',
  '‘': "'", '’': "'", '–': '-', '—': '-',
};

export function isRestrictedLatin(text: string): boolean {
  return ALLOWED.test(text);
}

/** Free text in the restricted set, at most `max` characters; '' when nothing is left. */
export function toRestrictedLatin(text: string, max: number): string {
  let out = '';
  for (const ch of text.normalize('NFD')) {
    if (/\p{M}/u.test(ch)) continue; // a combining mark left by NFD: the diacritic itself
    const mapped = SPECIAL[ch] ?? ch;
    out += ALLOWED.test(mapped) ? mapped : ' ';
  }
  return out.replace(/\s+/g, ' ').trim().slice(0, max).trimEnd();
}

/**
 * An identifier that must reach the bank and come back unchanged: refused, never altered,
 * when it is empty, longer than `max`, outside the set, or (EPC rule) starts or ends with
 * `/` or contains `//`.
 */
export function requireIdentifier(value: string, max: number, field: string): string {
  const problem =
    value.length === 0 ? 'must not be empty'
    : value.length > max ? `must be at most ${max} characters, not ${value.length}`
    : !isRestrictedLatin(value) || value.includes(' ') ? "must use only letters, digits and / - ? : ( ) . , ' +"
    : value.startsWith('/') || value.endsWith('/') || value.includes('//') ? 'must not start or end with / nor contain //'
    : undefined;
  if (problem) throw new SettlementError('invalid_identifier', `${field}: ${problem}`, field);
  return value;
}
