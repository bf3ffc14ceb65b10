/**
 * Transfers and payments. Each movement is recorded before Verify hears of it and updated
 * after every step (write-ahead), driven by one instance at a time (a lease), and
 * recognised when the platform retries it, so money never moves twice.
 *
 *   recorded → session_created → logged_in → transfer_requested → processed | failed
 *                     ↘ awaiting_login_otp        ↘ awaiting_transfer_otp
 *   interrupted: a crash stopped it before Verify made a transfer; a retry resumes it.
 *   cancelled: the customer failed or abandoned the one-time password.
 */
import type { Movement, MovementStatus } from '../adapters/store/store.js';
import { IdempotencyConflict, TERMINAL_STATUSES } from '../adapters/store/store.js';
import type { VerifyTransfer } from '../adapters/verify/client.js';
import type { MovementPatch } from '../adapters/store/schema.js';
import { ApiError, invalidField, otpRequired } from '../http/errors.js';
import { ownAccounts, accountName, type OwnAccount } from './accounts.js';
import type { DomainContext } from './context.js';
import { fingerprint, newId } from './crypto.js';
import { isCurrencyCode, toMinorUnits } from './money.js';
import { answerFor, otpDetailsOf, parsePending, pendingFrom, type PendingVerification } from './otp.js';
import { credentialsOf, requireSignedIn, type Caller } from './sessions.js';
import { toApiError } from './verify-errors.js';
import { currentVerifyDeadline } from '../adapters/verify/deadline.js';
import { findPayee } from './directory-queries.js';

export type KasistoMovementStatus = 'processed' | 'pending' | 'cancelled' | 'failed';

export interface MovementRequest {
  kind: 'transfer' | 'payment';
  source_account_id: unknown;
  /** dest_account_id for /transfer, payee_id for /payment */
  destination: unknown;
  amount: unknown;
  currency_code: unknown;
  date: unknown;
  idempotencyKey: unknown;
}

export interface MovementAnswer {
  id: string;
  reference: string;
  status: KasistoMovementStatus;
}

const IN_FLIGHT: readonly MovementStatus[] = ['recorded', 'session_created', 'logged_in', 'transfer_requested'];

export async function requestMovement(ctx: DomainContext, caller: Caller, request: MovementRequest): Promise<MovementAnswer> {
  requireSignedIn(caller);
  // Inserted already leased to this request, so reconciliation cannot take it between the insert and the first step.
  const owner = newLeaseOwner(ctx);
  const draft = { ...(await validate(ctx, caller, request)), lease_owner: owner, lease_until: ctx.now() + leaseMs(ctx) };
  let recorded: { movement: Movement; created: boolean };
  try {
    const retryWindowStart = ctx.now() - ctx.config.retryWindowSeconds * 1000;
    recorded = await ctx.store.recordMovement(draft, retryWindowStart, openSince(ctx));
  } catch (error) {
    if (error instanceof IdempotencyConflict) throw invalidField('Idempotency-Key', 'was already used for a different request');
    throw error;
  }
  ctx.log.info({ movement: recorded.movement.id, retry: !recorded.created, status: recorded.movement.status }, recorded.created ? 'movement recorded' : 'movement retried');
  let movement = recorded.movement;
  // Retried under a newer sign-in of the same customer (the first token expired or was
  // replaced): the movement goes on under this login, or the 450 it answers could never be
  // validated (/validate_otp looks for the caller's own login's movement).
  if (!recorded.created && movement.grant_id !== caller.grant.id && !isTerminal(movement.status)) {
    movement = await ctx.store.updateMovement(movement.id, { grant_id: caller.grant.id }, ctx.now());
  }
  return answer(await driveWithLease(ctx, movement, owner));
}

/** What the platform is told about a movement in a given state. */
export function answer(movement: Movement): MovementAnswer {
  const pending = parsePending(movement.pending_json);
  if ((movement.status === 'awaiting_login_otp' || movement.status === 'awaiting_transfer_otp') && pending) {
    throw otpRequired(otpDetailsOf(pending));
  }
  const status: KasistoMovementStatus =
    movement.status === 'processed' ? 'processed' : movement.status === 'failed' ? 'failed' : movement.status === 'cancelled' ? 'cancelled' : 'pending';
  return { id: movement.id, reference: movement.verify_reference_id ?? movement.verify_transfer_id ?? movement.id, status };
}

// ---- input ------------------------------------------------------------------------------

