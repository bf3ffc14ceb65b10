import { searchTransactions as statementOf } from '../domain/ledger.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /transactions: the connector's ledger of the customer's movements, newest first. */
export const searchTransactions: HandlerFactory<'searchTransactions'> = (ctx) => async (request) => {
  // 1.0's criteria only: a later revision's filter (1.3 transaction_ids) sent here is an unknown field, ignored
  const { account_ids, limit, start_date, end_date } = request.body ?? {};
  return statementOf(ctx, callerOf(request).grant.user_id, { account_ids, limit, start_date, end_date });
};
