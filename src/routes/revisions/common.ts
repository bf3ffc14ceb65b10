/**
 * What the later Kasisto revisions (1.0-final, 1.2, 1.3) share beyond 1.0: reading their
 * requests into the one domain's calls and building their answers as exact objects (only
 * the properties the revision defines; Fastify's serialiser is not relied on to drop any).
 * docs/kasisto-revisions.md is the field-by-field reference.
 */
import type { components as c10 } from '../../../generated/kasisto/1.0.js';
import type { components as c10Final } from '../../../generated/kasisto/1.0-final.js';
import type { components as c13 } from '../../../generated/kasisto/1.3.js';
import { accountName, kasistoKindOf, maskAccountNumber, type OwnAccount } from '../../domain/accounts.js';
import type { DomainContext } from '../../domain/context.js';
import { invalidField } from '../../domain/errors.js';
import type { DirectoryPayee } from '../../domain/directory.js';
import { fromMinorUnits } from '../../domain/money.js';
import { fxRatesOf } from '../../domain/settlement/fx.js';
import { searchTransactions as statementOf } from '../../domain/ledger.js';
import { callerOf } from '../caller.js';
import { moveMoney, paymentAnswer, transferAnswer } from '../movement.js';
import type { FastifyRequest } from 'fastify';

export type NameValue = c13['schemas']['name_value_pair'];

/** The pairs of a `meta` array, as sent (the schema checked their shape). */
function pairs(meta: unknown): NameValue[] {
  return Array.isArray(meta) ? (meta as NameValue[]) : [];
}

/**
 * 1.2/1.3 `/token` credentials: `username` (or `login`) and `password` name/value pairs,
 * names matched exactly, the first pair of each name wins, others ignored. The values are
 * credentials: they never reach a message.
 */
export function credentialsFromMeta(meta: unknown): { username: string; password: string } {
  const list = pairs(meta);
  const first = (...names: string[]) => list.find((p) => names.includes(p.name))?.value;
  const username = first('username', 'login');
  const password = first('password');
  if (typeof username !== 'string' || username.length === 0) throw invalidField('meta', 'username is required');
  if (typeof password !== 'string' || password.length === 0) throw invalidField('meta', 'password is required');
  return { username, password };
}

/**
 * The UTC calendar day of a `date-time` request field (the domain works in days). Accepts
 * RFC 3339 and Kasisto's own sample form `2016-01-30T00:00:00.000+0000` (no colon).
 */
export function dayOf(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2') : '';
  const match = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  const time = match ? Date.parse(text.replace(' ', 'T')) : Number.NaN;
  if (!match || Number.isNaN(time)) throw invalidField(field, 'must be a date-time such as 2025-03-12T09:30:00Z');
  return new Date(time).toISOString().slice(0, 10);
}

/** A ledger day as the `date-time` the later revisions answer: midnight UTC of that day. */
export function dateTimeOfDay(day: string): string {
  return `${day}T00:00:00Z`;
}

type Transaction10 = c10['schemas']['transaction'];
type Transaction10Final = c10Final['schemas']['transaction'];

/** The short kind of a ledger entry, from the movement id it carries in meta. */
function titleOf(entry: Transaction10): string {
  const kind = entry.meta?.find((m) => m.name === 'payment_id' || m.name === 'transfer_id')?.name;
  return kind === 'payment_id' ? 'Bill payment' : 'Own transfer';
}

/**
 * A ledger entry (the domain answers it in 1.0's shape) in 1.0-final's and later shape:
 * `categories[]` for `category`, a `title`, `date-time` dates. Its type/status values
 * (debit/credit, posted/pending) exist in every revision.
 */
export function laterTransaction(entry: Transaction10): Transaction10Final & { transaction_type?: 'credit' | 'debit'; status?: 'posted' | 'pending' | 'cancelled' } {
  const out: Transaction10Final & { transaction_type?: 'credit' | 'debit'; status?: 'posted' | 'pending' | 'cancelled' } = {
    account_id: entry.account_id,
    transaction_id: entry.transaction_id,
    title: titleOf(entry),
    description: typeof entry.description === 'string' ? entry.description : String(entry.description ?? ''),
    transaction_type: entry.transaction_type === 'credit' ? 'credit' : 'debit',
    amount: entry.amount,
    currency_code: entry.currency_code,
    categories: entry.category ? [entry.category] : [],
    status: entry.status === 'posted' ? 'posted' : 'pending',
    meta: entry.meta ?? [],
  };
  if (entry.transaction_date) out.transaction_date = dateTimeOfDay(entry.transaction_date);
  if (entry.post_date) out.post_date = dateTimeOfDay(entry.post_date);
  return out;
}

/** Own transfers go between current and savings accounts, the kinds the connector moves money from and to. */
export function movesMoney(account: OwnAccount): boolean {
  return kasistoAccountType(account) !== undefined;
}

/**
 * Verify's account kinds Kasisto names; any other is `unspecified` in 1.0/1.0-final and
 * has no `account_type` at all from 1.2 on (the enum lost `unspecified`; the property is optional).
 */
export function kasistoAccountType(account: OwnAccount): 'checking' | 'savings' | undefined {
  return kasistoKindOf(account);
}

