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
  /** A converted amount or a total does not fit in a safe integer of minor units. */
  | 'amount_out_of_range'
  /** An obligation named in a request does not exist. */
  | 'obligation_unknown'
  /** An obligation named for a batch is not due (already batched, paid or returned). */
  | 'not_due'
  /** No payable due obligation matches a batch request. */
  | 'nothing_to_batch'
  /** Two-person rule: the key that created a batch tried to mark it paid. */
  | 'four_eyes'
  /** A batch, obligation or report named in a request does not exist. */
  | 'not_found'
  /** The state changed otherwise already (paid with another reference, returned for another reason, not returnable). */
  | 'conflict'
  /** A request value is malformed (a date, a filter). */
  | 'invalid_request'
  /** Verify did not answer a reconciliation's questions: run it again later. */
  | 'upstream_unavailable';

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
