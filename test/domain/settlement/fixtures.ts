import { expect } from 'vitest';
import { SettlementError } from '../../../src/domain/settlement/errors.js';
import { ibanCheckDigits } from '../../../src/domain/settlement/iban.js';
import type { Obligation } from '../../../src/domain/settlement/types.js';

/** A valid IBAN of the given country and BBAN (check digits computed, not copied). */
export function iban(country: string, bban: string): string {
  return `${country}${ibanCheckDigits(country, bban)}${bban}`;
}

export const AE_IBAN = 'AE070331234567890123456'; // the registry's own example, valid

export function obligation(over: Partial<Obligation> & { id: string }): Obligation {
  return {
    state: 'batched',
    amount_minor: 150,
    currency: 'AED',
    destination: { kind: 'own_account', iban: AE_IBAN, reference: null, name: 'Mona Haddad' },
    user_id: 'u_pseudonym',
    movement_id: `mv_${over.id}`,
    verify_transfer_id: `tr_${over.id}`,
    verify_reference: `REF-${over.id}`,
    fx: null,
    batch_id: 'bt-0001',
    bank_reference: null,
    paid_at: null,
    returned_reason: null,
    created_at: Date.UTC(2026, 10, 30, 8, 0, 0),
    ...over,
  };
}

/** The SettlementError `fn` throws (fails the test when it throws something else or nothing). */
export function errorOf(fn: () => unknown): SettlementError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SettlementError);
    return error as SettlementError;
  }
  throw new Error('expected a SettlementError');
}
