/**
 * Integer minor units → the decimal text payout files carry, by the currency's ISO 4217
 * exponent (from money.ts). Text, never a float, so 1234567890123 fils stays exact.
 */
import { currencyExponent } from '../money.js';

/** Decimal text of `minor` with exactly `exponent` fraction digits (none when 0). */
export function formatScaled(minor: bigint, exponent: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const text = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${text}` : text;
}

/** e.g. (1250, 'BHD') → "1.250", (150, 'AED') → "1.50", (7, 'JPY') → "7". */
export function formatMinor(minor: number | bigint, currency: string): string {
  return formatScaled(BigInt(minor), currencyExponent(currency));
}

/**
 * Sum of amounts in several currencies as one decimal (ISO 20022's group-header CtrlSum is
 * "irrespective of currencies"): each amount is scaled to the largest exponent present.
 */
export function sumAcrossCurrencies(amounts: readonly { amount_minor: number; currency: string }[]): string {
  const exponent = Math.max(0, ...amounts.map((a) => currencyExponent(a.currency)));
  let total = 0n;
  for (const a of amounts) total += BigInt(a.amount_minor) * 10n ** BigInt(exponent - currencyExponent(a.currency));
  return formatScaled(total, exponent);
}
