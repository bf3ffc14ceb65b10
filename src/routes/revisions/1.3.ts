/**
 * Kasisto 1.3 Beta 10: 1.2's operations plus `/offers`, `/customer_action` and
 * `/interaction` (501: Verify offers nothing to fulfil them), `token_response` with `meta`
 * from `/token` and `/validate_otp`, accounts in the bank's default currency with `fcy_*`
 * and `account_status` (no `currency_code`, no `account_id` filter), a `transaction_ids`
 * filter, `payee.category`, and a `/customer` request without `user_id`.
 *
 * `refresh_token`: the connector already rotates its tokens (a fresh `token` response header
 * on a 200 once a token is old enough, the predecessor valid for a grace period), so it
 * issues no separate refresh token; Kasisto needs at least one of the two (overview L142).
 */
import type { DomainContext } from '../../domain/context.js';
import { ownAccounts } from '../../domain/accounts.js';
import { customerOf, merchantsOf, payeesOf } from '../../domain/directory-queries.js';
import { notImplemented } from '../../domain/errors.js';
import { searchTransactions as statementOf } from '../../domain/ledger.js';
import { createToken as signIn } from '../../domain/sessions.js';
import { validateOtp as submitOtp } from '../../domain/validate-otp.js';
import { callerOf } from '../caller.js';
import { moveMoney } from '../movement.js';
import type { HandlersOf, OperationsOf } from '../types.js';
import { account13, categoryWithMeta, credentialsFromMeta, datedPayment, datedTransfer, dayOf, laterSearch, laterTransaction, merchantWithMeta, payee13 } from './common.js';

export function handlers13(ctx: DomainContext): HandlersOf<OperationsOf<'1.3'>> {
  const unavailable = async (): Promise<never> => {
    throw notImplemented();
  };
  return {
    // the token alone identifies the customer (1.3's request has no user_id); same answer as 1.0
    getCustomer: async (request) => {
      const userId = callerOf(request).grant.user_id;
      return { ...(await customerOf(ctx, userId)), user_id: userId }; // required in 1.3
    },

    createToken: async (request) => {
      const { username, password } = credentialsFromMeta(request.body?.meta);
      const { userId, token } = await signIn(ctx, username, password);
      return { user_id: userId, token, meta: [] };
    },
    validateOtp: async (request) => {
      const { userId, token } = await submitOtp(ctx, callerOf(request), request.body?.otp);
      return { user_id: userId, token, meta: [] };
    },
    listAccounts: async (request) => (await ownAccounts(ctx, callerOf(request))).map((a) => account13(ctx, a)),
    searchTransactions: laterSearch(ctx),
    createTransfer: datedTransfer(ctx),
    createPayment: datedPayment(ctx),
    listPayees: async (request) => (await payeesOf(ctx, callerOf(request).grant.user_id)).map(payee13),
    listMerchants: async (request) => (await merchantsOf(ctx, callerOf(request).grant.user_id)).map(merchantWithMeta),
    listCategories: async () => ctx.directory.categories.map(categoryWithMeta),
    searchBankLocations: unavailable,
    listOffers: unavailable,
    submitCustomerAction: unavailable,
    recordInteraction: unavailable,
  };
}
