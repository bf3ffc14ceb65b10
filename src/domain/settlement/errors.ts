/**
 * Errors of the settlement domain (obligations, payout files, exchange rates). No HTTP here:
 * the `kind` says what went wrong and the http layer maps kinds to statuses and codes.
 */
export type SettlementErrorKind =
  /** An IBAN fails its format, country length or mod-97 check digits. */
  | 'invalid_iban'
  /** An obligation has no creditor IBAN (a payee known only by a reference): it cannot go in a payout file. */
  | 'creditor_account_missing'
  /** An identifier that must travel unchanged (MsgId, PmtInfId, EndToEndId) is too long or outside the character set. */
  | 'invalid_identifier'
  /** The obligations handed over do not form a payable batch (empty, wrong batch, still due, bad amount). */
  | 'invalid_batch'
  /** No exchange rate for a currency pair at the given time. */
  | 'fx_rate_missing'
  /** FX_RATES_FILE cannot be read or one of its entries is invalid. */
  | 'fx_rates_invalid'
  /** A converted amount does not fit in a safe integer of minor units. */
  | 'amount_out_of_range';

export class SettlementError extends Error {
  override readonly name = 'SettlementError';
  constructor(
    readonly kind: SettlementErrorKind,
    message: string,
    /** The input field or entry at fault, when there is one (e.g. `obligations[2].destination.iban`). */
    readonly field?: string,
  ) {
    super(message);
  }
}