async function validate(ctx: DomainContext, caller: Caller, request: MovementRequest) {
  const destField = request.kind === 'transfer' ? 'dest_account_id' : 'payee_id';
  const idempotencyKey = request.idempotencyKey;
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
    throw invalidField('Idempotency-Key', 'must be 1 to 255 characters');
  }
  // stored as text: PostgreSQL refuses NUL, and no HTTP client sends control characters here
  if (typeof idempotencyKey === 'string' && /[\u0000-\u0008\u000a-\u001f\u007f]/.test(idempotencyKey)) {
    throw invalidField('Idempotency-Key', 'must not contain control characters');
  }
  if (typeof request.source_account_id !== 'string' || request.source_account_id.length === 0) throw invalidField('source_account_id', 'is required');
  if (typeof request.destination !== 'string' || request.destination.length === 0) throw invalidField(destField, 'is required');
  if (typeof request.amount !== 'number') throw invalidField('amount', 'is required and must be a number');
  if (request.currency_code !== undefined && (typeof request.currency_code !== 'string' || !isCurrencyCode(request.currency_code))) {
    throw invalidField('currency_code', 'must be an ISO 4217 currency code such as AED');
  }
  const date = checkDate(request.date, ctx.now());

  // Checking the request needs account identities, not balances (the transfer's own Verify
  // session lists accounts again anyway): a stale-balance listing spares Verify a call. Only
  // an account it does not know (opened since) sends us to Verify for a fresh listing.
  let accounts = await ownAccounts(ctx, caller, { identitiesOnly: true });
  const known = (id: unknown) => accounts.some((a) => a.accountId === id);
  if (!known(request.source_account_id) || (request.kind === 'transfer' && !known(request.destination) && !(await findPayee(ctx, caller.grant.user_id, request.destination as string)))) {
    accounts = await ownAccounts(ctx, caller);
  }
  const source = accounts.find((a) => a.accountId === request.source_account_id);
  if (!source) throw invalidField('source_account_id', 'is not one of the customer\'s accounts');
  if (request.currency_code !== undefined && request.currency_code !== source.currency) {
    throw invalidField('currency_code', `must be the source account's currency (${source.currency})`);
  }
  const minor = toMinorUnits(request.amount, source.currency);
  if (!minor.ok) {
    const problem = {
      not_finite: 'must be a finite number',
      not_positive: 'must be greater than 0',
      too_precise: `has more decimals than ${source.currency} allows`,
      too_large: 'is too large',
    }[minor.reason];
    throw invalidField('amount', problem);
  }

  const destination = await resolveDestination(ctx, caller, request, accounts, source, destField);
  const { grant } = caller;
  const now = ctx.now();
  const description = request.kind === 'transfer' ? `Transfer to ${destination.name}` : `Payment to ${destination.name}`;
  return {
    id: newId('mv'),
    user_id: grant.user_id,
    grant_id: grant.id,
    kind: request.kind,
    idempotency_key: (idempotencyKey as string | undefined) ?? null,
    fingerprint: fingerprint(ctx.keys, grant.user_id, request.kind, source.accountId, destination.type, destination.id, String(minor.minor), source.currency, date ?? ''),
    source_account_id: source.accountId,
    source_iban: source.iban,
    dest_type: destination.type,
    dest_id: destination.id,
    dest_name: destination.name,
    dest_iban: destination.iban,
    amount_minor: minor.minor,
    currency: source.currency,
    description: description.slice(0, 140),
    requested_date: date ?? null,
    category: destination.category,
    status: 'recorded' as const,
    verify_session_id: null,
    verify_transfer_id: null,
    verify_reference_id: null,
    pending_json: null,
    otp_attempts: 0,
    otp_started_at: null,
    failure_reason: null,
    lease_owner: null,
    lease_until: null,
    version: 0,
    created_at: now,
    updated_at: now,
    completed_at: null,
  };
}

/** A date must be a real calendar date and today somewhere on Earth (UTC-12 to UTC+14). */
function checkDate(value: unknown, now: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw invalidField('date', 'must be a date written YYYY-MM-DD');
  const parsed = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) throw invalidField('date', 'is not a calendar date');
  const latestToday = new Date(now + 14 * 3600_000).toISOString().slice(0, 10);
  if (value > latestToday) throw invalidField('date', 'must not be in the future: transfers are executed immediately');
  // nor back-dated: the earliest "today" on Earth is UTC-12
  const earliestToday = new Date(now - 12 * 3600_000).toISOString().slice(0, 10);
  if (value < earliestToday) throw invalidField('date', 'must not be in the past: transfers are executed immediately');
  return value;
}

