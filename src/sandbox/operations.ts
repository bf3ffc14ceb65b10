/**
 * The operationIds of spec/verify.yaml at run time. Typed as a record over the generated
 * `operations` keys, so adding an operation to the spec without listing it here (or
 * listing one the spec no longer has) fails `tsc`.
 */
import type { OperationId } from './types.js';

const ALL: Record<OperationId, true> = {
  listBanks: true,
  createSession: true,
  getSession: true,
  loginSession: true,
  listBankAccounts: true,
  createTransfer: true,
  listSessionTransfers: true,
  getSessionTransfer: true,
  getTransfer: true,
  submitSessionVerification: true,
  submitTransferVerification: true,
};

export const OPERATION_IDS = Object.freeze(Object.keys(ALL) as OperationId[]);

export function isOperationId(value: unknown): value is OperationId {
  return typeof value === 'string' && Object.hasOwn(ALL, value);
}
