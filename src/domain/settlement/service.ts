/**
 * The operator's settlement work, one call per action, shared by the operator API and
 * `npm run admin -- settlement`: list obligations, batch them, export the payout files, mark
 * a batch paid (two-person rule), mark a payout returned, reconcile a day with Verify. Every
 * change is a compare-and-set in the store with its audit row in the same transaction, so
 * instances racing each other never batch, pay or return an obligation twice.
 */
import { VerifyError } from '../../adapters/verify/errors.js';
import type { VerifyTransfer } from '../../adapters/verify/client.js';
import type { AuditDraft, AuditRow, BatchRow, MovementEventRow, ObligationRow } from '../../adapters/store/settlement.js';
import type { Movement } from '../../adapters/store/store.js';
import type { DomainContext } from '../context.js';
import { leaseMs, newLeaseOwner } from '../movements/drive.js';
import { reconcile } from '../movements/reconcile.js';
import { batchTotals, checkFourEyes, planBatch, type BatchRequest, type BatchTotal } from './batching.js';
import { batchToCsv, csvCell } from './csv.js';
import { SettlementError } from './errors.js';
import { newBatchId } from './ids.js';
import { buildPain001 } from './pain001.js';
import { countItems, judge, unknownToLedger, type ReconciliationCounts, type ReconciliationKind, type VerifySide } from './reconciliation.js';
import type { Debtor, Obligation, ObligationState } from './types.js';

/** Who acts: an operator key's name and role, the admin CLI, or the daily scheduler. */
export interface Actor {
  name: string;
  role: 'viewer' | 'settler' | 'system';
}

export interface SettlementSettings {
  /** Two-person rule (OPERATOR_FOUR_EYES, on by default). */
  fourEyes: boolean;
  /** The operator's paying account (OPERATOR_DEBTOR_*), needed for pain.001 only. */
  debtor?: Debtor | undefined;
  /** Told of every stored reconciliation report (metrics). */
  onReconciled?: ((report: ReconciliationReport) => void) | undefined;
}

export interface BatchView {
  id: string;
  state: 'open' | 'paid';
  created_by: string;
  created_at: number;
  paid_by: string | null;
  paid_at: number | null;
  bank_reference: string | null;
  totals: BatchTotal[];
  obligation_ids: string[];
  skipped: { obligation_id: string; reason: string }[];
}

export interface ReconciliationSide {
  status: string;
  amount_minor: number;
  currency: string;
}

export interface ReconciliationItem {
  kind: ReconciliationKind;
  corrected: boolean;
  movement_id: string | null;
  verify_transfer_id: string | null;
  ledger: ReconciliationSide | null;
  verify: ReconciliationSide | null;
  note: string | null;
}

export interface ReconciliationReport {
  date: string;
  ran_at: number;
  ran_by: string;
  counts: ReconciliationCounts;
  items: ReconciliationItem[];
}

export const MAX_PAGE = 500;

export function obligationOf(row: ObligationRow): Obligation {
  return {
    id: row.id,
    state: row.state,
    amount_minor: Number(row.amount_minor),
    currency: row.currency,
    destination: { kind: row.dest_kind, iban: row.dest_iban, reference: row.dest_reference, name: row.dest_name },
    user_id: row.user_id,
    movement_id: row.movement_id,
    verify_transfer_id: row.verify_transfer_id,
    verify_reference: row.verify_reference,
    fx:
      row.fx_rate === null
        ? null
        : { rate: row.fx_rate, base: row.fx_base ?? '', quote: row.fx_quote ?? '', source_amount_minor: Number(row.source_amount_minor), source_currency: row.source_currency },
    batch_id: row.batch_id,
    bank_reference: row.bank_reference,
    paid_at: row.paid_at === null ? null : Number(row.paid_at),
    returned_reason: row.returned_reason,
    created_at: Number(row.created_at),
  };
}

export class SettlementService {
  constructor(
    private readonly ctx: DomainContext,
    private readonly settings: SettlementSettings,
  ) {}

  private get store() {
    return this.ctx.store.settlement;
  }

