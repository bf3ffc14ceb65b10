/**
 * The pure decisions around a batch, kept apart from the store so they can be tested alone:
 * which due obligations go in, its totals per currency, and the two-person rule. The store
 * then applies the choice with a compare-and-set (`… WHERE state = 'due'`), see
 * docs/settlement-design.md.
 */
import { SettlementError } from './errors.js';
import { payoutProblem } from './pain001.js';
import type { Batch, Obligation } from './types.js';

export interface BatchRequest {
  currency?: string | undefined;
  obligation_ids?: readonly string[] | undefined;
}

export interface BatchPlan {
  take: Obligation[];
  /** Asked for (or due) but not payable by credit transfer; they stay due. */
  skipped: { obligation_id: string; reason: string }[];
}

/**
 * Chooses the obligations of a new batch from `candidates` (the due obligations, plus, when
 * ids are named, those obligations whatever their state). Named ids must exist and be due;
 * `currency` narrows either way. Obligations without a valid creditor IBAN are skipped with
 * the reason, so every batch can be exported as pain.001.
 */
export function planBatch(candidates: readonly Obligation[], request: BatchRequest): BatchPlan {
  let chosen: Obligation[];
  if (request.obligation_ids) {
    const byId = new Map(candidates.map((o) => [o.id, o]));
    chosen = request.obligation_ids.map((id, i) => {
      const o = byId.get(id);
      if (!o) throw new SettlementError('obligation_unknown', `obligation_ids[${i}]: no obligation ${id}`, `obligation_ids[${i}]`);
      if (o.state !== 'due') throw new SettlementError('not_due', `obligation_ids[${i}]: obligation ${id} is ${o.state}, not due`, `obligation_ids[${i}]`);
      if (request.currency !== undefined && o.currency !== request.currency) {
        throw new SettlementError('not_due', `obligation_ids[${i}]: obligation ${id} is in ${o.currency}, not ${request.currency}`, `obligation_ids[${i}]`);
      }
      return o;
    });
  } else {
    chosen = candidates.filter((o) => o.state === 'due' && (request.currency === undefined || o.currency === request.currency));
  }
  const take: Obligation[] = [];
  const skipped: BatchPlan['skipped'] = [];
  for (const o of chosen) {
    const problem = payoutProblem(o);
    if (problem) skipped.push({ obligation_id: o.id, reason: problem.message });
    else take.push(o);
  }
  if (take.length === 0) {
    const scope = request.currency ? ` in ${request.currency}` : '';
    throw new SettlementError('nothing_to_batch', `no due obligation with a valid creditor IBAN${scope}${skipped.length ? ` (${skipped.length} skipped)` : ''}`, 'obligation_ids');
  }
  return { take, skipped };
}

export interface BatchTotal {
  currency: string;
  count: number;
  amount_minor: number;
}

/** Count and sum per currency, by currency code; the sums are exact or refused. */
export function batchTotals(obligations: readonly Obligation[]): BatchTotal[] {
  const totals = new Map<string, { count: number; sum: bigint }>();
  for (const o of obligations) {
    const t = totals.get(o.currency) ?? { count: 0, sum: 0n };
    totals.set(o.currency, { count: t.count + 1, sum: t.sum + BigInt(o.amount_minor) });
  }
  return [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, { count, sum }]) => {
      if (sum > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new SettlementError('amount_out_of_range', `the ${currency} total of the batch exceeds the largest safe integer of minor units; split it`, 'obligations');
      }
      return { currency, count, amount_minor: Number(sum) };
    });
}

/**
 * Two-person rule: the key that created a batch may not mark it paid (unless the operator
 * turned the rule off with OPERATOR_FOUR_EYES=false). Keys are compared by name, the
 * identity the audit log records.
 */
export function checkFourEyes(batch: Pick<Batch, 'id' | 'created_by'>, payerKeyName: string, fourEyes: boolean): void {
  if (fourEyes && batch.created_by === payerKeyName) {
    throw new SettlementError('four_eyes', `batch ${batch.id} was created by key ${payerKeyName}; another settler key must mark it paid`, 'authorization');
  }
}
