/**
 * One handler module per operationId of spec/kasisto/1.0.yaml, and per later revision the
 * handlers of src/routes/revisions/<revision>.ts (reusing 1.0's where request and answer are
 * the same). The mapped types make a missing or mistyped handler a compile error, not a
 * runtime 501.
 */
import type { KasistoRevision } from '../config.js';
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
import { handlers10Final } from './revisions/1.0-final.js';
import { handlers12 } from './revisions/1.2.js';
import { handlers13 } from './revisions/1.3.js';
import type { Handler, HandlersOf, OperationId, OperationsOf } from './types.js';
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

/** Every revision's handlers, each checked against its own generated operations. */
const REVISION_HANDLERS: { [R in KasistoRevision]: (ctx: DomainContext) => HandlersOf<OperationsOf<R>> } = {
  '1.0': serviceHandlers,
  '1.0-final': handlers10Final,
  '1.2': handlers12,
  '1.3': handlers13,
};

/** The handlers of the revision a deployment serves (KASISTO_API_REVISION). */
export function serviceHandlersFor(revision: KasistoRevision, ctx: DomainContext): HandlersOf<OperationsOf<KasistoRevision>> {
  return REVISION_HANDLERS[revision](ctx);
}
