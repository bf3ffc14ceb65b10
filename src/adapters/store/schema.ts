/**
 * The connector's own tables. Timestamps are epoch milliseconds and money is integer minor
 * units, both as 64-bit integers (pg's int8 is parsed back to number in db.ts).
 */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { MovementStatus } from '../../domain/movements/status.js';

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

export interface Database {
  grants: GrantsTable;
  tokens: TokensTable;
  movements: MovementsTable;
  payees: PayeesTable;
  profiles: ProfilesTable;
  ledger_versions: LedgerVersionsTable;
  customer_guards: CustomerGuardsTable;
  leases: LeasesTable;
}

export type Grant = Selectable<GrantsTable>;
export type NewGrant = Insertable<GrantsTable>;
export type GrantPatch = Updateable<GrantsTable>;
export type Movement = Selectable<MovementsTable>;
export type NewMovement = Insertable<MovementsTable>;
export type MovementPatch = Updateable<MovementsTable>;
export type Payee = Selectable<PayeesTable>;
export type Profile = Selectable<ProfilesTable>;