  private audit(actor: Actor, action: AuditDraft['action'], target: string | null, details: Record<string, unknown>): AuditDraft {
    return { actor: actor.name, role: actor.role, action, target, details };
  }

  async listObligations(filter: { state?: ObligationState; currency?: string; batch_id?: string; limit?: number; cursor?: string }): Promise<{ items: Obligation[]; next_cursor: string | null }> {
    const limit = pageSize(filter.limit);
    const rows = await this.store.listObligations({ state: filter.state, currency: filter.currency, batchId: filter.batch_id, limit: limit + 1, cursor: filter.cursor });
    return page(rows.map(obligationOf), limit, (o) => o.id);
  }

  async getObligation(id: string): Promise<Obligation> {
    const row = await this.store.getObligation(id);
    if (!row) throw new SettlementError('not_found', `obligation_id: no obligation ${id}`, 'obligation_id');
    return obligationOf(row);
  }

  /** Takes due obligations into a new batch (compare-and-set: an obligation is batched once). */
  async createBatch(actor: Actor, request: BatchRequest): Promise<BatchView> {
    const candidates = request.obligation_ids
      ? await this.store.listObligations({ ids: request.obligation_ids, limit: request.obligation_ids.length + 1 })
      : await this.store.listObligations({ state: 'due', currency: request.currency, limit: 10_000 });
    const plan = planBatch(candidates.map(obligationOf), request);
    const now = this.ctx.now();
    const batch: BatchRow = { id: newBatchId(), created_by: actor.name, created_at: now, paid_by: null, paid_at: null, bank_reference: null };
    const ids = plan.take.map((o) => o.id);
    const totals = batchTotals(plan.take);
    const result = await this.store.createBatch(batch, ids, this.audit(actor, 'batch_created', batch.id, { obligations: ids.length, totals, skipped: plan.skipped.length }), now);
    if (!result.ok) {
      // another operator or instance batched (or returned) one of them meanwhile
      throw new SettlementError('not_due', `obligation ${result.notDue[0]} is no longer due (batched by another request meanwhile); nothing was batched`, 'obligation_ids');
    }
    this.ctx.log.info({ batch: batch.id, actor: actor.name, obligations: ids.length }, 'batch created');
    return { ...(await this.getBatch(batch.id)), skipped: plan.skipped };
  }

  async getBatch(id: string): Promise<BatchView> {
    const batch = await this.store.getBatch(id);
    if (!batch) throw new SettlementError('not_found', `batch_id: no batch ${id}`, 'batch_id');
    const obligations = (await this.store.batchObligations(id)).map(obligationOf);
    return {
      id: batch.id,
      state: batch.paid_at === null ? 'open' : 'paid',
      created_by: batch.created_by,
      created_at: Number(batch.created_at),
      paid_by: batch.paid_by,
      paid_at: batch.paid_at === null ? null : Number(batch.paid_at),
      bank_reference: batch.bank_reference,
      totals: batchTotals(obligations),
      obligation_ids: obligations.map((o) => o.id),
      skipped: [],
    };
  }

  private async batchWithObligations(id: string): Promise<{ batch: BatchRow; obligations: Obligation[] }> {
    const batch = await this.store.getBatch(id);
    if (!batch) throw new SettlementError('not_found', `batch_id: no batch ${id}`, 'batch_id');
    return { batch, obligations: (await this.store.batchObligations(id)).map(obligationOf) };
  }

  async batchCsv(id: string): Promise<string> {
    return batchToCsv((await this.batchWithObligations(id)).obligations);
  }

  /** The batch as pain.001.001.09 (every obligation in it, a returned one included: the file is what was sent). */
  async batchPain001(id: string): Promise<string> {
    const { batch, obligations } = await this.batchWithObligations(id);
    const debtor = this.settings.debtor;
    if (!debtor) throw new SettlementError('invalid_batch', 'OPERATOR_DEBTOR_NAME and OPERATOR_DEBTOR_IBAN must be configured to write pain.001', 'debtor');
    return buildPain001({ batch, obligations, debtor, createdAt: this.ctx.now() });
  }

