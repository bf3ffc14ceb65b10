import { ownAccounts, toKasistoAccount, type OwnAccount } from '../domain/accounts.js';
import { requireSignedIn } from '../domain/sessions.js';
import { callerOf } from './caller.js';
import { render200, sendRendered } from './rendered.js';
import type { HandlerFactory } from './types.js';

/**
 * Rendered answers per cached listing (ownAccounts hands out one frozen array per listing
 * text, see parsedAccounts), by the account_id asked for ('' for all). The answer is made
 * from the listing alone, so it is the same for as long as the listing object lives; a new
 * listing (balances changed) is a new key, and a dropped one takes its answers with it.
 */
const rendered = new WeakMap<readonly OwnAccount[], Map<string, Buffer>>();
/** account_id is the caller's to choose: a few kept per listing at most */
const ANSWERS_PER_LISTING = 8;

/** POST /accounts: the customer's accounts with stable ids and exact balances. */
export const listAccounts: HandlerFactory<'listAccounts'> = (ctx) => async (request, reply) => {
  const caller = callerOf(request);
  requireSignedIn(caller);
  const accounts = await ownAccounts(ctx, caller);
  const wanted = request.body?.account_id;
  if (!Object.isFrozen(accounts)) return answerOf(accounts, wanted);
  let answers = rendered.get(accounts);
  if (answers === undefined) {
    answers = new Map();
    rendered.set(accounts, answers);
  }
  const key = wanted === undefined ? '' : `=${wanted}`;
  let body = answers.get(key);
  if (body === undefined) {
    body = render200(reply, answerOf(accounts, wanted));
    if (answers.size < ANSWERS_PER_LISTING) answers.set(key, body);
  }
  return sendRendered(reply, body);
};

function answerOf(accounts: readonly OwnAccount[], wanted: string | undefined) {
  return accounts.filter((a) => wanted === undefined || a.accountId === wanted).map(toKasistoAccount);
}
