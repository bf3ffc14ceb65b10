import { customerOf } from '../domain/directory-queries.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /customer: the stable user_id and any profile names the operator loaded. */
export const getCustomer: HandlerFactory<'getCustomer'> = (ctx) => async (request) => {
  const caller = callerOf(request);
  return customerOf(ctx, caller.grant.user_id);
};
