import { ownAccounts, toKasistoAccount } from '../domain/accounts.js';
import { requireSignedIn } from '../domain/sessions.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /accounts: the customer's accounts with stable ids and exact balances. */
export const listAccounts: HandlerFactory<'listAccounts'> = (ctx) => async (request) => {
  const caller = callerOf(request);
  requireSignedIn(caller);
  const accounts = await ownAccounts(ctx, caller);
  const wanted = request.body?.account_id;
  return accounts.filter((a) => wanted === undefined || a.accountId === wanted).map(toKasistoAccount);
};
