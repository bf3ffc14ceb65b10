/** `submitTransferVerification` — PUT /transfers/{transfer_id}/verifications/{verification_id} (public key): idempotent answer to a transfer verification. */
import type { HandlerFactory } from './context.js';

export const submitTransferVerification: HandlerFactory<'submitTransferVerification'> =
  ({ state }) =>
  async (request) =>
    state.submitTransferVerification(request.params.transfer_id, request.params.verification_id, request.body);
