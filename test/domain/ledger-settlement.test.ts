/**
 * What the customer sees of settlement (ledger.ts entriesOf): the destination credit in the
 * destination account's own currency, pending while its obligation is due or batched, posted
 * once paid; a returned payout is a cancelled credit plus a refund on the source account.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../src/adapters/store/store.js';
import { entriesOf } from '../../src/domain/ledger.js';

const day = Date.parse('2026-11-30T08:00:00Z');
const row = (over: Partial<LedgerRow> = {}): LedgerRow => ({
  id: 'mv_1', kind: 'transfer', status: 'processed', amount_minor: 150, currency: 'AED', category: 'transfers', description: 'Transfer to Savings',
  requested_date: null, created_at: day, completed_at: day + 2000, verify_reference_id: 'REF1', verify_transfer_id: 'tr_1',
  source_account_id: 'acct_aed', source_iban: 'AE070331234567890123456', dest_type: 'account', dest_id: 'acct_usd',
  dest_currency: 'USD', dest_amount_minor: 41, failure_reason: null, obligation_state: 'due', obligation_returned_at: null, ...over,
});

describe('ledger entries of a settled movement', () => {
  it('credits the destination in its own currency, pending until the obligation is paid', () => {
    for (const state of ['due', 'batched'] as const) {
      const [debit, credit] = entriesOf(row({ obligation_state: state }));
      expect(debit).toMatchObject({ account_id: 'acct_aed', amount: 1.5, currency_code: 'AED', status: 'posted', transaction_type: 'debit' });
      expect(credit).toMatchObject({ account_id: 'acct_usd', amount: 0.41, currency_code: 'USD', status: 'pending', transaction_type: 'credit' });
      expect(credit!.post_date).toBeUndefined();
    }
    const [, paid] = entriesOf(row({ obligation_state: 'paid' }));
    expect(paid).toMatchObject({ currency_code: 'USD', amount: 0.41, status: 'posted', post_date: '2026-11-30' });
  });

  it('a returned payout: the credit cancelled and a refund on the source account', () => {
    const entries = entriesOf(row({ obligation_state: 'returned', obligation_returned_at: Date.parse('2026-12-02T09:00:00Z') }));
    expect(entries.map((e) => [e.transaction_id, e.transaction_type, e.status, e.account_id, e.amount, e.currency_code])).toEqual([
      ['mv_1-debit', 'debit', 'posted', 'acct_aed', 1.5, 'AED'],
      ['mv_1-credit', 'credit', 'cancelled', 'acct_usd', 0.41, 'USD'],
      ['mv_1-refund', 'credit', 'posted', 'acct_aed', 1.5, 'AED'],
    ]);
    expect(entries[2]!.transaction_date).toBe('2026-12-02');
  });

  it('a returned payment has no credit, only the refund', () => {
    const entries = entriesOf(row({ kind: 'payment', dest_type: 'payee', dest_id: 'payee_dewa', dest_currency: 'AED', dest_amount_minor: 150, obligation_state: 'returned', obligation_returned_at: day + 5000 }));
    expect(entries.map((e) => e.transaction_id)).toEqual(['mv_1-debit', 'mv_1-refund']);
  });

  it('a movement still in flight: both entries pending; one from before obligations existed stays posted', () => {
    expect(entriesOf(row({ status: 'transfer_requested', obligation_state: null })).map((e) => e.status)).toEqual(['pending', 'pending']);
    expect(entriesOf(row({ obligation_state: null, dest_currency: null, dest_amount_minor: null })).map((e) => [e.status, e.currency_code, e.amount])).toEqual([
      ['posted', 'AED', 1.5],
      ['posted', 'AED', 1.5],
    ]);
  });
});
