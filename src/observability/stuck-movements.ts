/**
 * connector_movements_stuck_in_flight: movements between two Verify steps (not awaiting an
 * OTP, not final) that nothing has updated for STUCK_AFTER_SECONDS. Reconciliation picks
 * such movements up every RECONCILE_INTERVAL_SECONDS, so a count that stays above zero
 * means it cannot settle them (Verify down, a bug): the alert in monitoring/alerts.yml.
 */
import type { Store } from '../adapters/store/store.js';

/** Well above the reconciliation period (30 s by default) and a Verify call's budget. */
export const STUCK_AFTER_SECONDS = 300;

export function stuckMovementsCounter(store: Store, now: () => number = Date.now): () => Promise<number> {
  return async () => {
    const before = now() - STUCK_AFTER_SECONDS * 1000;
    return (await store.listInFlightMovements()).filter((m) => m.updated_at < before).length;
  };
}
