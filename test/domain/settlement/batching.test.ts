import { describe, expect, it } from 'vitest';
import { batchTotals, checkFourEyes, planBatch } from '../../../src/domain/settlement/batching.js';
import { errorOf, iban, obligation } from './fixtures.js';

const due = (id: string, currency = 'AED', amount_minor = 100) => obligation({ id, currency, amount_minor, state: 'due', batch_id: null });
const BH = iban('BH', 'BMAG00001299123456');
const candidates = [
  due('ob-1'),
  due('ob-2', 'BHD', 1250),
  { ...due('ob-3'), destination: { kind: 'payee' as const, iban: null, reference: 'ACC-1', name: 'Water' } },
  { ...due('ob-4', 'BHD', 5), destination: { kind: 'own_account' as const, iban: BH, reference: null, name: 'X' } },
  obligation({ id: 'ob-5', state: 'paid' }),
];

describe('planBatch', () => {
  it('takes every payable due obligation and lists the unpayable ones as skipped', () => {
    const plan = planBatch(candidates, {});
    expect(plan.take.map((o) => o.id)).toEqual(['ob-1', 'ob-2', 'ob-4']);
    expect(plan.skipped).toEqual([{ obligation_id: 'ob-3', reason: 'obligation ob-3: the payee has no IBAN' }]);
  });

  it('narrows to a currency', () => {
    expect(planBatch(candidates, { currency: 'BHD' }).take.map((o) => o.id)).toEqual(['ob-2', 'ob-4']);
  });

  it('takes named obligations in the order named, refusing unknown, not due and other-currency ones', () => {
    expect(planBatch(candidates, { obligation_ids: ['ob-4', 'ob-1'] }).take.map((o) => o.id)).toEqual(['ob-4', 'ob-1']);
    const unknown = errorOf(() => planBatch(candidates, { obligation_ids: ['ob-1', 'ob-9'] }));
    expect([unknown.kind, unknown.field, unknown.message]).toEqual(['obligation_unknown', 'obligation_ids[1]', 'obligation_ids[1]: no obligation ob-9']);
    expect(errorOf(() => planBatch(candidates, { obligation_ids: ['ob-5'] })).message).toBe('obligation_ids[0]: obligation ob-5 is paid, not due');
    expect(errorOf(() => planBatch(candidates, { currency: 'AED', obligation_ids: ['ob-2'] })).kind).toBe('not_due');
  });

  it('refuses a batch with nothing payable', () => {
    const e = errorOf(() => planBatch(candidates, { obligation_ids: ['ob-3'] }));
    expect(e.kind).toBe('nothing_to_batch');
    expect(e.message).toMatch(/1 skipped/);
    expect(errorOf(() => planBatch(candidates, { currency: 'USD' })).message).toBe('no due obligation with a valid creditor IBAN in USD');
  });
});

describe('batchTotals', () => {
  it('counts and sums per currency, in currency order', () => {
    expect(batchTotals([due('a', 'USD', 5), due('b', 'AED', 150), due('c', 'USD', 7), due('d', 'BHD', 1250)])).toEqual([
      { currency: 'AED', count: 1, amount_minor: 150 },
      { currency: 'BHD', count: 1, amount_minor: 1250 },
      { currency: 'USD', count: 2, amount_minor: 12 },
    ]);
    expect(batchTotals([])).toEqual([]);
  });

  it('refuses a total beyond a safe integer instead of rounding it', () => {
    expect(errorOf(() => batchTotals([due('a', 'AED', Number.MAX_SAFE_INTEGER), due('b', 'AED', 1)])).kind).toBe('amount_out_of_range');
  });
});

describe('checkFourEyes', () => {
  const batch = { id: 'bt-1', created_by: 'alice' };
  it('refuses the creator when the rule is on, allows another key or the rule off', () => {
    const e = errorOf(() => checkFourEyes(batch, 'alice', true));
    expect(e.kind).toBe('four_eyes');
    expect(e.message).toBe('batch bt-1 was created by key alice; another settler key must mark it paid');
    expect(() => checkFourEyes(batch, 'bob', true)).not.toThrow();
    expect(() => checkFourEyes(batch, 'alice', false)).not.toThrow();
  });
});