  /** Marks a batch paid: once, by another key than its creator's (two-person rule); a repeat with the same reference answers it again. */
  async markBatchPaid(actor: Actor, id: string, bankReference: string): Promise<BatchView> {
    if (typeof bankReference !== 'string' || bankReference.trim() === '' || bankReference.length > 35) {
      throw new SettlementError('invalid_request', 'bank_reference: must be 1 to 35 characters', 'bank_reference');
    }
    const batch = await this.store.getBatch(id);
    if (!batch) throw new SettlementError('not_found', `batch_id: no batch ${id}`, 'batch_id');
    checkFourEyes(batch, actor.name, this.settings.fourEyes);
    const now = this.ctx.now();
    const changed = await this.store.markBatchPaid(id, actor.name, bankReference, this.audit(actor, 'batch_paid', id, { bank_reference: bankReference }), now);
    const view = await this.getBatch(id);
    if (!changed && view.bank_reference !== bankReference) {
      throw new SettlementError('conflict', `batch ${id} was already marked paid with bank reference ${view.bank_reference}`, 'bank_reference');
    }
    if (changed) this.ctx.log.info({ batch: id, actor: actor.name }, 'batch paid');
    return view;
  }

  /**
   * The bank sent a payout back: the obligation is closed as returned and the customer's
   * ledger shows the credit cancelled and a refund (ledger.ts reads the obligation).
   */
  async markObligationReturned(actor: Actor, id: string, reason: string): Promise<Obligation> {
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500) throw new SettlementError('invalid_request', 'reason: must be 1 to 500 characters', 'reason');
    const before = await this.getObligation(id);
    const changed = await this.store.markObligationReturned(id, reason, this.audit(actor, 'obligation_returned', id, { reason, movement_id: before.movement_id }), this.ctx.now());
    const after = await this.getObligation(id);
    if (!changed && !(after.state === 'returned' && after.returned_reason === reason)) {
      throw new SettlementError(
        'conflict',
        after.state === 'returned' ? `obligation ${id} was already returned for another reason` : `obligation ${id} is ${after.state}: only a batched or paid obligation can be returned`,
        'obligation_id',
      );
    }
    if (changed) this.ctx.log.info({ obligation: id, movement: after.movement_id, actor: actor.name }, 'obligation returned');
    return after;
  }

  async listAudit(filter: { actor?: string; action?: string; from?: number; to?: number; limit?: number; cursor?: string }) {
    const limit = pageSize(filter.limit);
    const cursor = filter.cursor === undefined ? undefined : auditSeq(filter.cursor);
    const rows = await this.store.listAudit({ actor: filter.actor, action: filter.action, from: filter.from, to: filter.to, limit: limit + 1, cursor });
    return page(rows.map(auditEntryOf), limit, (e) => e.id);
  }

  async movementHistory(id: string): Promise<MovementEventRow[]> {
    return this.store.movementHistory(id);
  }

  // ---- reconciliation ------------------------------------------------------------------

  /**
   * Compares every movement created on the UTC day `date` with Verify's record (GET
   * transfer; the session's transfers), corrects "Verify succeeded, ledger behind" (the
   * ledger follows Verify and the obligation is created, in one transaction with its audit
   * row) and flags the rest. Stores the report (a re-run replaces it) and answers it.
   */
  async reconcileDay(actor: Actor, date: string): Promise<ReconciliationReport> {
    const from = dayStart(date);
    if (from > this.ctx.now()) throw new SettlementError('invalid_request', 'date: must not be in the future', 'date');
    // first what the movements' own recovery can finish (crashes, lost replies still open)
    await reconcile(this.ctx).catch((error) => this.ctx.log.warn({ err: (error as Error).name }, 'reconciliation: movement recovery failed; judging as is'));
    const movements = await this.ctx.store.settlement.movementsCreatedBetween(from, from + 86_400_000);
    const items: ReconciliationItem[] = [];
    let inFlight = 0;
    const recorded = new Set(movements.map((m) => m.verify_transfer_id).filter((id): id is string => id !== null));
    try {
      for (const m of movements) {
        const { transfer, others } = await this.verifyRecord(m);
        for (const other of others) {
          if (recorded.has(other.id)) continue;
          const j = unknownToLedger(other.id);
          items.push({ kind: 'verify_transfer_unknown_to_ledger', corrected: false, movement_id: null, verify_transfer_id: other.id, ledger: null, verify: sideOf(other), note: j.note });
        }
        const verify: VerifySide = transfer ? { found: true, id: transfer.id, status: transfer.status as 'succeeded', amount: transfer.amount, currency: transfer.currency } : { found: false };
        const ledger = { movement_id: m.id, status: m.status, amount_minor: Number(m.amount_minor), currency: m.currency, verify_transfer_id: m.verify_transfer_id };
        const j = judge(ledger, verify);
        if (j.kind === 'in_flight') {
          inFlight += 1;
          continue;
        }
        let corrected = false;
        let note = j.note;
        if (j.correctable && transfer) {
          const obligation = await this.correct(actor, m, transfer);
          corrected = obligation !== undefined;
          note = corrected ? `${j.note}; now processed with obligation ${obligation}` : `${j.note}; not corrected: another holder is driving the movement`;
        }
        items.push({
          kind: j.kind,
          corrected,
          movement_id: m.id,
          verify_transfer_id: transfer?.id ?? m.verify_transfer_id,
          ledger: { status: corrected ? 'processed' : m.status, amount_minor: Number(m.amount_minor), currency: m.currency },
          verify: transfer ? sideOf(transfer) : null,
          note,
        });
      }
    } catch (error) {
      if (error instanceof VerifyError) throw new SettlementError('upstream_unavailable', `Verify did not answer the reconciliation of ${date} (${error.kind}); run it again later`);
      throw error;
    }
    const counts = countItems(items);
    const report: ReconciliationReport = { date, ran_at: this.ctx.now(), ran_by: actor.name, counts, items };
    await this.store.saveReconciliationReport(
      { date, ran_at: report.ran_at, ran_by: actor.name, counts_json: JSON.stringify(counts), items_json: JSON.stringify(items) },
      this.audit(actor, 'reconciliation_run', date, { ...counts, in_flight: inFlight }),
    );
    for (const item of items) {
      if (item.kind !== 'matched' && !item.corrected) {
        this.ctx.log.warn({ date, kind: item.kind, movement: item.movement_id, verify_transfer: item.verify_transfer_id, note: item.note }, 'reconciliation mismatch needs a person');
      }
    }
    this.ctx.log.info({ date, actor: actor.name, ...counts, in_flight: inFlight }, 'reconciliation report stored');
    this.settings.onReconciled?.(report);
    return report;
  }

  /** Verify's transfer of a movement, and any other transfer in its session. */
  private async verifyRecord(m: Movement): Promise<{ transfer: VerifyTransfer | undefined; others: VerifyTransfer[] }> {
    const listed = m.verify_session_id ? await this.ctx.verify.listSessionTransfers(m.verify_session_id).catch(refusedAsNone) : undefined;
    let transfer: VerifyTransfer | undefined;
    if (m.verify_transfer_id) transfer = await this.ctx.verify.getTransfer(m.verify_transfer_id).catch(notFoundAsNone);
    else transfer = listed?.[0];
    const others = (listed ?? []).filter((t) => t.id !== transfer?.id);
    return { transfer, others };
  }

  /** The ledger follows Verify, under the movement's lease (a driver holding it finishes it itself). */
  private async correct(actor: Actor, m: Movement, transfer: VerifyTransfer): Promise<string | undefined> {
    const owner = newLeaseOwner(this.ctx);
    const now = this.ctx.now();
    if (!(await this.ctx.store.claimMovement(m.id, owner, now, now + leaseMs(this.ctx)))) return undefined;
    try {
      const current = await this.ctx.store.getMovement(m.id);
      if (!current) return undefined;
      if (current.status !== 'processed') {
        this.ctx.log.warn({ movement: m.id, was: current.status }, 'reconciliation: Verify completed a transfer the ledger had not; the ledger follows Verify');
        await this.ctx.store.updateMovement(
          m.id,
          { status: 'processed', verify_transfer_id: transfer.id, verify_reference_id: transfer.reference_id ?? current.verify_reference_id, verify_status: transfer.status, failure_reason: null, pending_json: null, completed_at: now },
          now,
          this.audit(actor, 'reconciliation_corrected', m.id, { was: current.status, verify_transfer_id: transfer.id }),
        );
        await this.ctx.store.invalidateAccounts(m.user_id);
      }
      return (await this.store.obligationOfMovement(m.id))?.id;
    } finally {
      await this.ctx.store.releaseMovement(m.id, owner).catch(() => {});
    }
  }

  async getReconciliation(date: string): Promise<ReconciliationReport> {
    dayStart(date);
    const row = await this.store.getReconciliationReport(date);
    if (!row) throw new SettlementError('not_found', `date: no reconciliation report for ${date}`, 'date');
    return { date: row.date, ran_at: Number(row.ran_at), ran_by: row.ran_by, counts: JSON.parse(row.counts_json), items: JSON.parse(row.items_json) };
  }

  async reconciliationCsv(date: string): Promise<string> {
    return reconciliationToCsv(await this.getReconciliation(date));
  }
}

