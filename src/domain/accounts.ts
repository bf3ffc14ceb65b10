/**
 * The customer's accounts, from Verify's bank accounts of the login's session, cached on
 * the login for ACCOUNTS_CACHE_SECONDS and dropped whenever this server moves money.
 */
import { isKnownAccountType, type VerifyAccountType, type VerifyBankAccount } from '../adapters/verify/client.js';
import { VerifyError } from '../adapters/verify/errors.js';
import type { components } from '../../generated/kasisto/1.0.js';
import { forbidden, otpRequired } from './errors.js';
import type { DomainContext } from './context.js';
import { accountIdFor } from './crypto.js';
import { currencyExponent, fromMinorUnits, isCurrencyCode } from './money.js';
import { challengeOf, pendingFrom } from './otp.js';
import { credentialsOf, type Caller } from './sessions.js';
import { toDomainError } from './verify-errors.js';

type KasistoAccount = components['schemas']['account'];

/** A Verify account as the connector knows it: the stable id beside Verify's own data. */
export interface OwnAccount {
  accountId: string;
  verifyId: string;
  iban: string;
  number: string;
  /** Verify's enum as the tolerant reader gives it: narrow with isKnownAccountType. */
  type: VerifyBankAccount['type'];
  currency: string;
  balanceMinor: number;
}

export interface OwnAccountsOptions {
  /**
   * Only ids, IBANs and currencies are needed (checking a transfer), not balances: a
   * listing whose balances went stale (money moved, or older than the cache time) will do.
   * Saves Verify a listing when the platform retries a transfer after its OTP.
   */
  identitiesOnly?: boolean;
}

export async function ownAccounts(ctx: DomainContext, caller: Caller, options: OwnAccountsOptions = {}): Promise<readonly OwnAccount[]> {
  const { grant } = caller;
  const now = ctx.now();
  if (grant.accounts_json) {
    const fresh = grant.accounts_cached_at !== null && now - grant.accounts_cached_at < ctx.config.accountsCacheSeconds * 1000;
    if (fresh || options.identitiesOnly) return parsedAccounts(grant.accounts_json);
  }
  let raw: VerifyBankAccount[];
  try {
    raw = await ctx.verify.listBankAccounts(grant.verify_session_id ?? '');
  } catch (error) {
    // Verify may have ended the session on its side: log in again once with the sealed credentials.
    if (!(error instanceof VerifyError && error.kind === 'rejected')) throw toDomainError(error);
    raw = await reconnect(ctx, caller);
  }
  const accounts = raw.filter((a) => isCurrencyCode(a.currency)).map((a) => toOwnAccount(ctx, grant.bank_id, a));
  const json = JSON.stringify(accounts);
  await ctx.store.updateGrant(grant.id, { accounts_json: json, accounts_cached_at: now });
  grant.accounts_json = json;
  grant.accounts_cached_at = now;
  return parsedAccounts(json);
}

/**
 * Cached listings are read on every /accounts and /transfer: parse each one once. Keyed by
 * the JSON text itself (the same string object comes back from the store's token cache, so
 * the lookup is cheap), bounded, and frozen because callers share the result.
 */
const parsed = new Map<string, readonly OwnAccount[]>();
const PARSED_ENTRIES = 1_000;

function parsedAccounts(json: string): readonly OwnAccount[] {
  let accounts = parsed.get(json);
  if (!accounts) {
    accounts = Object.freeze((JSON.parse(json) as OwnAccount[]).map((a) => Object.freeze(a)));
    if (parsed.size >= PARSED_ENTRIES) parsed.delete(parsed.keys().next().value!);
    parsed.set(json, accounts);
  }
  return accounts;
}

async function reconnect(ctx: DomainContext, caller: Caller): Promise<VerifyBankAccount[]> {
  const credentials = credentialsOf(ctx, caller.grant);
  try {
    const session = await ctx.verify.createSession({ currency: 'AED', amount: 1, description: 'Kasisto assistant sign-in' });
    const loggedIn = await ctx.verify.login(session.id, { credentials });
    if (loggedIn.status === 'pending_verification' && loggedIn.verification) {
      const pending = pendingFrom(loggedIn.verification, { type: 'session', sessionId: session.id });
      await ctx.store.updateGrant(caller.grant.id, {
        status: 'pending_otp',
        verify_session_id: session.id,
        pending_json: JSON.stringify(pending),
        otp_attempts: 0,
        otp_started_at: ctx.now(),
      });
      throw otpRequired(challengeOf(pending));
    }
    if (loggedIn.status !== 'connected') {
      await ctx.store.endGrant(caller.grant.id);
      throw forbidden('The bank no longer accepts this sign-in: call /token again');
    }
    await ctx.store.updateGrant(caller.grant.id, { verify_session_id: session.id });
    caller.grant.verify_session_id = session.id;
    return await ctx.verify.listBankAccounts(session.id);
  } catch (error) {
    throw toDomainError(error);
  }
}

function toOwnAccount(ctx: DomainContext, bankId: string, a: VerifyBankAccount): OwnAccount {
  return {
    accountId: accountIdFor(ctx.keys, bankId, a.iban),
    verifyId: a.id,
    iban: a.iban,
    number: a.number,
    type: a.type,
    currency: a.currency,
    balanceMinor: a.balance,
  };
}

/** Keeps the last four digits, as Kasisto advises. */
export function maskAccountNumber(number: string): string {
  const visible = number.slice(-4);
  return '*'.repeat(Math.max(number.length - 4, 4)) + visible;
}

/** Keyed by Verify's enum: a type the spec adds fails tsc here until it is mapped. */
const ACCOUNT_TYPES = { current: 'checking', savings: 'savings' } as const satisfies Record<VerifyAccountType, KasistoAccount['account_type']>;

/** Kasisto's name for a Verify account's kind; undefined for a kind Verify sends but its spec lacks. */
export function kasistoKindOf(account: OwnAccount): (typeof ACCOUNT_TYPES)[VerifyAccountType] | undefined {
  return isKnownAccountType(account.type) ? ACCOUNT_TYPES[account.type] : undefined;
}

export function accountName(account: OwnAccount): string {
  return `${accountKind(account.type)} ${account.currency} ${account.number.slice(-4)}`;
}

function accountKind(type: OwnAccount['type']): string {
  if (!isKnownAccountType(type)) return 'Account';
  switch (type) {
    case 'current':
      return 'Current account';
    case 'savings':
      return 'Savings account';
    default:
      return type satisfies never;
  }
}

/** Cached listings are shared and frozen, so their Kasisto view is built once per listing. */
const kasistoViews = new WeakMap<OwnAccount, KasistoAccount>();

export function toKasistoAccount(account: OwnAccount): KasistoAccount {
  let view = kasistoViews.get(account);
  if (!view) {
    view = kasistoView(account);
    if (Object.isFrozen(account)) {
      for (const field of view.meta ?? []) Object.freeze(field);
      Object.freeze(view.meta);
      kasistoViews.set(account, Object.freeze(view));
    }
  }
  return view;
}

function kasistoView(account: OwnAccount): KasistoAccount {
  const balance = fromMinorUnits(account.balanceMinor, account.currency);
  currencyExponent(account.currency); // throws for a currency Verify should never send
  return {
    account_id: account.accountId,
    account_number: maskAccountNumber(account.number),
    account_name: accountName(account),
    account_type: kasistoKindOf(account) ?? 'unspecified',
    currency_code: account.currency,
    available_balance: balance,
    current_balance: balance,
    meta: [{ name: 'iban_last4', value: account.iban.slice(-4) }],
  };
}
