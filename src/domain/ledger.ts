/**
 * /transactions: Verify has no statement API, so the connector answers from its own ledger
 * of the movements it made. A transfer between own accounts is a debit on one and a credit
 * on the other; a payment is a debit. Amounts are positive; the type tells the direction.
 */
import type { components } from '../../generated/kasisto/1.0.js';
import type { LedgerQuery, LedgerRow } from '../adapters/store/store.js';
import { invalidField } from './errors.js';
import type { DomainContext } from './context.js';
import { fromMinorUnits } from './money.js';

type Transaction = components['schemas']['transaction'];

export const DEFAULT_TRANSACTION_LIMIT = 50;
export const MAX_TRANSACTION_LIMIT = 500;
/** A customer has a handful of accounts; every id becomes SQL parameters, which databases cap. */
export const MAX_ACCOUNT_IDS = 100;

export interface TransactionCriteria {
  account_ids?: unknown;
  limit?: unknown;
  start_date?: unknown;
  end_date?: unknown;
  /** Kasisto 1.3: only these entries (`<movement id>-debit|credit`, as answered) */
  transaction_ids?: unknown;
}

/** The customer's statement: checked criteria (400 naming the field), newest first. */
export async function searchTransactions(ctx: DomainContext, userId: string, criteria: TransactionCriteria): Promise<Transaction[]> {
  return findTransactions(ctx, transactionSearch(userId, criteria));
}

/** A checked /transactions request: what to read, and which entries to answer. */
export interface TransactionSearch {
  query: LedgerQuery;
  /** entries answered at most */
  limit: number;
  /** only entries of these accounts (when account_ids was given) */
  wanted: Set<string> | undefined;
  /** only these entries (when transaction_ids was given) */
  wantedEntries?: Set<string>;
}

/** Checks the criteria (400 naming the field) and normalises them. */
function transactionSearch(userId: string, criteria: TransactionCriteria): TransactionSearch {
  const limit = criteria.limit === undefined ? DEFAULT_TRANSACTION_LIMIT : criteria.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw invalidField('limit', 'must be a positive integer');
  const cappedLimit = Math.min(limit, MAX_TRANSACTION_LIMIT);
  const accountIds = accountIdsOf(criteria.account_ids);
  const from = dateBound('start_date', criteria.start_date);
  const toInclusive = dateBound('end_date', criteria.end_date);
  if (from !== undefined && toInclusive !== undefined && from > toInclusive) throw invalidField('start_date', 'must not be after end_date');
  const query: LedgerQuery = {
    userId,
    ...(accountIds && accountIds.length > 0 ? { accountIds } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(toInclusive !== undefined ? { to: toInclusive + 86_400_000 } : {}),
    // each movement gives at most two entries
    limit: cappedLimit,
  };
  const wanted = accountIds && accountIds.length > 0 ? new Set(accountIds) : undefined;
  const transactionIds = transactionIdsOf(criteria.transaction_ids);
  if (transactionIds === undefined) return { query, limit: cappedLimit, wanted };
  // an entry id names its movement: read only those movements
  const movementIds = [...new Set(transactionIds.map((id) => id.replace(/-(debit|credit)$/, '')))];
  return { query: { ...query, movementIds }, limit: cappedLimit, wanted, wantedEntries: new Set(transactionIds) };
}

/** The entries of a checked search, newest first. */
async function findTransactions(ctx: DomainContext, search: TransactionSearch): Promise<Transaction[]> {
  const rows = await ctx.store.listLedger(search.query);
  const { wanted, wantedEntries } = search;
  const entries: Transaction[] = [];
  for (const movement of rows) {
    for (const entry of entriesOf(movement)) {
      if ((!wanted || wanted.has(entry.account_id ?? '')) && (!wantedEntries || wantedEntries.has(entry.transaction_id ?? ''))) entries.push(entry);
    }
  }
  return entries.slice(0, search.limit);
}

function accountIdsOf(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((id): id is string => typeof id === 'string')) throw invalidField('account_ids', 'must be an array of account_id strings');
  // PostgreSQL text cannot hold NUL, and no account_id contains one
  if (value.some((id) => id.includes('\u0000'))) throw invalidField('account_ids', 'must not contain NUL characters');
  const distinct = [...new Set(value)];
  if (distinct.length > MAX_ACCOUNT_IDS) throw invalidField('account_ids', `must name at most ${MAX_ACCOUNT_IDS} accounts`);
  return distinct;
}

