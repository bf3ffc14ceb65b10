import { ownAccounts, toKasistoAccount } from '../domain/accounts.js';
import { callerOf } from './caller.js';
import type { HandlerFactory } from './types.js';

/** POST /accounts: the customer's accounts with stable ids and exact balances. */
export const listAccounts: HandlerFactory<'listAccounts'> = (ctx) => async (request) => {
  const accounts = await ownAccounts(ctx, callerOf(request));
  const wanted = request.body?.account_id;
  return accounts.filter((a) => wanted === undefined || a.accountId === wanted).map(toKasistoAccount);
};
