/**
 * The sandbox's service handlers, keyed by operationId (one module per operation, named
 * after it). Typed as `ServiceHandlers`, so an operation of spec/verify.yaml without a
 * handler is a compile-time error, not a runtime 500.
 */
import type { ServiceHandlers } from '../types.js';
import type { HandlerContext } from './context.js';
import { createSession } from './createSession.js';
import { createTransfer } from './createTransfer.js';
import { getSession } from './getSession.js';
import { getSessionTransfer } from './getSessionTransfer.js';
import { getTransfer } from './getTransfer.js';
import { listBankAccounts } from './listBankAccounts.js';
import { listBanks } from './listBanks.js';
import { listSessionTransfers } from './listSessionTransfers.js';
import { loginSession } from './loginSession.js';
import { submitSessionVerification } from './submitSessionVerification.js';
import { submitTransferVerification } from './submitTransferVerification.js';

export type { HandlerContext } from './context.js';

export function createServiceHandlers(ctx: HandlerContext): ServiceHandlers {
  return {
    listBanks: listBanks(ctx),
    createSession: createSession(ctx),
    getSession: getSession(ctx),
    loginSession: loginSession(ctx),
    listBankAccounts: listBankAccounts(ctx),
    createTransfer: createTransfer(ctx),
    listSessionTransfers: listSessionTransfers(ctx),
    getSessionTransfer: getSessionTransfer(ctx),
    getTransfer: getTransfer(ctx),
    submitSessionVerification: submitSessionVerification(ctx),
    submitTransferVerification: submitTransferVerification(ctx),
  };
}
