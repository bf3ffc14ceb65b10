import { answerMeta, moveMoney } from './movement.js';
import type { HandlerFactory } from './types.js';

/** POST /transfer: move money to another own account or a known payee, at most once. */
export const createTransfer: HandlerFactory<'createTransfer'> = (ctx) => async (request) => {
  const result = await moveMoney(ctx, request, 'transfer', request.body?.dest_account_id);
  return { transfer_id: result.id, reference_number: result.reference, status: result.status, meta: answerMeta(result) };
};
