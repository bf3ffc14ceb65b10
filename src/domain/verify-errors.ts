/** How a failure to reach or understand Verify reads in the domain. */
import { VerifyError } from '../adapters/verify/errors.js';
import { DomainError } from './errors.js';

export function toDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  if (error instanceof VerifyError) {
    switch (error.kind) {
      case 'timeout':
        return new DomainError('upstream_timeout', 'The bank did not answer in time; retry the same request (a movement is never made twice)');
      case 'unreachable':
        return new DomainError('upstream_unavailable', 'The bank cannot be reached right now; try again shortly', { retryAfterSeconds: 5 });
      case 'server':
        return new DomainError('upstream_error', 'The bank answered with an error; try again shortly');
      case 'contract':
        return new DomainError('upstream_error', 'The bank answered in an unexpected format');
      case 'rejected':
        return new DomainError('upstream_error', 'The bank refused the request');
      case 'overloaded':
        // nothing was sent to the bank: a fast answer the platform can retry soon
        return new DomainError('upstream_unavailable', 'Too many requests to the bank right now; try again shortly', { retryAfterSeconds: 1 });
    }
  }
  if (error instanceof Error && error.name === 'CircuitOpenError') {
    return new DomainError('upstream_unavailable', 'The bank is unavailable; requests are paused for a few seconds', { retryAfterSeconds: 5 });
  }
  throw error;
}
