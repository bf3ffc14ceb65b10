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

/** Asks the domain for a transfer or a payment; `destination` is dest_account_id or payee_id. */
export function moveMoney(ctx: DomainContext, request: FastifyRequest<{ Body: MovementBody | undefined }>, kind: 'transfer' | 'payment', destination: unknown): Promise<MovementAnswer> {
  const body = request.body;
  return requestMovement(ctx, callerOf(request), {
    kind,
    source_account_id: body?.source_account_id,
    destination,
    amount: body?.amount,
    currency_code: body?.currency_code,
    date: body?.date,
    idempotencyKey: request.headers['idempotency-key'],
  });
}

/** The answer's meta: the reason of a failed or cancelled movement, in plain words. */
export function answerMeta(result: MovementAnswer): { name: string; value: string }[] {
  return result.reason === undefined ? [] : [{ name: 'reason', value: result.reason }];
}
