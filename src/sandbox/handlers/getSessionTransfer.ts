/** `getSessionTransfer` — GET /sessions/{session_id}/transfers/{transfer_id} (secret or public key). */
import type { HandlerFactory } from './context.js';

export const getSessionTransfer: HandlerFactory<'getSessionTransfer'> =
  ({ state }) =>
  async (request) =>
    state.getSessionTransfer(request.params.session_id, request.params.transfer_id);
