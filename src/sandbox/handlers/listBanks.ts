/** `listBanks` — GET /banks (public key): the test bank. */
import type { HandlerFactory } from './context.js';

export const listBanks: HandlerFactory<'listBanks'> =
  ({ state }) =>
  async () =>
    state.listBanks();