/**
 * 1.0-final and 1.2: 1.0's account plus `can_transfer_to`/`can_transfer_from`; no
 * `account_type` for a kind Kasisto does not name (1.0-final's caller adds `unspecified`).
 */
export function accountWithTransferFlags(account: OwnAccount) {
  const balance = fromMinorUnits(account.balanceMinor, account.currency);
  const type = kasistoAccountType(account);
  return {
    account_id: account.accountId,
    account_number: maskAccountNumber(account.number),
    account_name: accountName(account),
    ...(type ? { account_type: type } : {}),
    currency_code: account.currency,
    available_balance: balance,
    current_balance: balance,
    can_transfer_to: movesMoney(account),
    can_transfer_from: movesMoney(account),
    meta: [{ name: 'iban_last4', value: account.iban.slice(-4) }],
  };
}

/**
 * 1.3: balances in the bank's default currency (converted with the operator's rates), and
 * for an account in another currency `fcy_*` in its own currency; no `currency_code`.
 * Without a rate for the account's currency the converted balances are left out (both are
 * optional) rather than guessed; the fcy ones still say what the account holds.
 */
export function account13(ctx: DomainContext, account: OwnAccount): c13['schemas']['account'] {
  const home = ctx.config.defaultCurrency ?? 'AED';
  const type = kasistoAccountType(account);
  const out: c13['schemas']['account'] = {
    account_id: account.accountId,
    account_number: maskAccountNumber(account.number),
    account_name: accountName(account),
    account_status: 'active',
  };
  if (type) out.account_type = type;
  let converted: number | undefined;
  if (account.currency === home) converted = account.balanceMinor;
  else {
    try {
      // the operator's rates (FX_RATES_FILE), the ones own transfers across currencies use;
      // an overdrawn balance converts like its absolute value
      const magnitude = fxRatesOf(ctx).convert(Math.abs(account.balanceMinor), account.currency, home, ctx.now()).amount_minor;
      converted = account.balanceMinor < 0 ? -magnitude : magnitude;
    } catch (error) {
      ctx.log.warn({ currency: account.currency, default_currency: home, err: error }, 'no exchange rate for an account balance');
    }
  }
  if (converted !== undefined) {
    out.current_balance = fromMinorUnits(converted, home);
    out.available_balance = out.current_balance;
  }
  if (account.currency !== home) {
    const own = fromMinorUnits(account.balanceMinor, account.currency);
    out.fcy_currency_code = account.currency;
    out.fcy_current_balance = own;
    out.fcy_available_balance = own;
  }
  const moves = movesMoney(account);
  out.can_transfer_to = moves;
  out.can_transfer_from = moves;
  out.can_pay_payee = moves;
  out.can_waive_fee = false;
  out.meta = [{ name: 'iban_last4', value: account.iban.slice(-4) }];
  return out;
}

/** A payee from 1.0-final on: `meta` always sent (empty). */
export function payeeWithMeta(p: DirectoryPayee) {
  return { payee_id: p.payee_id, name: p.name, alias: p.alias, meta: [] as NameValue[] };
}

/** 1.3's payee `category`: a payee with an account (IBAN) is a `payee`, one without is a `biller`. */
export function payee13(p: DirectoryPayee): c13['schemas']['payee'] {
  return { ...payeeWithMeta(p), category: p.iban ? 'payee' : 'biller' };
}

/** Merchants and categories from 1.0-final on: id, name, alias and an empty `meta`. */
export function merchantWithMeta(m: c10['schemas']['merchant']) {
  return { merchant_id: m.merchant_id, name: m.name, alias: m.alias ?? [], meta: [] as NameValue[] };
}
export function categoryWithMeta(c: c10['schemas']['category']) {
  return { category_id: c.category_id, name: c.name, alias: c.alias ?? [], meta: [] as NameValue[] };
}

type DatedBody = { source_account_id?: unknown; amount?: unknown; currency_code?: unknown; date?: unknown; dest_account_id?: unknown; payee_id?: unknown };

/** /transfer of the revisions whose `date` is a date-time: the domain gets its UTC day. */
export const datedTransfer = (ctx: DomainContext) => async (request: FastifyRequest<{ Body: DatedBody | undefined }>) =>
  transferAnswer(await moveMoney(ctx, request, 'transfer', request.body?.dest_account_id, dayOf('date', request.body?.date)));

/** /payment of the revisions whose `date` is a date-time. */
export const datedPayment = (ctx: DomainContext) => async (request: FastifyRequest<{ Body: DatedBody | undefined }>) =>
  paymentAnswer(await moveMoney(ctx, request, 'payment', request.body?.payee_id, dayOf('date', request.body?.date)));

type LaterSearchBody = { account_ids?: unknown; limit?: unknown; start_date?: unknown; end_date?: unknown; transaction_ids?: unknown };

/** /transactions of the revisions whose date bounds are date-times (1.3 adds transaction_ids). */
export const laterSearch = (ctx: DomainContext) => async (request: FastifyRequest<{ Body: LaterSearchBody | undefined }>) => {
  const { account_ids, limit, start_date, end_date, transaction_ids } = request.body ?? {};
  const criteria = { account_ids, limit, transaction_ids, start_date: dayOf('start_date', start_date), end_date: dayOf('end_date', end_date) };
  return (await statementOf(ctx, callerOf(request).grant.user_id, criteria)).map(laterTransaction);
};
