/**
 * A movement's states: the groups the code reasons about split them without overlap, and
 * what the platform is told about each state is a status Kasisto's contract knows.
 */
import { describe, expect, it } from 'vitest';
import {
  AWAITING_OTP_STATUSES,
  IN_FLIGHT_STATUSES,
  isAwaitingOtp,
  isDrivable,
  isInFlight,
  isTerminal,
  LEDGER_STATUSES,
  publicStatus,
  TERMINAL_STATUSES,
  type MovementStatus,
  type PublicMovementStatus,
} from '../../../src/domain/movements/status.js';
import { loadSpec } from '../../helpers/spec.js';

// Every state with what the platform must be told. The compiler keeps this list whole: a
// state added to MovementStatus and missing here (or one removed) fails `tsc`.
const TOLD: Record<MovementStatus, PublicMovementStatus> = {
  recorded: 'pending',
  session_created: 'pending',
  awaiting_login_otp: 'pending',
  logged_in: 'pending',
  transfer_requested: 'pending',
  awaiting_transfer_otp: 'pending',
  interrupted: 'pending',
  processed: 'processed',
  failed: 'failed',
  cancelled: 'cancelled',
};
const ALL = Object.keys(TOLD) as MovementStatus[];

describe('movement statuses', () => {
  it('tells the platform pending until the movement is final, then its outcome', () => {
    for (const status of ALL) expect(publicStatus(status), status).toBe(TOLD[status]);
  });

  it("tells only statuses of Kasisto's transfer and payment", () => {
    const kasisto = loadSpec('kasisto');
    for (const schema of ['transfer', 'payment']) {
      const known = kasisto.at(`/components/schemas/${schema}/properties/status/enum`) as string[];
      for (const status of ALL) expect(known, `${schema}: ${status}`).toContain(publicStatus(status));
    }
  });

  it('puts every state in exactly one of in flight, awaiting an OTP, final, or interrupted', () => {
    const groups: Record<string, readonly MovementStatus[]> = { IN_FLIGHT_STATUSES, AWAITING_OTP_STATUSES, TERMINAL_STATUSES, interrupted: ['interrupted'] };
    for (const status of ALL) {
      const owners = Object.entries(groups).filter(([, group]) => group.includes(status)).map(([name]) => name);
      expect(owners, status).toHaveLength(1);
    }
    expect(Object.values(groups).flat().sort()).toEqual([...ALL].sort());
  });

  it('answers the group questions as the groups say', () => {
    for (const status of ALL) {
      expect(isTerminal(status), status).toBe((TERMINAL_STATUSES as readonly string[]).includes(status));
      expect(isAwaitingOtp(status), status).toBe((AWAITING_OTP_STATUSES as readonly string[]).includes(status));
      expect(isInFlight(status), status).toBe((IN_FLIGHT_STATUSES as readonly string[]).includes(status));
      // a drive resumes what is in flight or interrupted, never what waits for the customer or is final
      expect(isDrivable(status), status).toBe(isInFlight(status) || status === 'interrupted');
      if (isDrivable(status)) expect(isTerminal(status) || isAwaitingOtp(status), status).toBe(false);
    }
  });

  it('puts on the statement what moved money or may still move it, nothing final that did not', () => {
    expect([...LEDGER_STATUSES].sort()).toEqual(['awaiting_transfer_otp', 'processed', 'transfer_requested']);
    for (const status of ['failed', 'cancelled', 'recorded', 'interrupted'] as const) expect(LEDGER_STATUSES as readonly string[]).not.toContain(status);
  });
});