async function resolveDestination(ctx: DomainContext, caller: Caller, request: MovementRequest, accounts: readonly OwnAccount[], source: OwnAccount, field: string) {
  const id = request.destination as string;
  if (request.kind === 'transfer') {
    const own = accounts.find((a) => a.accountId === id);
    if (own) {
      if (own.accountId === source.accountId) throw invalidField(field, 'must differ from source_account_id');
      return { type: 'account' as const, id: own.accountId, name: accountName(own), iban: own.iban, category: 'transfers' };
    }
  }
  const payee = await findPayee(ctx, caller.grant.user_id, id);
  if (!payee) throw invalidField(field, request.kind === 'transfer' ? 'is neither another account of the customer nor a known payee' : 'is not a known payee');
  return { type: 'payee' as const, id: payee.payee_id, name: payee.name, iban: payee.iban ?? null, category: payee.category ?? 'payments' };
}

// ---- driving a movement through Verify ------------------------------------------------

function leaseMs(ctx: DomainContext): number {
  // long enough for the Verify calls of one step (createTransfer plus its lookup: 3 × the
  // time limit), short enough that a crashed instance's movement is picked up again soon;
  // renewed before every step
  return ctx.config.verifyTimeoutMs * 4 + 2000;
}

/**
 * A lease holder: one per drive, not per instance, so two requests (or a request and a
 * reconciliation) of the SAME instance exclude each other too.
 */
function newLeaseOwner(ctx: DomainContext): string {
  return `${ctx.instanceId}/${newId('drv')}`;
}

/** Movements created since then may still be resumed by the platform's retry (recordMovement matches them). */
function openSince(ctx: DomainContext): number {
  return ctx.now() - (ctx.config.retryWindowSeconds + ctx.config.otpWindowSeconds) * 1000;
}

function inProgress(): ApiError {
  return new ApiError(503, 'in_progress', 'This transfer is still being processed; retry shortly', undefined, 1);
}

/** Extends the lease before a step; a holder that outlived its lease (someone took over) stops. */
async function renewLease(ctx: DomainContext, m: Movement, owner: string): Promise<void> {
  const now = ctx.now();
  if (!(await ctx.store.claimMovement(m.id, owner, now, now + leaseMs(ctx)))) throw inProgress();
}

/** Drives a movement as far as it can go now, holding its lease; waits for another holder. */
export async function driveWithLease(ctx: DomainContext, movement: Movement, owner: string = newLeaseOwner(ctx)): Promise<Movement> {
  if (!IN_FLIGHT.includes(movement.status) && movement.status !== 'interrupted') return movement;
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
    if (!IN_FLIGHT.includes(current.status) && current.status !== 'interrupted') return current;
  }
  try {
    const fresh = (await ctx.store.getMovement(movement.id)) ?? movement;
    return await advance(ctx, fresh, owner, true);
  } catch (error) {
    throw toApiError(error);
  } finally {
    await ctx.store.releaseMovement(movement.id, owner).catch(() => {});
  }
}

async function update(ctx: DomainContext, m: Movement, patch: MovementPatch): Promise<Movement> {
  return ctx.store.updateMovement(m.id, patch, ctx.now());
}

