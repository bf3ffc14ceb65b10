/** `getTransfer` — GET /transfers/{transfer_id} (secret key): reconcile a transfer's outcome. */
import type { HandlerFactory } from './context.js';

export const getTransfer: HandlerFactory<'getTransfer'> =
  ({ state }) =>
  async (request) =>
    state.getTransfer(request.params.transfer_id);
