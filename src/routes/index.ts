/**
 * One handler module per operationId of spec/kasisto/1.0.yaml. The mapped type makes a
 * missing or mistyped handler a compile error, not a runtime 501.
 */
import type { DomainContext } from '../domain/context.js';
import { createPayment } from './createPayment.js';
import { createToken } from './createToken.js';
import { createTransfer } from './createTransfer.js';
import { getCustomer } from './getCustomer.js';
import { listAccounts } from './listAccounts.js';
import { listCategories } from './listCategories.js';
import { listMerchants } from './listMerchants.js';
import { listPayees } from './listPayees.js';
import { searchTransactions } from './searchTransactions.js';
import type { Handler, OperationId } from './types.js';
import { validateOtp } from './validateOtp.js';

export type ServiceHandlers = { [Op in OperationId]: Handler<Op> };

export function serviceHandlers(ctx: DomainContext): ServiceHandlers {
  return {
    createToken: createToken(ctx),
    validateOtp: validateOtp(ctx),
    getCustomer: getCustomer(ctx),
    listAccounts: listAccounts(ctx),
    searchTransactions: searchTransactions(ctx),
    listMerchants: listMerchants(ctx),
    listCategories: listCategories(ctx),
    createTransfer: createTransfer(ctx),
    createPayment: createPayment(ctx),
    listPayees: listPayees(ctx),
  };
}
