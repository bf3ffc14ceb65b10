/** `listBankAccounts` — GET /sessions/{session_id}/bank_accounts (public key): the login's three accounts with this session's `ba_` ids. */
import type { HandlerFactory } from './context.js';

export const listBankAccounts: HandlerFactory<'listBankAccounts'> =
  ({ state }) =>
  async (request) =>
    state.listBankAccounts(request.params.session_id);
