/** `loginSession` — POST /sessions/{session_id}/login (public key): connected, failed or pending_verification by login name. */
import type { HandlerFactory } from './context.js';

export const loginSession: HandlerFactory<'loginSession'> =
  ({ state }) =>
  async (request) =>
    state.login(request.params.session_id, request.body);
