/** How a failure to reach or understand Verify reads on the Kasisto side. */
import { VerifyError } from '../adapters/verify/errors.js';
import { ApiError } from '../errors.js';

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof VerifyError) {
    switch (error.kind) {
      case 'timeout':
        return new ApiError(504, 'upstream_timeout', 'The bank did not answer in time; retry the same request (a movement is never made twice)', undefined);
      case 'unreachable':
        return new ApiError(503, 'upstream_unavailable', 'The bank cannot be reached right now; try again shortly', undefined, 5);
      case 'server':
        return new ApiError(502, 'upstream_error', 'The bank answered with an error; try again shortly');
      case 'contract':
        return new ApiError(502, 'upstream_error', 'The bank answered in an unexpected format');
      case 'rejected':
        return new ApiError(502, 'upstream_error', 'The bank refused the request');
      case 'overloaded':
        // nothing was sent to the bank: a fast answer the platform can retry soon
        return new ApiError(503, 'upstream_unavailable', 'Too many requests to the bank right now; try again shortly', undefined, 1);
    }
  }
  if (error instanceof Error && error.name === 'CircuitOpenError') {
    return new ApiError(503, 'upstream_unavailable', 'The bank is unavailable; requests are paused for a few seconds', undefined, 5);
  }
  throw error;
}
