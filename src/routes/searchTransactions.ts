import { searchTransactions as statementOf } from '../domain/ledger.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /transactions: the connector's ledger of the customer's movements, newest first. */
export const searchTransactions: HandlerFactory<'searchTransactions'> = (ctx) => async (request) =>
  statementOf(ctx, callerOf(request).grant.user_id, request.body ?? {});
