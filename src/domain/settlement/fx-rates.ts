/**
 * The operator's exchange rates (FX_RATES_FILE) and exact conversion of minor-unit amounts.
 *
 * File format: a JSON array of entries
 *
 *   { "base": "USD", "quote": "AED", "rate": "3.6725", "valid_from": "2026-01-01T00:00:00Z" }
 *
 * meaning 1 base = rate quote from valid_from on. `rate` is a decimal STRING (a JSON number
 * would pass through a float); valid_from is an ISO 8601 time with a zone (Z or ±hh:mm).
 *
 * Lookup of from → to at time t:
 * - same currency: no conversion;
 * - the latest entry base=from, quote=to with valid_from ≤ t;
 * - else the latest entry base=to, quote=from with valid_from ≤ t, used as its exact inverse
 *   (1 / rate, as a fraction: the rate is never rounded, only the final amount). A direct
 *   entry always wins over an inverse one, so an operator who quotes a spread writes both
 *   directions;
 * - no cross rates through a third currency: the sheet states every pair the operator
 *   trades, and a missing pair is a typed `fx_rate_missing` error naming it.
 *
 * Rounding: the exact product is rounded ONCE, to the destination currency's exponent
 * (ISO 4217, from money.ts), HALF UP (a tie goes away from zero; amounts are positive). That
 * is the rule the EU prescribes for currency conversions (Regulation 1103/97, art. 5) and
 * what customers expect from a bank statement; unlike half-even it never depends on the
 * parity of the last digit, so a customer can recompute their credit from the rate shown.
 * All arithmetic is BigInt on integers: no float ever touches an amount or a rate.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { currencyExponent, isCurrencyCode } from '../money.js';
import { SettlementError } from './errors.js';

export interface FxRateEntry {
  base: string;
  quote: string;
  /** Decimal text, e.g. "3.6725". */
  rate: string;
  /** ISO 8601 time with zone. */
  valid_from: string;
}

interface ParsedEntry extends FxRateEntry {
  validFromMs: number;
  /** rate = numerator / denominator, both positive BigInts (denominator a power of ten). */
  numerator: bigint;
  denominator: bigint;
}

/** The rate used for one conversion, as recorded on the movement and the obligation. */
export interface FxQuote {
  /** The entry as written in the file (1 base = rate quote). */
  base: string;
  quote: string;
  rate: string;
  valid_from: string;
  /** True when the entry was quote → base and was applied as 1 / rate. */
  inverted: boolean;
}

export interface Conversion {
  amount_minor: number;
  currency: string;
  source_amount_minor: number;
  source_currency: string;
  /** Null when source and destination currency are the same. */
  quote: FxQuote | null;
}

const DECIMAL = /^(0|[1-9][0-9]{0,17})(?:\.([0-9]{1,18}))?$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Validates the parsed JSON of a rates file; every error names the entry and the field. */
export function parseFxRates(json: unknown, source = 'FX_RATES_FILE'): ParsedEntry[] {
  const fail = (message: string): never => {
    throw new SettlementError('fx_rates_invalid', `${source}: ${message}`, source);
  };
  if (!Array.isArray(json)) return fail('must be a JSON array of {base, quote, rate, valid_from}');
  const seen = new Set<string>();
  return json.map((raw: unknown, i): ParsedEntry => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`entry ${i}: must be an object`);
    const entry = raw as Record<string, unknown>;
    const pair = `${String(entry.base)}/${String(entry.quote)}`;
    const at = `entry ${i} (${pair})`;
    for (const field of ['base', 'quote', 'rate', 'valid_from'] as const) {
      if (typeof entry[field] !== 'string') fail(`${at}: ${field} must be a string${field === 'rate' ? ' such as "3.6725" (a JSON number would lose digits)' : ''}`);
    }
    const { base, quote, rate, valid_from } = entry as unknown as FxRateEntry;
    if (!isCurrencyCode(base)) fail(`${at}: base must be an ISO 4217 currency code`);
    if (!isCurrencyCode(quote)) fail(`${at}: quote must be an ISO 4217 currency code`);
    if (base === quote) fail(`${at}: base and quote must differ`);
    const digits = DECIMAL.exec(rate);
    if (!digits) return fail(`${at}: rate must be a decimal string such as "3.6725"`);
    const fraction = digits[2] ?? '';
    const numerator = BigInt(digits[1]! + fraction);
    if (numerator === 0n) fail(`${at}: rate must be greater than 0`);
    const validFromMs = isoTimeMs(valid_from);
    if (Number.isNaN(validFromMs)) fail(`${at}: valid_from must be an ISO 8601 time with a zone, such as "2026-01-01T00:00:00Z"`);
    const key = `${base}/${quote}@${validFromMs}`;
    if (seen.has(key)) fail(`${at}: a second rate for the same pair and valid_from`);
    seen.add(key);
    return { base, quote, rate, valid_from, validFromMs, numerator, denominator: 10n ** BigInt(fraction.length) };
  });
}

