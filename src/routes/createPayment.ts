import { requestMovement } from '../domain/movements/request.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /payment: pay a payee of the directory, at most once. */
export const createPayment: HandlerFactory<'createPayment'> = (ctx) => async (request) => {
  const body = request.body;
  const result = await requestMovement(ctx, callerOf(request), {
    kind: 'payment',
    source_account_id: body?.source_account_id,
    destination: body?.payee_id,
    amount: body?.amount,
    currency_code: body?.currency_code,
    date: body?.date,
    idempotencyKey: request.headers['idempotency-key'],
  });
  return { payment_id: result.id, reference_number: result.reference, status: result.status, meta: [] };
};
