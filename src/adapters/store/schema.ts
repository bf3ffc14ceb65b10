/**
 * The connector's own tables. Timestamps are epoch milliseconds and money is integer minor
 * units, both as 64-bit integers (pg's int8 is parsed back to number in db.ts).
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { MovementStatus } from '../../domain/movements/status.js';
import type { Batch } from '../../domain/settlement/types.js';

export interface GrantsTable {
  /** One customer login: the Verify session, the sealed credentials, OTP state. */
  id: string;
  user_id: string;
  bank_id: string;
  status: 'pending_otp' | 'active' | 'ended';
  sealed_credentials: string | null;
  verify_session_id: string | null;
  pending_json: string | null;
  otp_attempts: number;
  otp_started_at: number | null;
  accounts_json: string | null;
  accounts_cached_at: number | null;
  created_at: number;
  last_used_at: number;
  absolute_expires_at: number;
}

export interface TokensTable {
  token_hash: string;
  grant_id: string;
  created_at: number;
  /** Set when a newer token replaced this one; it stays valid for the rotation grace. */
  retired_at: number | null;
}


export interface MovementsTable {
  id: string;
  user_id: string;
  grant_id: string;
  kind: 'transfer' | 'payment';
  idempotency_key: string | null;
  fingerprint: string;
  source_account_id: string;
  source_iban: string;
  dest_type: 'account' | 'payee';
  dest_id: string;
  dest_name: string | null;
  dest_iban: string | null;
  amount_minor: number;
  currency: string;
  description: string;
  requested_date: string | null;
  category: string;
  status: MovementStatus;
  verify_session_id: string | null;
  verify_transfer_id: string | null;
  verify_reference_id: string | null;
  /** the transfer's status as Verify last reported it */
  verify_status: string | null;
  pending_json: string | null;
  otp_attempts: number;
  otp_started_at: number | null;
  failure_reason: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  /** the destination's currency and amount (after FX); null on movements recorded before issue 11 */
  dest_currency: string | null;
  dest_amount_minor: number | null;
  /** the rate applied (1 fx_base = fx_rate fx_quote, as written in FX_RATES_FILE); null without FX */
  fx_rate: string | null;
  fx_base: string | null;
  fx_quote: string | null;
  fx_valid_from: string | null;
}

export interface PayeesTable {
  /** '' for a payee every user sees (a biller), else the user's pseudonymous id. */
  user_id: string;
  payee_id: string;
  name: string;
  aliases_json: string;
  iban: string | null;
  category: string | null;
  created_at: number;
}

export interface ProfilesTable {
  user_id: string;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  updated_at: number;
}

/**
 * A counter per user, bumped by database triggers in the same transaction as every insert,
 * update or delete of the user's movements (whichever instance or tool writes them): a
 * rendered ledger page is reused only while it is unchanged. Rows are never deleted, so a
 * version is never reused.
 */
export interface LedgerVersionsTable {
  user_id: string;
  version: number;
}

/** What one customer (user_id) has done lately: failed sign-ins and OTPs, lockout, sign-in attempts. */
export interface CustomerGuardsTable {
  user_id: string;
  failures: number;
  last_failure_at: number;
  /** epoch ms; 0 when not locked */
  locked_until: number;
  window_started_at: number;
  attempts: number;
}

/** A named right to do something alone, until a time (any instance may take it over after). */
export interface LeasesTable {
  name: string;
  owner: string;
  until: number;
}

/** What the operator owes after one processed movement (unique movement_id). */
export interface ObligationsTable {
  id: string;
  movement_id: string;
  user_id: string;
  state: 'due' | 'batched' | 'paid' | 'returned';
  amount_minor: number;
  currency: string;
  dest_kind: 'own_account' | 'payee';
  dest_iban: string | null;
  dest_reference: string | null;
  dest_name: string | null;
  verify_transfer_id: string;
  verify_reference: string | null;
  fx_rate: string | null;
  fx_base: string | null;
  fx_quote: string | null;
  source_amount_minor: number;
  source_currency: string;
  batch_id: string | null;
  bank_reference: string | null;
  paid_at: number | null;
  returned_reason: string | null;
  returned_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A payout batch: the domain's own shape (src/domain/settlement/types.ts). */
export type BatchesTable = Batch;

export interface ReconciliationReportsTable {
  date: string;
  ran_at: number;
  ran_by: string;
  counts_json: string;
  items_json: string;
}

/** Append-only (database triggers refuse update and delete). */
export interface AuditLogTable {
  seq: Generated<number>;
  at: number;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  details_json: string;
}

/** A movement's states, written by database triggers with every status change. */
export interface MovementEventsTable {
  seq: Generated<number>;
  movement_id: string;
  status: string;
  at: number;
  reason: string | null;
}

export interface Database {
  grants: GrantsTable;
  tokens: TokensTable;
  movements: MovementsTable;
  payees: PayeesTable;
  profiles: ProfilesTable;
  ledger_versions: LedgerVersionsTable;
  customer_guards: CustomerGuardsTable;
  leases: LeasesTable;
  obligations: ObligationsTable;
  batches: BatchesTable;
  reconciliation_reports: ReconciliationReportsTable;
  audit_log: AuditLogTable;
  movement_events: MovementEventsTable;
}

export type Grant = Selectable<GrantsTable>;
export type NewGrant = Insertable<GrantsTable>;
export type GrantPatch = Updateable<GrantsTable>;
export type Movement = Selectable<MovementsTable>;
export type NewMovement = Insertable<MovementsTable>;
export type MovementPatch = Updateable<MovementsTable>;
export type Payee = Selectable<PayeesTable>;
export type Profile = Selectable<ProfilesTable>;
export type ObligationRow = Selectable<ObligationsTable>;
export type BatchRow = Selectable<BatchesTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type ReconciliationReportRow = Selectable<ReconciliationReportsTable>;
export type MovementEventRow = Selectable<MovementEventsTable>;
