import { describe, expect, it } from 'vitest';
import { countItems, judge, unknownToLedger, type LedgerSide, type VerifySide } from '../../../src/domain/settlement/reconciliation.js';

const ledger = (status: LedgerSide['status'], over: Partial<LedgerSide> = {}): LedgerSide => ({
  movement_id: 'mv_1', status, amount_minor: 150, currency: 'AED', verify_transfer_id: 'tr_000000000001', ...over,
});
const verify = (status: 'initial' | 'pending_verification' | 'succeeded' | 'failed', over: { amount?: number; currency?: string } = {}): VerifySide => ({
  found: true, id: 'tr_000000000001', status, amount: over.amount ?? 150, currency: over.currency ?? 'AED',
});
const unknown: VerifySide = { found: false };

describe('reconciliation judgement', () => {
  it('matches agreeing final states', () => {
    expect(judge(ledger('processed'), verify('succeeded'))).toEqual({ kind: 'matched', correctable: false, note: null });
    expect(judge(ledger('failed'), verify('failed')).kind).toBe('matched');
    expect(judge(ledger('cancelled', { verify_transfer_id: null }), unknown).kind).toBe('matched');
  });

  it('corrects only a ledger behind a successful Verify transfer of the same money', () => {
    for (const status of ['transfer_requested', 'awaiting_transfer_otp', 'interrupted', 'failed', 'cancelled'] as const) {
      expect(judge(ledger(status), verify('succeeded'))).toEqual({ kind: 'verify_succeeded_ledger_behind', correctable: true, note: `ledger was ${status}` });
    }
    expect(judge(ledger('transfer_requested'), verify('succeeded', { amount: 15 }))).toEqual({
      kind: 'amount_or_currency_differ', correctable: false, note: 'ledger 1.50 AED, Verify 0.15 AED',
    });
  });

  it('flags a processed ledger that Verify failed, does not know, or has not finished', () => {
    expect(judge(ledger('processed'), verify('failed')).kind).toBe('ledger_processed_verify_failed');
    expect(judge(ledger('processed'), unknown)).toEqual({ kind: 'ledger_processed_verify_unknown', correctable: false, note: 'Verify does not know tr_000000000001' });
    expect(judge(ledger('processed', { verify_transfer_id: null }), unknown).note).toBe('the ledger has no Verify transfer id');
    expect(judge(ledger('processed'), verify('pending_verification')).note).toBe("Verify's transfer is still pending_verification");
  });

  it('flags a different amount or currency', () => {
    expect(judge(ledger('processed'), verify('succeeded', { currency: 'BHD', amount: 1500 })).note).toBe('ledger 1.50 AED, Verify 1.500 BHD');
    expect(judge(ledger('processed'), verify('succeeded', { currency: 'XYZ' })).note).toBe('ledger 1.50 AED, Verify 150 (minor units) XYZ');
  });

  it('leaves movements still in flight out of the report kinds', () => {
    expect(judge(ledger('transfer_requested'), verify('pending_verification')).kind).toBe('in_flight');
    expect(judge(ledger('recorded', { verify_transfer_id: null }), unknown).kind).toBe('in_flight');
    expect(judge(ledger('transfer_requested'), verify('failed')).kind).toBe('in_flight');
  });

  it('counts kinds and the unexplained ones', () => {
    const items = [
      { kind: 'matched' as const, corrected: false },
      { kind: 'verify_succeeded_ledger_behind' as const, corrected: true },
      { kind: 'verify_succeeded_ledger_behind' as const, corrected: false },
      { kind: unknownToLedger('tr_x').kind as 'verify_transfer_unknown_to_ledger', corrected: false },
    ];
    expect(countItems(items)).toEqual({
      total: 4, unexplained: 2, matched: 1, verify_succeeded_ledger_behind: 2, ledger_processed_verify_failed: 0,
      ledger_processed_verify_unknown: 0, amount_or_currency_differ: 0, verify_transfer_unknown_to_ledger: 1,
    });
  });
});
