/**
 * Kasisto 1.2: 1.0-final's operations with `/token` credentials in `meta`, `user_id` in
 * transfer and payment requests (checked against the token with every other user_id, in
 * src/http/auth.ts), date-time `start_date`/`end_date` and payment `date`, and no
 * `unspecified` account type. Required `Date`/`request_id` headers: src/http/app.ts.
 */
import type { DomainContext } from '../../domain/context.js';
import { ownAccounts } from '../../domain/accounts.js';
import { merchantsOf, payeesOf } from '../../domain/directory-queries.js';
import { notImplemented } from '../../domain/errors.js';
import { searchTransactions as statementOf } from '../../domain/ledger.js';
import { createToken as signIn } from '../../domain/sessions.js';
import { callerOf } from '../caller.js';
import { getCustomer } from '../getCustomer.js';
import { moveMoney } from '../movement.js';
import type { HandlersOf, OperationsOf } from '../types.js';
import { validateOtp } from '../validateOtp.js';
import { accountWithTransferFlags, categoryWithMeta, credentialsFromMeta, datedPayment, datedTransfer, dayOf, laterSearch, laterTransaction, merchantWithMeta, payeeWithMeta } from './common.js';

export function handlers12(ctx: DomainContext): HandlersOf<OperationsOf<'1.2'>> {
  return {
    // same requests and answers as 1.0
    validateOtp: validateOtp(ctx),
    getCustomer: getCustomer(ctx),

    createToken: async (request) => {
      const { username, password } = credentialsFromMeta(request.body?.meta);
      const { userId, token } = await signIn(ctx, username, password);
      return { user_id: userId, token };
    },
    listAccounts: async (request) => {
      const wanted = request.body?.account_id;
      return (await ownAccounts(ctx, callerOf(request))).filter((a) => wanted === undefined || a.accountId === wanted).map(accountWithTransferFlags);
    },
    searchTransactions: laterSearch(ctx),
    createTransfer: datedTransfer(ctx),
    createPayment: datedPayment(ctx),
    listPayees: async (request) => (await payeesOf(ctx, callerOf(request).grant.user_id)).map(payeeWithMeta),
    listMerchants: async (request) => (await merchantsOf(ctx, callerOf(request).grant.user_id)).map(merchantWithMeta),
    listCategories: async () => ctx.directory.categories.map(categoryWithMeta),
    searchBankLocations: async () => {
      throw notImplemented();
    },
  };
}
