/**
 * Driving a movement through Verify, one step after another, write-ahead: each step is
 * recorded before the next Verify call, under a lease, so one holder (request or
 * reconciliation, on any instance) works on a movement at a time. States: status.ts.
 */
import type { Movement, MovementPatch } from '../../adapters/store/store.js';
import { isKnownSessionStatus, isKnownTransferStatus, type VerifyTransfer } from '../../adapters/verify/client.js';
import { currentVerifyDeadline } from '../../adapters/verify/deadline.js';
import type { DomainContext } from '../context.js';
import { newId } from '../crypto.js';
import { DomainError, inProgress } from '../errors.js';
import { pendingFrom } from '../otp.js';
import { credentialsOf } from '../sessions.js';
import { toDomainError } from '../verify-errors.js';
import { isDrivable } from './status.js';

export function leaseMs(ctx: DomainContext): number {
  // long enough for the Verify calls of one step (createTransfer plus its lookup: 3 × the
  // time limit), short enough that a crashed instance's movement is picked up again soon;
  // renewed before every step
  return ctx.config.verifyTimeoutMs * 4 + 2000;
}

/**
 * A lease holder: one per drive, not per instance, so two requests (or a request and a
 * reconciliation) of the SAME instance exclude each other too.
 */
export function newLeaseOwner(ctx: DomainContext): string {
  return `${ctx.instanceId}/${newId('drv')}`;
}

/** Movements created since then may still be resumed by the platform's retry (recordMovement matches them). */
export function openSince(ctx: DomainContext): number {
  return ctx.now() - (ctx.config.retryWindowSeconds + ctx.config.otpWindowSeconds) * 1000;
}

/** Extends the lease before a step; a holder that outlived its lease (someone took over) stops. */
async function renewLease(ctx: DomainContext, m: Movement, owner: string): Promise<void> {
  const now = ctx.now();
  if (!(await ctx.store.claimMovement(m.id, owner, now, now + leaseMs(ctx)))) throw inProgress();
}

/** Drives a movement as far as it can go now, holding its lease; waits for another holder. */
export async function driveWithLease(ctx: DomainContext, movement: Movement, owner: string = newLeaseOwner(ctx)): Promise<Movement> {
  if (!isDrivable(movement.status)) return movement;
  // wait for another holder at most until its lease ends, or this request's Verify budget does
  const budgetLeft = currentVerifyDeadline();
  const deadline = ctx.now() + Math.min(leaseMs(ctx) + 1000, budgetLeft === undefined ? Infinity : Math.max(0, budgetLeft - performance.now()));
  for (;;) {
    const now = ctx.now();
    if (await ctx.store.claimMovement(movement.id, owner, now, now + leaseMs(ctx))) break;
    // Another request or instance drives it: wait for its outcome rather than race it.
    if (ctx.now() > deadline) throw inProgress();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await ctx.store.getMovement(movement.id);
    if (!current) throw new Error('movement vanished');
    if (!isDrivable(current.status)) return current;
  }
  try {
    const fresh = (await ctx.store.getMovement(movement.id)) ?? movement;
    return await advance(ctx, fresh, owner, true);
  } catch (error) {
    throw toDomainError(error);
  } finally {
    await ctx.store.releaseMovement(movement.id, owner).catch(() => {});
  }
}

export async function update(ctx: DomainContext, m: Movement, patch: MovementPatch): Promise<Movement> {
  return ctx.store.updateMovement(m.id, patch, ctx.now());
}

export async function finish(ctx: DomainContext, m: Movement, status: 'processed' | 'failed' | 'cancelled', patch: MovementPatch = {}): Promise<Movement> {
  const done = await update(ctx, m, { ...patch, status, pending_json: null, completed_at: ctx.now() });
  if (status === 'processed') await ctx.store.invalidateAccounts(m.user_id);
  ctx.log.info({ movement: m.id, status, ...(patch.failure_reason ? { reason: patch.failure_reason } : {}) }, 'movement finished');
  return done;
}

async function credentialsFor(ctx: DomainContext, m: Movement) {
  const grant = await ctx.store.getGrant(m.grant_id);
  if (!grant || grant.status === 'ended' || !grant.sealed_credentials) return undefined;
  return credentialsOf(ctx, grant);
}

/**
 * One step after another until the movement waits for the customer or is finished.
 *
 * Invariant: once a movement is `transfer_requested`, a createTransfer may have reached
 * Verify under its `verify_session_id`, so it never gets another session; Verify carries
 * one transfer per session, so re-sending under the same session cannot move money twice.
 * Before that, no transfer can exist, so starting over with a fresh session is safe.
 */
