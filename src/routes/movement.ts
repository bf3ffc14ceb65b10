import type { FastifyRequest } from 'fastify';
import type { DomainContext } from '../domain/context.js';
import { requestMovement, type MovementAnswer } from '../domain/movements/request.js';
import { callerOf } from './caller.js';

/** The fields /transfer and /payment share, read from either body. */
interface MovementBody {
  source_account_id?: unknown;
  amount?: unknown;
  currency_code?: unknown;
  date?: unknown;
}

/**
 * Asks the domain for a transfer or a payment; `destination` is dest_account_id or payee_id.
 * `date` is the requested day, YYYY-MM-DD (a revision whose `date` is a date-time passes its day).
 */
export function moveMoney(ctx: DomainContext, request: FastifyRequest<{ Body: MovementBody | undefined }>, kind: 'transfer' | 'payment', destination: unknown, date: unknown = request.body?.date): Promise<MovementAnswer> {
  const body = request.body;
  return requestMovement(ctx, callerOf(request), {
    kind,
    source_account_id: body?.source_account_id,
    destination,
    amount: body?.amount,
    currency_code: body?.currency_code,
    date,
    idempotencyKey: request.headers['idempotency-key'],
  });
}

/** /transfer's answer, the same shape in every revision. */
export function transferAnswer(result: MovementAnswer) {
  return { transfer_id: result.id, reference_number: result.reference, status: result.status, meta: answerMeta(result) };
}

/** /payment's answer, the same shape in every revision. */
export function paymentAnswer(result: MovementAnswer) {
  return { payment_id: result.id, reference_number: result.reference, status: result.status, meta: answerMeta(result) };
}

/** The answer's meta: the reason of a failed or cancelled movement, in plain words. */
export function answerMeta(result: MovementAnswer): { name: string; value: string }[] {
  return result.reason === undefined ? [] : [{ name: 'reason', value: result.reason }];
}
