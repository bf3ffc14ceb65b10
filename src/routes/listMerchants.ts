import { merchantsOf } from '../domain/directory-queries.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /merchants: the directory's merchants and the counterparties the customer paid. */
export const listMerchants: HandlerFactory<'listMerchants'> = (ctx) => async (request) => {
  const caller = callerOf(request);
  return merchantsOf(ctx, caller.grant.user_id);
};
