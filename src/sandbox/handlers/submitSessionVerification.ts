/** `submitSessionVerification` — PUT /sessions/{session_id}/verifications/{verification_id} (public key): idempotent answer to a login verification. */
import type { HandlerFactory } from './context.js';

export const submitSessionVerification: HandlerFactory<'submitSessionVerification'> =
  ({ state }) =>
  async (request) =>
    state.submitSessionVerification(request.params.session_id, request.params.verification_id, request.body);
