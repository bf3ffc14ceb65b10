/** `createTransfer` — POST /sessions/{session_id}/transfers (public key): the session's one transfer. */
import type { HandlerFactory } from './context.js';

export const createTransfer: HandlerFactory<'createTransfer'> =
  ({ state }) =>
  async (request) =>
    state.createTransfer(request.params.session_id, request.body.source);