export const RECONCILIATION_CSV_COLUMNS = [
  'kind', 'corrected', 'movement_id', 'verify_transfer_id', 'ledger_status', 'ledger_amount_minor', 'ledger_currency',
  'verify_status', 'verify_amount_minor', 'verify_currency', 'note',
] as const;

export function reconciliationToCsv(report: ReconciliationReport): string {
  const rows = [[...RECONCILIATION_CSV_COLUMNS] as string[]];
  for (const i of report.items) {
    rows.push([
      i.kind, String(i.corrected), i.movement_id ?? '', i.verify_transfer_id ?? '', i.ledger?.status ?? '', i.ledger ? String(i.ledger.amount_minor) : '', i.ledger?.currency ?? '',
      i.verify?.status ?? '', i.verify ? String(i.verify.amount_minor) : '', i.verify?.currency ?? '', i.note ?? '',
    ]);
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function sideOf(t: VerifyTransfer): ReconciliationSide {
  return { status: String(t.status), amount_minor: t.amount, currency: t.currency };
}

/** A session Verify no longer lists (4xx) has nothing to add; an outage still stops the run. */
function refusedAsNone(error: unknown): undefined {
  if (error instanceof VerifyError && error.status !== undefined && error.status >= 400 && error.status < 500) return undefined;
  throw error;
}

function notFoundAsNone(error: unknown): undefined {
  if (error instanceof VerifyError && error.status === 404) return undefined;
  throw error;
}

/** Epoch ms of a UTC day written YYYY-MM-DD; invalid_request naming `date` otherwise. */
export function dayStart(date: string): number {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new SettlementError('invalid_request', 'date: must be a date written YYYY-MM-DD', 'date');
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) throw new SettlementError('invalid_request', 'date: is not a calendar date', 'date');
  return ms;
}

export function previousUtcDay(now: number): string {
  return new Date(Math.floor(now / 86_400_000) * 86_400_000 - 86_400_000).toISOString().slice(0, 10);
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new SettlementError('invalid_request', `limit: must be an integer from 1 to ${MAX_PAGE}`, 'limit');
  return limit;
}

function page<T>(rows: T[], limit: number, key: (item: T) => string): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit ? key(items[items.length - 1]!) : null };
}

export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

function auditEntryOf(row: AuditRow): AuditEntry {
  return { id: `au-${String(row.seq).padStart(12, '0')}`, at: Number(row.at), actor: row.actor, role: row.role, action: row.action, target: row.target, details: JSON.parse(row.details_json) };
}

function auditSeq(cursor: string): string {
  if (!/^au-\d{1,15}$/.test(cursor)) throw new SettlementError('invalid_request', 'cursor: must be the next_cursor of a previous page', 'cursor');
  return String(Number(cursor.slice(3)));
}

export type { Obligation } from './types.js';
