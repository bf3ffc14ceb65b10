import { searchTransactions as search } from '../domain/ledger.js';
import { requireSignedIn } from '../domain/sessions.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /transactions: the connector's ledger, newest first. */
export const searchTransactions: HandlerFactory<'searchTransactions'> = (ctx) => async (request) => {
  const caller = callerOf(request);
  requireSignedIn(caller);
  return search(ctx, caller.grant.user_id, request.body ?? {});
};
