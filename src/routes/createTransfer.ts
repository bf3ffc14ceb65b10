import { moveMoney, transferAnswer } from './movement.js';
import type { HandlerFactory } from './types.js';

/** POST /transfer: move money to another own account or a known payee, at most once. */
export const createTransfer: HandlerFactory<'createTransfer'> = (ctx) => async (request) => {
  return transferAnswer(await moveMoney(ctx, request, 'transfer', request.body?.dest_account_id));
};
