import { requestMovement } from '../domain/movements/request.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /transfer: move money to another own account or a known payee, at most once. */
export const createTransfer: HandlerFactory<'createTransfer'> = (ctx) => async (request) => {
  const body = request.body;
  const result = await requestMovement(ctx, callerOf(request), {
    kind: 'transfer',
    source_account_id: body?.source_account_id,
    destination: body?.dest_account_id,
    amount: body?.amount,
    currency_code: body?.currency_code,
    date: body?.date,
    idempotencyKey: request.headers['idempotency-key'],
  });
  return { transfer_id: result.id, reference_number: result.reference, status: result.status, meta: [] };
};