function transactionIdsOf(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((id): id is string => typeof id === 'string')) throw invalidField('transaction_ids', 'must be an array of transaction_id strings');
  if (value.some((id) => id.includes('\u0000'))) throw invalidField('transaction_ids', 'must not contain NUL characters');
  const distinct = [...new Set(value)];
  if (distinct.length > MAX_ACCOUNT_IDS) throw invalidField('transaction_ids', `must name at most ${MAX_ACCOUNT_IDS} transactions`);
  return distinct;
}

function dateBound(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw invalidField(field, 'must be a date written YYYY-MM-DD');
  const time = Date.parse(`${value}T00:00:00Z`);
  if (Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== value) throw invalidField(field, 'is not a calendar date');
  return time;
}

/** The UTC date of an instant, YYYY-MM-DD; remembered per day, as ledgers repeat days a lot. */
const days = new Map<number, string>();
function day(ms: number): string {
  const n = Math.floor(ms / 86_400_000);
  let text = days.get(n);
  if (text === undefined) {
    text = new Date(n * 86_400_000).toISOString().slice(0, 10);
    if (days.size >= 4096) days.clear();
    days.set(n, text);
  }
  return text;
}

export function entriesOf(m: LedgerRow): Transaction[] {
  const amount = fromMinorUnits(m.amount_minor, m.currency);
  const posted = m.status === 'processed';
  const shared: EntryBase = {
    amount,
    currency: m.currency,
    category: m.category,
    status: posted ? 'posted' : 'pending',
    // Verify executes at once: the transaction date is the day it was made, the same date the
    // start_date/end_date filter uses; a date the platform asked for is kept in meta
    transactionDate: day(m.created_at),
    postDate: posted && m.completed_at !== null ? day(m.completed_at) : undefined,
    meta: [
      { name: 'reference_number', value: m.verify_reference_id ?? m.verify_transfer_id ?? m.id },
      { name: m.kind === 'payment' ? 'payment_id' : 'transfer_id', value: m.id },
      ...(m.requested_date ? [{ name: 'requested_date', value: m.requested_date }] : []),
    ],
  };
  const entries: Transaction[] = [entry(shared, m.source_account_id, `${m.id}-debit`, 'debit', m.description)];
  const obligation = m.obligation_state ?? null;
  if (m.dest_type === 'account') {
    // The destination is credited by the operator's payout, in the destination account's
    // own currency (never another): pending until the obligation is paid, cancelled when
    // the payout came back. Movements from before obligations existed show as they did.
    const currency = m.dest_currency ?? m.currency;
    const creditStatus: Transaction['status'] = !posted ? 'pending' : obligation === null || obligation === 'paid' ? 'posted' : obligation === 'returned' ? 'cancelled' : 'pending';
    const credit: EntryBase = {
      ...shared,
      amount: fromMinorUnits(m.dest_amount_minor ?? m.amount_minor, currency),
      currency,
      status: creditStatus,
      postDate: creditStatus === 'posted' ? shared.postDate : undefined,
    };
    entries.push(entry(credit, m.dest_id, `${m.id}-credit`, 'credit', `Transfer from ${m.source_iban.slice(-4).padStart(8, '*')}`));
  }
  if (posted && obligation === 'returned') {
    // the compensating entry: the customer's money back on the account it left
    const refundDay = day(m.obligation_returned_at ?? m.completed_at ?? m.created_at);
    const refund: EntryBase = { ...shared, status: 'posted', transactionDate: refundDay, postDate: refundDay };
    entries.push(entry(refund, m.source_account_id, `${m.id}-refund`, 'credit', `Refund: ${m.description}`.slice(0, 140)));
  }
  return entries;
}

interface EntryBase {
  amount: number;
  currency: string;
  category: string;
  status: Transaction['status'];
  transactionDate: string;
  postDate: string | undefined;
  meta: Transaction['meta'];
}

/**
 * One entry as a single object literal: V8 builds `{ ...base, more }` on a slow path, and
 * /transactions renders up to 500 entries.
 */
function entry(b: EntryBase, accountId: string, transactionId: string, type: Transaction['transaction_type'], description: string): Transaction {
  const e: Transaction = {
    amount: b.amount,
    currency_code: b.currency,
    category: b.category,
    status: b.status,
    transaction_date: b.transactionDate,
    meta: b.meta,
    account_id: accountId,
    transaction_id: transactionId,
    transaction_type: type,
    description,
  };
  if (b.postDate !== undefined) e.post_date = b.postDate;
  return e;
}
