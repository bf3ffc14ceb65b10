/** `getSession` — GET /sessions/{session_id} (secret key): the session and its current status. */
import type { HandlerFactory } from './context.js';

export const getSession: HandlerFactory<'getSession'> =
  ({ state }) =>
  async (request) =>
    state.getSession(request.params.session_id);
