/**
 * The life of a movement, in one place: its states, the groups the code reasons about, and
 * what Kasisto is told. The store reads these groups too (it imports them from here).
 *
 *   recorded → session_created → logged_in → transfer_requested → processed | failed
 *                     ↘ awaiting_login_otp        ↘ awaiting_transfer_otp
 *   interrupted: a crash stopped it before Verify made a transfer; a retry resumes it.
 *   cancelled: the customer failed or abandoned the one-time password.
 */
export type MovementStatus =
  | 'recorded'
  | 'session_created'
  | 'awaiting_login_otp'
  | 'logged_in'
  | 'transfer_requested'
  | 'awaiting_transfer_otp'
  | 'processed'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

/** Between two steps of the connector: a crash here leaves work for reconciliation. */
export const IN_FLIGHT_STATUSES = ['recorded', 'session_created', 'logged_in', 'transfer_requested'] as const satisfies readonly MovementStatus[];
/** Waiting for the customer's one-time password. */
export const AWAITING_OTP_STATUSES = ['awaiting_login_otp', 'awaiting_transfer_otp'] as const satisfies readonly MovementStatus[];
/** Finished: nothing will change them. */
export const TERMINAL_STATUSES = ['processed', 'failed', 'cancelled'] as const satisfies readonly MovementStatus[];
/** A transfer exists at Verify and its outcome is not known here yet: never ended without asking Verify. */
export const OUTCOME_UNKNOWN_STATUSES = ['transfer_requested', 'awaiting_transfer_otp'] as const satisfies readonly MovementStatus[];
/** On the customer's statement: moved money, or may still move it (a transfer Verify may hold). */
export const LEDGER_STATUSES = ['processed', 'awaiting_transfer_otp', 'transfer_requested'] as const satisfies readonly MovementStatus[];

const has = (group: readonly MovementStatus[], status: MovementStatus) => group.includes(status);
export const isTerminal = (status: MovementStatus) => has(TERMINAL_STATUSES, status);
export const isAwaitingOtp = (status: MovementStatus) => has(AWAITING_OTP_STATUSES, status);
export const isInFlight = (status: MovementStatus) => has(IN_FLIGHT_STATUSES, status);
/** A drive can take it further now (in flight, or interrupted and resumable). */
export const isDrivable = (status: MovementStatus) => has(IN_FLIGHT_STATUSES, status) || status === 'interrupted';

export type PublicMovementStatus = 'processed' | 'pending' | 'cancelled' | 'failed';

/** What the platform is told about a movement in a given state. */
export function publicStatus(status: MovementStatus): PublicMovementStatus {
  switch (status) {
    case 'processed':
    case 'failed':
    case 'cancelled':
      return status;
    case 'recorded':
    case 'session_created':
    case 'awaiting_login_otp':
    case 'logged_in':
    case 'transfer_requested':
    case 'awaiting_transfer_otp':
    case 'interrupted':
      return 'pending';
  }
}
