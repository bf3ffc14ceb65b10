/**
 * A circuit breaker in front of the Verify client: after CIRCUIT_FAILURE_THRESHOLD
 * consecutive infrastructure failures (timeouts, refused connections, 5xx, bodies that
 * break the contract), calls fail at
 * once for CIRCUIT_OPEN_SECONDS instead of piling onto a Verify that is down; then one
 * trial call decides whether it closes again. Verify's 4xx answers are not failures, and
 * neither are calls never sent (our own pool full, the request's budget spent: attempts 0),
 * nor timeouts of attempts the request's budget gave less than `fairTimeoutMs` (Verify was
 * not given a fair chance: the time went to our own queue or earlier calls).
 */
import type { VerifyClient } from './client.js';
import { VerifyError } from './errors.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

export class CircuitOpenError extends Error {
  override name = 'CircuitOpenError';
  constructor() {
    super('Verify circuit is open');
  }
}

export interface CircuitBreaker {
  readonly state: CircuitState;
  onStateChange?: (state: CircuitState) => void;
}

export function withCircuitBreaker(
  client: VerifyClient,
  options: { failureThreshold: number; openMs: number; now?: () => number; fairTimeoutMs?: number },
): VerifyClient & { circuit: CircuitBreaker } {
  const now = options.now ?? Date.now;
  let failures = 0;
  let openedAt = 0;
  let trialInFlight = false;
  const circuit: CircuitBreaker & { state: CircuitState } = { state: 'closed' };
  const setState = (state: CircuitState) => {
    if (circuit.state === state) return;
    circuit.state = state;
    circuit.onStateChange?.(state);
  };

  const guard = <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      let trial = false;
      if (circuit.state === 'open') {
        if (now() - openedAt < options.openMs || trialInFlight) throw new CircuitOpenError();
        setState('half_open');
      }
      if (circuit.state === 'half_open') {
        if (trialInFlight) throw new CircuitOpenError();
        trialInFlight = true;
        trial = true;
      }
      try {
        const result = await call(...args);
        failures = 0;
        setState('closed');
        return result;
      } catch (error) {
        // a body that breaks the contract (e.g. a proxy's HTML error page) means Verify is not usable either
        const infrastructure =
          error instanceof VerifyError &&
          error.kind !== 'rejected' &&
          error.kind !== 'overloaded' &&
          error.attempts > 0 &&
          !(error.kind === 'timeout' && error.timeLimitMs !== undefined && error.timeLimitMs < (options.fairTimeoutMs ?? 0));
        if (infrastructure) {
          failures += 1;
          if (trial || failures >= options.failureThreshold) {
            openedAt = now();
            setState('open');
          }
        } else if (trial) {
          setState('closed');
          failures = 0;
        }
        throw error;
      } finally {
        if (trial) trialInFlight = false;
      }
    };

  return {
    circuit,
    listBanks: guard(client.listBanks.bind(client)),
    createSession: guard(client.createSession.bind(client)),
    getSession: guard(client.getSession.bind(client)),
    login: guard(client.login.bind(client)),
    listBankAccounts: guard(client.listBankAccounts.bind(client)),
    createTransfer: guard(client.createTransfer.bind(client)),
    listSessionTransfers: guard(client.listSessionTransfers.bind(client)),
    getSessionTransfer: guard(client.getSessionTransfer.bind(client)),
    getTransfer: guard(client.getTransfer.bind(client)),
    submitVerification: guard(client.submitVerification.bind(client)),
    close: () => client.close(),
  };
}
