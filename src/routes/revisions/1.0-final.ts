/**
 * Kasisto 1.0-final (also 1.1): 1.0's operations plus `/bank_locations`, with the answers
 * reshaped (accounts with transfer flags, transactions with `categories[]` and date-time
 * dates, `meta` on payees, merchants and categories). Requests read as in 1.0 except
 * `/transfer`'s `date`, a date-time here.
 */
import type { DomainContext } from '../../domain/context.js';
import { ownAccounts } from '../../domain/accounts.js';
import { merchantsOf, payeesOf } from '../../domain/directory-queries.js';
import { searchTransactions as statementOf } from '../../domain/ledger.js';
import { notImplemented } from '../../domain/errors.js';
import { callerOf } from '../caller.js';
import { createPayment } from '../createPayment.js';
import { createToken } from '../createToken.js';
import { getCustomer } from '../getCustomer.js';
import { moveMoney } from '../movement.js';
import type { HandlersOf, OperationsOf } from '../types.js';
import { validateOtp } from '../validateOtp.js';
import { accountWithTransferFlags, categoryWithMeta, datedPayment, datedTransfer, dayOf, laterTransaction, merchantWithMeta, payeeWithMeta } from './common.js';

export function handlers10Final(ctx: DomainContext): HandlersOf<OperationsOf<'1.0-final'>> {
  return {
    // same requests and answers as 1.0
    createToken: createToken(ctx),
    validateOtp: validateOtp(ctx),
    getCustomer: getCustomer(ctx),
    createPayment: createPayment(ctx),

    listAccounts: async (request) => {
      const wanted = request.body?.account_id;
      return (await ownAccounts(ctx, callerOf(request)))
        .filter((a) => wanted === undefined || a.accountId === wanted)
        .map((a) => {
          const view = accountWithTransferFlags(a);
          return { ...view, account_type: view.account_type ?? 'unspecified' };
        });
    },
    searchTransactions: async (request) => {
      const { account_ids, limit, start_date, end_date } = request.body ?? {};
      const entries = await statementOf(ctx, callerOf(request).grant.user_id, { account_ids, limit, start_date, end_date });
      return entries.map(laterTransaction);
    },
    createTransfer: datedTransfer(ctx),
    listPayees: async (request) => (await payeesOf(ctx, callerOf(request).grant.user_id)).map(payeeWithMeta),
    listMerchants: async (request) => (await merchantsOf(ctx, callerOf(request).grant.user_id)).map(merchantWithMeta),
    listCategories: async () => ctx.directory.categories.map(categoryWithMeta),
    searchBankLocations: async () => {
      throw notImplemented();
    },
  };
}
