import { moveMoney, paymentAnswer } from './movement.js';
import type { HandlerFactory } from './types.js';

/** POST /payment: pay a payee of the directory, at most once. */
export const createPayment: HandlerFactory<'createPayment'> = (ctx) => async (request) => {
  return paymentAnswer(await moveMoney(ctx, request, 'payment', request.body?.payee_id));
};
