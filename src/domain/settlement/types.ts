/**
 * What the operator owes after a processed movement (an obligation) and a group of them paid
 * together (a batch). Money is integer minor units plus an ISO 4217 code; times are epoch
 * milliseconds, as in the store. docs/settlement-design.md has the tables and transitions.
 */
export type ObligationState = 'due' | 'batched' | 'paid' | 'returned';

export interface ObligationDestination {
  /** own_account: the customer's own destination account; payee: a biller or other payee. */
  kind: 'own_account' | 'payee';
  iban: string | null;
  /** The payee's reference for this customer (e.g. a bill or contract number), when it has one. */
  reference: string | null;
  name: string | null;
}

export interface ObligationFx {
  /** Decimal text of the rate applied, as written in FX_RATES_FILE (1 base = rate quote). */
  rate: string;
  base: string;
  quote: string;
  /** What Verify debited: the movement's amount in the source account's currency. */
  source_amount_minor: number;
  source_currency: string;
}

export interface Obligation {
  id: string;
  state: ObligationState;
  amount_minor: number;
  currency: string;
  destination: ObligationDestination;
  /** The customer's pseudonym (never the username). */
  user_id: string;
  movement_id: string;
  verify_transfer_id: string;
  verify_reference: string | null;
  fx: ObligationFx | null;
  batch_id: string | null;
  bank_reference: string | null;
  paid_at: number | null;
  returned_reason: string | null;
  created_at: number;
}

export interface Batch {
  id: string;
  /** The operator key's name that created it (the two-person rule compares it with the payer). */
  created_by: string;
  created_at: number;
  /** Set when marked paid. */
  paid_by: string | null;
  paid_at: number | null;
  bank_reference: string | null;
}

/** The operator's own paying account, from configuration. */
export interface Debtor {
  name: string;
  iban: string;
  bic?: string | undefined;
}
