/**
 * Reconciliation's judgement, pure: one movement of the day against Verify's record of its
 * transfer, and the day's counts. Fetching (GET transfer), correcting and storing are the
 * caller's; see docs/settlement-design.md.
 *
 * Kinds (the operator API's `reconciliation_kind`):
 * - matched: both final and agreeing (processed + succeeded with the same amount and
 *   currency; failed/cancelled + failed or no transfer at Verify).
 * - verify_succeeded_ledger_behind: Verify succeeded with our amount and currency, the
 *   ledger is not processed → `correctable`: the ledger follows Verify and the obligation is
 *   created. This includes a ledger that said failed/cancelled: Verify's final answer is the
 *   bank's truth.
 * - ledger_processed_verify_failed, ledger_processed_verify_unknown (Verify does not know the
 *   transfer, or the ledger has no transfer id, or Verify's transfer is not final yet),
 *   amount_or_currency_differ, verify_transfer_unknown_to_ledger: flagged for a person.
 * - `in_flight` is not a report kind: the movement is still being driven (or its Verify
 *   transfer is not final while the ledger is not processed either); the caller resumes it
 *   with the movements' own recovery and classifies it again, or reports it on the next run.
 */
import type { MovementStatus } from '../movements/status.js';
import { formatMinor } from './decimal.js';

export type ReconciliationKind =
  | 'matched'
  | 'verify_succeeded_ledger_behind'
  | 'ledger_processed_verify_failed'
  | 'ledger_processed_verify_unknown'
  | 'amount_or_currency_differ'
  | 'verify_transfer_unknown_to_ledger';

export interface LedgerSide {
  movement_id: string;
  status: MovementStatus;
  amount_minor: number;
  currency: string;
  verify_transfer_id: string | null;
}

/** What Verify said: the transfer (GET transfer), or that it does not know it (404). */
export type VerifySide =
  | { found: true; id: string; status: 'initial' | 'pending_verification' | 'succeeded' | 'failed'; amount: number; currency: string }
  | { found: false };

export interface Judgement {
  kind: ReconciliationKind | 'in_flight';
  /** True only for verify_succeeded_ledger_behind: safe to correct without a person. */
  correctable: boolean;
  note: string | null;
}

const FINAL_NOT_PROCESSED: readonly MovementStatus[] = ['failed', 'cancelled'];

export function judge(ledger: LedgerSide, verify: VerifySide): Judgement {
  const flag = (kind: ReconciliationKind, note: string | null = null): Judgement => ({ kind, correctable: false, note });
  const sameMoney = verify.found && verify.amount === ledger.amount_minor && verify.currency === ledger.currency;
  const differ = (): Judgement =>
    flag('amount_or_currency_differ', verify.found ? `ledger ${money(ledger.amount_minor, ledger.currency)}, Verify ${money(verify.amount, verify.currency)}` : null);

  if (ledger.status === 'processed') {
    if (!verify.found) return flag('ledger_processed_verify_unknown', ledger.verify_transfer_id ? `Verify does not know ${ledger.verify_transfer_id}` : 'the ledger has no Verify transfer id');
    if (verify.status === 'failed') return flag('ledger_processed_verify_failed');
    if (verify.status !== 'succeeded') return flag('ledger_processed_verify_unknown', `Verify's transfer is still ${verify.status}`);
    return sameMoney ? { kind: 'matched', correctable: false, note: null } : differ();
  }
  if (verify.found && verify.status === 'succeeded') {
    if (!sameMoney) return differ();
    return { kind: 'verify_succeeded_ledger_behind', correctable: true, note: `ledger was ${ledger.status}` };
  }
  if (FINAL_NOT_PROCESSED.includes(ledger.status) && (!verify.found || verify.status === 'failed')) {
    return { kind: 'matched', correctable: false, note: null };
  }
  return { kind: 'in_flight', correctable: false, note: verify.found ? `ledger ${ledger.status}, Verify ${verify.status}` : `ledger ${ledger.status}` };
}

/** A Verify transfer found in one of our sessions that no movement records. */
export function unknownToLedger(transferId: string): Judgement {
  return { kind: 'verify_transfer_unknown_to_ledger', correctable: false, note: `no movement records ${transferId}` };
}

export type ReconciliationCounts = { [K in ReconciliationKind | 'total' | 'unexplained']: number };

/**
 * Counts per kind. `unexplained` = flagged items a person must look at: everything but
 * matched and the corrected ledger-behind items (a ledger-behind item whose correction
 * failed stays unexplained).
 */
export function countItems(items: readonly { kind: ReconciliationKind; corrected: boolean }[]): ReconciliationCounts {
  const counts: ReconciliationCounts = {
    total: items.length, unexplained: 0, matched: 0, verify_succeeded_ledger_behind: 0, ledger_processed_verify_failed: 0,
    ledger_processed_verify_unknown: 0, amount_or_currency_differ: 0, verify_transfer_unknown_to_ledger: 0,
  };
  for (const item of items) {
    counts[item.kind] += 1;
    if (item.kind !== 'matched' && !item.corrected) counts.unexplained += 1;
  }
  return counts;
}

function money(minor: number, currency: string): string {
  try {
    return `${formatMinor(minor, currency)} ${currency}`;
  } catch {
    return `${minor} (minor units) ${currency}`; // Verify sent a code we do not know
  }
}