export async function advance(ctx: DomainContext, start: Movement, owner: string, resumed = false): Promise<Movement> {
  let m = start;
  // Resumed after an error or a crash at the login step: the login may have reached Verify
  // (a lost reply), and Verify refuses a second login on a session, so start over.
  if (resumed && m.status === 'session_created') m = { ...m, status: 'interrupted' };
  for (;;) {
    await renewLease(ctx, m, owner);
    switch (m.status) {
      case 'recorded':
      case 'interrupted': {
        const session = await ctx.verify.createSession({ currency: m.currency, amount: m.amount_minor, description: m.description });
        m = await update(ctx, m, { status: 'session_created', verify_session_id: session.id, verify_transfer_id: null, verify_reference_id: null });
        break;
      }
      case 'session_created': {
        const credentials = await credentialsFor(ctx, m);
        if (!credentials) return finish(ctx, m, 'cancelled', { failure_reason: 'sign-in ended before the movement was sent' });
        const session = await ctx.verify.login(m.verify_session_id!, { credentials });
        const status = session.status;
        // a status the spec does not list: no verdict (the movement stays resumable)
        if (!isKnownSessionStatus(status)) throw unreadable('the sign-in');
        switch (status) {
          case 'connected':
            m = await update(ctx, m, { status: 'logged_in' });
            break;
          case 'pending_verification':
            if (session.verification) {
              const pending = pendingFrom(session.verification, { type: 'session', sessionId: session.id });
              return update(ctx, m, { status: 'awaiting_login_otp', pending_json: JSON.stringify(pending), otp_attempts: 0, otp_started_at: ctx.now() });
            }
            return finish(ctx, m, 'failed', { failure_reason: 'the bank refused the sign-in' });
          case 'initial':
          case 'failed':
          case 'completed':
            // no transfer exists yet under this session: nothing can have moved
            return finish(ctx, m, 'failed', { failure_reason: 'the bank refused the sign-in' });
          default:
            throw new Error(`unhandled session status ${status satisfies never}`);
        }
        break;
      }
      case 'logged_in': {
        const source = await sourceAccount(ctx, m);
        if (!source) return finish(ctx, m, 'failed', { failure_reason: 'source account not found at the bank' });
        // write-ahead: from here on, Verify may have a transfer we must find, never re-create blindly
        m = await update(ctx, m, { status: 'transfer_requested' });
        return sendTransfer(ctx, m, source.id);
      }
      case 'transfer_requested': {
        const transfer = m.verify_transfer_id
          ? await ctx.verify.getTransfer(m.verify_transfer_id)
          : await findSessionTransfer(ctx, m.verify_session_id!);
        if (transfer) return applyTransfer(ctx, m, transfer);
        // Verify has no transfer under this session: send it again under the same session
        // (stays transfer_requested; were the first request to land late, Verify refuses one of the two)
        const source = await sourceAccount(ctx, m);
        if (!source) return finish(ctx, m, 'failed', { failure_reason: 'source account not found at the bank' });
        return sendTransfer(ctx, m, source.id);
      }
      default:
        return m;
    }
  }
}

async function sourceAccount(ctx: DomainContext, m: Movement) {
  const accounts = await ctx.verify.listBankAccounts(m.verify_session_id!);
  return accounts.find((a) => a.iban === m.source_iban);
}

/** createTransfer once; on any failure, look for it before giving up (the reply may be lost after Verify made it). */
async function sendTransfer(ctx: DomainContext, m: Movement, sourceId: string): Promise<Movement> {
  const sessionId = m.verify_session_id!;
  let transfer: VerifyTransfer;
  try {
    transfer = await ctx.verify.createTransfer(sessionId, { source: sourceId });
  } catch (error) {
    const existing = await findSessionTransfer(ctx, sessionId).catch(() => undefined);
    if (!existing) throw error; // stays transfer_requested: a retry or reconciliation resolves it
    transfer = existing;
  }
  return applyTransfer(ctx, m, transfer);
}

export async function findSessionTransfer(ctx: DomainContext, sessionId: string): Promise<VerifyTransfer | undefined> {
  const transfers = await ctx.verify.listSessionTransfers(sessionId);
  return transfers[0];
}

export async function applyTransfer(ctx: DomainContext, m: Movement, transfer: VerifyTransfer): Promise<Movement> {
  const ids = { verify_transfer_id: transfer.id, verify_reference_id: transfer.reference_id ?? null, verify_status: transfer.status as string };
  const status = transfer.status;
  if (!isKnownTransferStatus(status)) {
    // A status Verify added since spec/verify.yaml: the outcome is unknown, never success or
    // failure; the movement stays pending and reconciliation asks again.
    ctx.log.warn({ movement: m.id, verify_transfer: transfer.id }, 'Verify answered a transfer status this connector does not know; outcome unknown');
    return update(ctx, m, { ...ids, status: 'transfer_requested' });
  }
  switch (status) {
    case 'succeeded':
      return finish(ctx, m, 'processed', ids);
    case 'failed':
      return finish(ctx, m, 'failed', { ...ids, failure_reason: 'the bank declined the transfer' });
    case 'pending_verification':
      if (transfer.verification) {
        const pending = pendingFrom(transfer.verification, { type: 'transfer', transferId: transfer.id });
        return update(ctx, m, { ...ids, status: 'awaiting_transfer_otp', pending_json: JSON.stringify(pending), otp_attempts: 0, otp_started_at: ctx.now() });
      }
      return update(ctx, m, { ...ids, status: 'transfer_requested' });
    case 'initial':
      return update(ctx, m, { ...ids, status: 'transfer_requested' });
    default:
      // tsc names this line when spec/verify.yaml gains a transfer status
      throw new Error(`unhandled transfer status ${status satisfies never}`);
  }
}

/** Verify answered with a status spec/verify.yaml does not list: no verdict can be drawn from it. */
export function unreadable(what: string): DomainError {
  return new DomainError('upstream_error', `The bank answered ${what} in an unexpected way; retry the same request shortly`);
}
