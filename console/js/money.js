// Amounts travel as integer minor units; they are written as decimals by the currency's
// ISO 4217 exponent (2 unless listed here), with integer arithmetic only (BigInt), so no
// amount ever goes through a float.
const EXPONENTS = {
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0,
  UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  CLF: 4, UYW: 4,
};

export function exponentOf(currency) {
  return EXPONENTS[currency] ?? 2;
}

/** formatMinor(1250075, 'AED') → '12,500.75 AED'; formatMinor(1250, 'BHD') → '1.250 BHD'. */
export function formatMinor(amountMinor, currency) {
  const exp = exponentOf(currency);
  let n = BigInt(amountMinor);
  const negative = n < 0n;
  if (negative) n = -n;
  const digits = n.toString().padStart(exp + 1, '0');
  const whole = digits.slice(0, digits.length - exp).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = exp > 0 ? `.${digits.slice(digits.length - exp)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction} ${currency}`;
}

/** The exact sum of the items' minor units, as a BigInt (formatMinor takes it as is). */
export function sumMinor(items) {
  return items.reduce((sum, item) => sum + BigInt(item.amount_minor), 0n);
}
