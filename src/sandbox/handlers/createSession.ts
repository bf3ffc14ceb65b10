/** `createSession` — POST /sessions (secret key): a new `initial` session for the amount and currency. */
import type { HandlerFactory } from './context.js';

export const createSession: HandlerFactory<'createSession'> =
  ({ state }) =>
  async (request) =>
    state.createSession(request.body);
