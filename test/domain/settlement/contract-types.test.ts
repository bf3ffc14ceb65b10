/**
 * The operator contract and the settlement domain name the same things: when one side
 * changes a state, a destination kind or the FX fields, tsc fails here (vitest's
 * expectTypeOf is checked by `npm run typecheck`).
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { components } from '../../../generated/operator.js';
import type { MovementStatus } from '../../../src/domain/movements/status.js';
import type { ReconciliationCounts, ReconciliationKind } from '../../../src/domain/settlement/reconciliation.js';
import type { BatchTotal } from '../../../src/domain/settlement/batching.js';
import type { ObligationDestination, ObligationFx, ObligationState } from '../../../src/domain/settlement/types.js';

type Schemas = components['schemas'];

describe('operator contract ↔ settlement domain types', () => {
  it('agree on states, destinations, FX fields, reconciliation kinds and counts, batch totals', () => {
    expectTypeOf<Schemas['obligation_state']>().toEqualTypeOf<ObligationState>();
    expectTypeOf<Schemas['movement_status']>().toEqualTypeOf<MovementStatus>();
    expectTypeOf<Schemas['destination']['kind']>().toEqualTypeOf<ObligationDestination['kind']>();
    expectTypeOf<keyof Schemas['fx']>().toEqualTypeOf<keyof ObligationFx>();
    expectTypeOf<Schemas['reconciliation_kind']>().toEqualTypeOf<ReconciliationKind>();
    expectTypeOf<Schemas['reconciliation_report']['counts']>().toEqualTypeOf<ReconciliationCounts>();
    expectTypeOf<Schemas['batch_total']>().toEqualTypeOf<BatchTotal>();
    expectTypeOf<Exclude<keyof Schemas['obligation'], 'paid_at' | 'created_at'>>().toEqualTypeOf<
      Exclude<keyof import('../../../src/domain/settlement/types.js').Obligation, 'paid_at' | 'created_at'>
    >();
  });
});
