/**
 * Exact money conversion between Kasisto's major-unit numbers and Verify's integer minor
 * units. Nothing here multiplies a float: amounts go through their shortest decimal text,
 * so 0.1 + 0.2 style drift can never reach a balance or a transfer.
 */

/** ISO 4217 minor-unit exponents that differ from the usual 2. */
const EXPONENT_EXCEPTIONS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0,
  UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** Active ISO 4217 codes (2026), so a typo such as "AEE" is refused rather than guessed. */
const ACTIVE_CODES = new Set(
  (
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP ' +
    'BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR ' +
    'FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES ' +
    'KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR ' +
    'MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF ' +
    'SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS ' +
    'UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG'
  ).split(' '),
);

export function isCurrencyCode(code: string): boolean {
  return ACTIVE_CODES.has(code);
}

/** Number of decimals of a currency's minor unit (ISO 4217), e.g. BHD → 3, AED → 2. */
export function currencyExponent(code: string): number {
  if (!ACTIVE_CODES.has(code)) throw new RangeError(`unknown currency ${code}`);
  return EXPONENT_EXCEPTIONS[code] ?? 2;
}

export type ToMinorResult =
  | { ok: true; minor: number }
  | { ok: false; reason: 'not_finite' | 'not_positive' | 'too_precise' | 'too_large' };

/**
 * Major units (as Kasisto sends them) → integer minor units. Refuses amounts with more
 * decimals than the currency has (12.345 AED), non-positive amounts and amounts beyond
 * Number.MAX_SAFE_INTEGER minor units.
 */
export function toMinorUnits(amount: number, currency: string): ToMinorResult {
  if (!Number.isFinite(amount)) return { ok: false, reason: 'not_finite' };
  if (amount <= 0) return { ok: false, reason: 'not_positive' };
  const exponent = currencyExponent(currency);
  const { digits, scale } = decimalDigits(amount);
  if (scale > exponent) return { ok: false, reason: 'too_precise' };
  const minor = BigInt(digits) * 10n ** BigInt(exponent - scale);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'too_large' };
  return { ok: true, minor: Number(minor) };
}

/** Integer minor units → major units as the number whose shortest text is exact. */
export function fromMinorUnits(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor)) throw new RangeError('minor units must be a safe integer');
  const exponent = currencyExponent(currency);
  if (exponent === 0) return minor;
  const negative = minor < 0;
  const text = Math.abs(minor).toString().padStart(exponent + 1, '0');
  const major = `${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
  return Number(negative ? `-${major}` : major);
}

/** The exact decimal written by JavaScript's shortest round-trip form, as digits × 10^-scale. */
function decimalDigits(value: number): { digits: string; scale: number } {
  const [mantissa = '0', exp = '0'] = Math.abs(value).toString().toLowerCase().split('e');
  const [intPart = '0', fracPart = ''] = mantissa.split('.');
  let digits = intPart + fracPart;
  let scale = fracPart.length - Number(exp);
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  digits = digits.replace(/^0+(?=\d)/, '');
  // trailing zeros after the point carry no precision
  while (scale > 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    scale -= 1;
  }
  return { digits: digits || '0', scale };
}
