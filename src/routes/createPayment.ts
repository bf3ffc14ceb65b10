import { answerMeta, moveMoney } from './movement.js';
import type { HandlerFactory } from './types.js';

/** POST /payment: pay a payee of the directory, at most once. */
export const createPayment: HandlerFactory<'createPayment'> = (ctx) => async (request) => {
  const result = await moveMoney(ctx, request, 'payment', request.body?.payee_id);
  return { payment_id: result.id, reference_number: result.reference, status: result.status, meta: answerMeta(result) };
};
