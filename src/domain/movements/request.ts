/**
 * /transfer and /payment: the request checked (own source account, destination, amount
 * representable in the currency, date), recorded before Verify hears of it, recognised when
 * the platform retries it, then driven (drive.ts). Money never moves twice.
 */
import { IdempotencyConflict, type Movement } from '../../adapters/store/store.js';
import { ownAccounts, accountName, type OwnAccount } from '../accounts.js';
import type { DomainContext } from '../context.js';
import { fingerprint, newId } from '../crypto.js';
import { inProgress, invalidField, otpRequired } from '../errors.js';
import { findPayee } from '../directory-queries.js';
import { isCurrencyCode, toMinorUnits } from '../money.js';
import { challengeOf, logOtpEvent, parsePending } from '../otp.js';
import type { Caller } from '../sessions.js';
import { toDomainError } from '../verify-errors.js';
import { driveWithLease, leaseMs, newLeaseOwner, openSince } from './drive.js';
import { endAwaiting } from './otp.js';
import { SettlementError } from '../settlement/errors.js';
import { fxRatesOf } from '../settlement/fx.js';
import { customerReason } from './reasons.js';
import { isAwaitingOtp, isTerminal, publicStatus, type PublicMovementStatus } from './status.js';

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
  status: PublicMovementStatus;
  /** why it failed or was cancelled, in words the assistant can say (failed/cancelled only) */
  reason?: string;
}

export async function requestMovement(ctx: DomainContext, caller: Caller, request: MovementRequest): Promise<MovementAnswer> {
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
  // Retried after its one-time password ran out: the answer may have reached Verify with its
  // reply lost, so Verify settles it before the platform is asked for a code again.
  if (!recorded.created && isAwaitingOtp(movement.status) && movement.otp_started_at !== null && ctx.now() - movement.otp_started_at > ctx.config.otpWindowSeconds * 1000) {
    movement = await settleExpiredWait(ctx, movement, owner);
  }
  const driven = await driveWithLease(ctx, movement, owner);
  if (isAwaitingOtp(driven.status)) logOtpEvent(ctx, { movement: driven.id }, 'issued');
  return answer(driven);
}

/** What the platform is told about a movement: its status, or the 450 it waits on. */
export function answer(movement: Movement): MovementAnswer {
  const pending = parsePending(movement.pending_json);
  if (isAwaitingOtp(movement.status) && pending) throw otpRequired(challengeOf(pending));
  const status = publicStatus(movement.status);
  const reference = movement.verify_reference_id ?? movement.verify_transfer_id ?? movement.id;
  if (status === 'failed' || status === 'cancelled') return { id: movement.id, reference, status, reason: customerReason(movement.failure_reason, status) };
  return { id: movement.id, reference, status };
}

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
  // Verify debits the source currency; the operator credits the destination in its own
  // currency at the rate in force now, recorded here so a retry reuses it.
  let conversion;
  try {
    conversion = fxRatesOf(ctx).convert(minor.minor, source.currency, destination.currency, now);
  } catch (error) {
    if (error instanceof SettlementError && error.kind === 'fx_rate_missing') {
      throw invalidField(destField, `no exchange rate for ${source.currency}/${destination.currency}: the operator does not exchange this pair`);
    }
    if (error instanceof SettlementError && error.kind === 'amount_out_of_range') throw invalidField('amount', 'is too large');
    throw error;
  }
  const fx = conversion.quote;
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
    created_at: now,
    updated_at: now,
    completed_at: null,
    dest_currency: conversion.currency,
    dest_amount_minor: conversion.amount_minor,
    fx_rate: fx?.rate ?? null,
    fx_base: fx?.base ?? null,
    fx_quote: fx?.quote ?? null,
    fx_valid_from: fx?.valid_from ?? null,
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
      return { type: 'account' as const, id: own.accountId, name: accountName(own), iban: own.iban, category: 'transfers', currency: own.currency };
    }
  }
  const payee = await findPayee(ctx, caller.grant.user_id, id);
  if (!payee) throw invalidField(field, request.kind === 'transfer' ? 'is neither another account of the customer nor a known payee' : 'is not a known payee');
  // a payee is paid in the currency Verify debited (the directory has no payee currency)
  return { type: 'payee' as const, id: payee.payee_id, name: payee.name, iban: payee.iban ?? null, category: payee.category ?? 'payments', currency: source.currency };
}

/** Ends an expired OTP wait under the movement's lease (Verify asked first, see endAwaiting). */
async function settleExpiredWait(ctx: DomainContext, movement: Movement, owner: string): Promise<Movement> {
  const now = ctx.now();
  if (!(await ctx.store.claimMovement(movement.id, owner, now, now + leaseMs(ctx)))) throw inProgress();
  try {
    const current = (await ctx.store.getMovement(movement.id)) ?? movement;
    if (isAwaitingOtp(current.status)) await endAwaiting(ctx, current, 'one-time password expired');
    return (await ctx.store.getMovement(movement.id)) ?? current;
  } catch (error) {
    throw toDomainError(error);
  } finally {
    await ctx.store.releaseMovement(movement.id, owner).catch(() => {});
  }
}
