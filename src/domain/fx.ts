/**
 * Exchange rates for showing an amount in another currency (Kasisto 1.3 gives every balance
 * in the bank's default currency). Integer maths only: minor units in, minor units out,
 * rounded half-even at the destination currency's exponent.
 *
 * TO BE REPLACED: src/domain/settlement/fx-rates.ts (the FX_RATES_FILE loader, on another
 * branch) is the operator's source of rates. Until it lands, `developmentRates` below holds
 * fixed development pegs behind the same interface; only the interface is meant to stay.
 */
import { currencyExponent } from './money.js';

export interface Conversion {
  /** the amount in the destination currency, integer minor units */
  minor: number;
  /** destination major units per source major unit (informative; never used for maths) */
  rate: number;
}

export interface ExchangeRates {
  /** Throws a RangeError when there is no rate between the two currencies. */
  convert(minor: number, from: string, to: string): Conversion;
}

/** A rate as an exact fraction: units of a currency per one US dollar, num / den. */
interface PerUsd {
  num: bigint;
  den: bigint;
}

/** Development pegs: AED/USD 3.6725 and BHD/USD 0.376 (both currencies' official pegs). */
const DEVELOPMENT_PEGS: Record<string, PerUsd> = {
  USD: { num: 1n, den: 1n },
  AED: { num: 36725n, den: 10000n },
  BHD: { num: 376n, den: 1000n },
};

/** Rounds num / den to the nearest integer, ties to even (den > 0). */
export function divideHalfEven(num: bigint, den: bigint): bigint {
  const negative = num < 0n;
  const n = negative ? -num : num;
  let q = n / den;
  const r = n % den;
  const twice = 2n * r;
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** Rates between currencies of a table of units per US dollar (crossed through USD). */
export function ratesFromUsdPegs(pegs: Record<string, PerUsd>): ExchangeRates {
  return {
    convert(minor, from, to) {
      if (!Number.isSafeInteger(minor)) throw new RangeError('minor units must be a safe integer');
      if (from === to) return { minor, rate: 1 };
      const a = pegs[from];
      const b = pegs[to];
      if (!a || !b) throw new RangeError(`no exchange rate from ${from} to ${to}`);
      const ef = BigInt(currencyExponent(from));
      const et = BigInt(currencyExponent(to));
      // to_minor = minor / 10^ef / (a.num/a.den) * (b.num/b.den) * 10^et
      const num = BigInt(minor) * a.den * b.num * 10n ** et;
      const den = a.num * b.den * 10n ** ef;
      const converted = divideHalfEven(num, den);
      if (converted > BigInt(Number.MAX_SAFE_INTEGER) || converted < -BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('converted amount is too large');
      return { minor: Number(converted), rate: Number(b.num * a.den) / Number(b.den * a.num) };
    },
  };
}

/** Development pegs behind the ExchangeRates interface (see the note at the top). */
export const developmentRates: ExchangeRates = ratesFromUsdPegs(DEVELOPMENT_PEGS);
