/** `listSessionTransfers` — GET /sessions/{session_id}/transfers (secret or public key). */
import type { HandlerFactory } from './context.js';

export const listSessionTransfers: HandlerFactory<'listSessionTransfers'> =
  ({ state }) =>
  async (request) =>
    state.listSessionTransfers(request.params.session_id);
