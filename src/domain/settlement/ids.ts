/**
 * Ids of obligations and batches travel into payout files unchanged (EndToEndId = obligation
 * id, MsgId = batch id) and come back in the bank's return and status files. So they use only
 * the restricted character set of those files: `ob-`/`bt-` and lower-case hex, 23 characters
 * (max 35). crypto.ts's newId uses `_`, which that character set does not allow.
 */
import { randomBytes } from 'node:crypto';

export function newObligationId(): string {
  return `ob-${randomBytes(10).toString('hex')}`;
}

export function newBatchId(): string {
  return `bt-${randomBytes(10).toString('hex')}`;
}
