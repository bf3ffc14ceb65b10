import { payeesOf, toKasistoPayee } from '../domain/directory-queries.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /payees: billers for everyone plus the customer's own payees. */
export const listPayees: HandlerFactory<'listPayees'> = (ctx) => async (request) => {
  const caller = callerOf(request);
  return (await payeesOf(ctx, caller.grant.user_id)).map(toKasistoPayee);
};