/** Epoch ms of an ISO time with zone, NaN when malformed or not a real date (Date.parse takes Feb 30). */
function isoTimeMs(text: string): number {
  const m = ISO_TIME.exec(text);
  if (!m) return Number.NaN;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) return Number.NaN;
  return Date.parse(text);
}

/** Half-up division of non-negative BigInts. */
function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return (numerator % denominator) * 2n >= denominator ? quotient + 1n : quotient;
}

/**
 * The current rate table. `reload()` re-reads the file; a file that fails validation leaves
 * the previous table in force (the error is thrown for the caller to log), so a bad edit
 * never leaves the connector without rates.
 */
export class FxRates {
  private entries: ParsedEntry[];

  /** `entries` is validated here: the parsed JSON of a rates file, or a list built in code. */
  constructor(entries: unknown, private readonly path?: string) {
    this.entries = parseFxRates(entries, path ?? 'rates');
  }

  static fromFile(path: string): FxRates {
    return new FxRates(readRatesFile(path), path);
  }

  /** Re-reads the file this table came from; returns the number of entries now in force. */
  reload(): number {
    if (!this.path) throw new SettlementError('fx_rates_invalid', 'rates: this table was not loaded from a file', 'FX_RATES_FILE');
    this.entries = parseFxRates(readRatesFile(this.path), this.path);
    return this.entries.length;
  }

  list(): FxRateEntry[] {
    return this.entries.map(({ base, quote, rate, valid_from }) => ({ base, quote, rate, valid_from }));
  }

  /** The rate from → to valid at `at` (epoch ms), or fx_rate_missing naming the pair. */
  rateAt(from: string, to: string, at: number): FxQuote {
    const found = this.find(from, to, at, false) ?? this.find(to, from, at, true);
    if (!found) throw new SettlementError('fx_rate_missing', `no exchange rate for ${from}/${to} at ${new Date(at).toISOString()}`, `${from}/${to}`);
    return found.quote;
  }

  /** `amountMinor` of `from` in `to`, rounded half up by the destination exponent. */
  convert(amountMinor: number, from: string, to: string, at: number): Conversion {
    if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) {
      throw new SettlementError('amount_out_of_range', 'amount_minor: must be a non-negative safe integer', 'amount_minor');
    }
    const sourceExp = currencyExponent(from);
    const destExp = currencyExponent(to);
    if (from === to) return { amount_minor: amountMinor, currency: to, source_amount_minor: amountMinor, source_currency: from, quote: null };
    const found = this.find(from, to, at, false) ?? this.find(to, from, at, true);
    if (!found) throw new SettlementError('fx_rate_missing', `no exchange rate for ${from}/${to} at ${new Date(at).toISOString()}`, `${from}/${to}`);
    const { entry, quote } = found;
    // amount_dest = amount_src / 10^srcExp × rate × 10^destExp, rate = n/d (or d/n inverted)
    const [rateNum, rateDen] = quote.inverted ? [entry.denominator, entry.numerator] : [entry.numerator, entry.denominator];
    const result = divideHalfUp(BigInt(amountMinor) * rateNum * 10n ** BigInt(destExp), rateDen * 10n ** BigInt(sourceExp));
    if (result > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new SettlementError('amount_out_of_range', `amount_minor: ${amountMinor} ${from} is too large once converted to ${to}`, 'amount_minor');
    }
    return { amount_minor: Number(result), currency: to, source_amount_minor: amountMinor, source_currency: from, quote };
  }

  private find(base: string, quote: string, at: number, inverted: boolean): { entry: ParsedEntry; quote: FxQuote } | undefined {
    let best: ParsedEntry | undefined;
    for (const e of this.entries) {
      if (e.base === base && e.quote === quote && e.validFromMs <= at && (!best || e.validFromMs > best.validFromMs)) best = e;
    }
    return best && { entry: best, quote: { base: best.base, quote: best.quote, rate: best.rate, valid_from: best.valid_from, inverted } };
  }
}

function readRatesFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SettlementError('fx_rates_invalid', `${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'FX_RATES_FILE');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SettlementError('fx_rates_invalid', `${path}: is not valid JSON (${(error as Error).message})`, 'FX_RATES_FILE');
  }
}

/**
 * Development defaults: the fixed pegs of the sandbox's currencies. 1 USD = 3.6725 AED
 * (UAE dirham peg) and 1 USD = 0.376 BHD (Bahraini dinar peg); BHD → AED is the cross of
 * the two, 3.6725 / 0.376 = 9.767287234…, written to 8 decimals, because lookups do not
 * triangulate. Production sets FX_RATES_FILE to the operator's own sheet.
 */
export const DEFAULT_FX_RATES_FILE = fileURLToPath(new URL('./default-fx-rates.json', import.meta.url));