async function finish(ctx: DomainContext, m: Movement, status: 'processed' | 'failed' | 'cancelled', patch: MovementPatch = {}): Promise<Movement> {
  const done = await update(ctx, m, { ...patch, status, pending_json: null, completed_at: ctx.now() });
  if (status === 'processed') await ctx.store.invalidateAccounts(m.user_id);
  ctx.log.info({ movement: m.id, status }, 'movement finished');
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
async function advance(ctx: DomainContext, start: Movement, owner: string, resumed = false): Promise<Movement> {
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
        const session = await ctx.verify.login(m.verify_session_id!, credentials);
        if (session.status === 'connected') {
          m = await update(ctx, m, { status: 'logged_in' });
        } else if (session.status === 'pending_verification' && session.verification) {
          const pending = pendingFrom(session.verification, { type: 'session', sessionId: session.id });
          return update(ctx, m, { status: 'awaiting_login_otp', pending_json: JSON.stringify(pending), otp_attempts: 0, otp_started_at: ctx.now() });
        } else {
          return finish(ctx, m, 'failed', { failure_reason: 'the bank refused the sign-in' });
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
    transfer = await ctx.verify.createTransfer(sessionId, sourceId);
  } catch (error) {
    const existing = await findSessionTransfer(ctx, sessionId).catch(() => undefined);
    if (!existing) throw error; // stays transfer_requested: a retry or reconciliation resolves it
    transfer = existing;
  }
  return applyTransfer(ctx, m, transfer);
}

async function findSessionTransfer(ctx: DomainContext, sessionId: string): Promise<VerifyTransfer | undefined> {
  const transfers = await ctx.verify.listSessionTransfers(sessionId);
  return transfers[0];
}

async function applyTransfer(ctx: DomainContext, m: Movement, transfer: VerifyTransfer): Promise<Movement> {
  const ids = { verify_transfer_id: transfer.id, verify_reference_id: transfer.reference_id ?? null };
  switch (transfer.status) {
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
    default:
      return update(ctx, m, { ...ids, status: 'transfer_requested' });
  }
}

// ---- one-time passwords for a movement -------------------------------------------------

export type OtpOutcome = 'done' | 'another_challenge';

/**
 * Submits the customer's otp to the movement's pending Verify verification and moves the
 * movement on. Throws 451/452/453 as Kasisto's OTP flow defines them.
 */
export async function validateMovementOtp(ctx: DomainContext, movement: Movement, otp: string): Promise<OtpOutcome> {
  const now = ctx.now();
  const owner = newLeaseOwner(ctx);
  if (!(await ctx.store.claimMovement(movement.id, owner, now, now + leaseMs(ctx)))) {
    throw new ApiError(503, 'in_progress', 'This transfer is being processed; retry shortly', undefined, 1);
  }
  try {
    const m = (await ctx.store.getMovement(movement.id)) ?? movement;
    const pending = parsePending(m.pending_json);
    if (!pending || (m.status !== 'awaiting_login_otp' && m.status !== 'awaiting_transfer_otp')) return 'done';
    if (m.otp_started_at !== null && now - m.otp_started_at > ctx.config.otpWindowSeconds * 1000) {
      await finish(ctx, m, 'cancelled', { failure_reason: 'one-time password expired' });
      throw new ApiError(452, 'otp_expired', 'The one-time password has expired; the transfer was cancelled');
    }
    const attempts = await ctx.store.countMovementOtpAttempt(m.id);
    if (attempts > ctx.config.otpMaxAttempts) {
      await finish(ctx, m, 'cancelled', { failure_reason: 'too many one-time password failures' });
      throw new ApiError(453, 'otp_too_many_failures', 'Too many wrong one-time passwords; the transfer was cancelled');
    }
    let verification;
    try {
      verification = await submit(ctx, pending, otp);
    } catch (error) {
      await ctx.store.refundMovementOtpAttempt(m.id).catch(() => {}); // no verdict: not a wrong password
      throw error;
    }
    if (verification.status === 'retry' || verification.status === 'initial') {
      if (attempts >= ctx.config.otpMaxAttempts) {
        await finish(ctx, m, 'cancelled', { failure_reason: 'too many one-time password failures' });
        throw new ApiError(453, 'otp_too_many_failures', 'Too many wrong one-time passwords; the transfer was cancelled');
      }
      throw new ApiError(451, 'otp_invalid', `The one-time password is not correct; ${ctx.config.otpMaxAttempts - attempts} attempt(s) left`);
    }
    if (verification.status === 'failed') {
      await finish(ctx, m, 'cancelled', { failure_reason: 'the bank failed the verification' });
      throw new ApiError(453, 'otp_too_many_failures', 'The bank rejected the one-time password; the transfer was cancelled');
    }
    // succeeded: the parent may carry another verification, or be done
    const parent = verification.verifiable;
    if (parent && parent.status === 'pending_verification' && parent.verification) {
      const next = pendingFrom(parent.verification, pending.target);
      await update(ctx, m, { pending_json: JSON.stringify(next), otp_attempts: 0, otp_started_at: ctx.now() });
      return 'another_challenge';
    }
    if (pending.target.type === 'session') {
      const advanced = await advance(ctx, await update(ctx, m, { status: 'logged_in', pending_json: null }), owner);
      return advanced.status === 'awaiting_transfer_otp' ? 'another_challenge' : 'done';
    }
    const transfer = parent && parent.object === 'transfer' ? (parent as VerifyTransfer) : await ctx.verify.getTransfer(pending.target.transferId);
    await applyTransfer(ctx, m, transfer);
    return 'done';
  } catch (error) {
    throw toApiError(error);
  } finally {
    await ctx.store.releaseMovement(movement.id, owner).catch(() => {});
  }
}

export async function submit(ctx: DomainContext, pending: PendingVerification, otp: string) {
  const target = pending.target.type === 'session' ? { type: 'session' as const, sessionId: pending.target.sessionId } : { type: 'transfer' as const, transferId: pending.target.transferId };
  return ctx.verify.submitVerification(target, pending.verificationId, answerFor(pending, otp));
}

// ---- reconciliation -------------------------------------------------------------------

export interface ReconcileReport {
  examined: number;
  /** transfers Verify made that are now recorded with their outcome */
  adopted: number;
  /** stopped before any transfer could exist: the platform's retry resumes them */
  interrupted: number;
  /** waited for a one-time password past the window */
  expired: number;
  /** Verify has no transfer yet: left for the platform's retry (same Verify session) */
  unresolved: number;
  /** past the retry window with nothing at Verify: ended (interrupted → cancelled, transfer_requested → failed) */
  abandoned: number;
  /** held by a live holder, or Verify did not answer */
  skipped: number;
}

/**
 * Ends what a crash left between two steps, asking Verify (GETs only, never a re-send):
 * a transfer Verify made is adopted with its status; a movement stopped before any
 * transfer could exist is marked interrupted so the platform's retry can resume it; one
 * whose transfer Verify does not know (yet) stays for the retry, under its own session.
 * Each movement is handled under its lease, so instances (and overlapping runs) never
 * work on the same one at once.
 */
export async function reconcile(ctx: DomainContext): Promise<ReconcileReport> {
  const report: ReconcileReport = { examined: 0, adopted: 0, interrupted: 0, expired: 0, unresolved: 0, abandoned: 0, skipped: 0 };
  const owner = newLeaseOwner(ctx);
  const claim = (id: string) => {
    const now = ctx.now();
    return ctx.store.claimMovement(id, owner, now, now + leaseMs(ctx));
  };
  const handle = async (m: Movement, work: (current: Movement) => Promise<void>) => {
    report.examined += 1;
    if (!(await claim(m.id))) {
      report.skipped += 1;
      return;
    }
    try {
      await work((await ctx.store.getMovement(m.id)) ?? m);
    } catch (error) {
      report.skipped += 1;
      ctx.log.warn({ movement: m.id, err: (error as Error).name }, 'reconciliation deferred: Verify did not answer');
    } finally {
      await ctx.store.releaseMovement(m.id, owner).catch(() => {});
    }
  };

  for (const m of await ctx.store.listInFlightMovements()) {
    await handle(m, async (current) => {
      if (!IN_FLIGHT.includes(current.status)) return; // finished meanwhile
      if (current.status === 'transfer_requested' && current.verify_session_id) {
        const transfer = current.verify_transfer_id
          ? await ctx.verify.getTransfer(current.verify_transfer_id)
          : await findSessionTransfer(ctx, current.verify_session_id);
        if (transfer) {
          await applyTransfer(ctx, current, transfer);
          report.adopted += 1;
        } else if (current.created_at < openSince(ctx)) {
          await finish(ctx, current, 'failed', { failure_reason: 'the bank never received the transfer' });
          report.abandoned += 1;
        } else {
          // Never a new session here: the first createTransfer may still land under this one.
          report.unresolved += 1;
        }
        return;
      }
      await update(ctx, current, { status: 'interrupted' });
      report.interrupted += 1;
    });
  }

  const now = ctx.now();
  for (const m of await ctx.store.listStaleAwaitingMovements(now - ctx.config.otpWindowSeconds * 1000)) {
    await handle(m, async (current) => {
      if (current.status !== 'awaiting_login_otp' && current.status !== 'awaiting_transfer_otp') return;
      // The OTP may have reached Verify with its reply lost: the transfer then moved money.
      if (current.status === 'awaiting_transfer_otp' && current.verify_transfer_id) {
        const transfer = await ctx.verify.getTransfer(current.verify_transfer_id);
        if (transfer.status === 'succeeded' || transfer.status === 'failed') {
          await applyTransfer(ctx, current, transfer);
          report.adopted += 1;
          return;
        }
      }
      await finish(ctx, current, 'cancelled', { failure_reason: 'one-time password never given' });
      report.expired += 1;
    });
  }

  for (const m of await ctx.store.listInterruptedMovements(openSince(ctx))) {
    await handle(m, async (current) => {
      if (current.status !== 'interrupted') return;
      await finish(ctx, current, 'cancelled', { failure_reason: 'interrupted and never retried' });
      report.abandoned += 1;
    });
  }
  return report;
}

export function isTerminal(status: MovementStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
