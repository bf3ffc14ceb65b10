/**
 * The settlement tables (issue 11, docs/settlement-design.md): obligations, batches,
 * reconciliation reports, the append-only audit log and movements' state history. Every
 * state change is a compare-and-set (`… where state = 'due'`) in one transaction with its
 * audit row, so instances racing each other never batch, pay or return an obligation twice.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { newObligationId } from '../../domain/settlement/ids.js';
import type { AuditRow, BatchRow, Database, Movement, MovementEventRow, ObligationRow, ReconciliationReportRow } from './schema.js';

export type { AuditRow, BatchRow, MovementEventRow, ObligationRow, ReconciliationReportRow } from './schema.js';

/** One operator action, written in the same transaction as the change it records. */
export interface AuditDraft {
  actor: string;
  role: 'viewer' | 'settler' | 'system';
  action: 'batch_created' | 'batch_paid' | 'obligation_returned' | 'reconciliation_run' | 'reconciliation_corrected' | 'fx_rates_reloaded';
  target: string | null;
  details: Record<string, unknown>;
}

export interface Page {
  limit: number;
  /** the last id (or seq) of the previous page: lists are newest first */
  cursor?: string | undefined;
}

type Db = Kysely<Database> | Transaction<Database>;

export async function insertAudit(db: Db, audit: AuditDraft, now: number): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ at: now, actor: audit.actor, role: audit.role, action: audit.action, target: audit.target, details_json: JSON.stringify(audit.details) })
    .execute();
}

/**
 * The obligation a processed movement leaves, inserted unless it already has one (the unique
 * index on movement_id: a retry, a reconciliation or another instance finishing the same
 * movement adds nothing).
 */
export async function insertObligationOf(db: Db, m: Movement, now: number): Promise<void> {
  await db
    .insertInto('obligations')
    .values({
      id: newObligationId(),
      movement_id: m.id,
      user_id: m.user_id,
      state: 'due',
      amount_minor: m.dest_amount_minor ?? m.amount_minor,
      currency: m.dest_currency ?? m.currency,
      dest_kind: m.dest_type === 'account' ? 'own_account' : 'payee',
      dest_iban: m.dest_iban,
      dest_reference: null,
      dest_name: m.dest_name,
      verify_transfer_id: m.verify_transfer_id ?? '',
      verify_reference: m.verify_reference_id,
      fx_rate: m.fx_rate,
      fx_base: m.fx_base,
      fx_quote: m.fx_quote,
      source_amount_minor: m.amount_minor,
      source_currency: m.currency,
      batch_id: null,
      bank_reference: null,
      paid_at: null,
      returned_reason: null,
      returned_at: null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('movement_id').doNothing())
    .execute();
}

export interface ObligationFilter extends Page {
  state?: ObligationRow['state'] | undefined;
  currency?: string | undefined;
  batchId?: string | undefined;
  ids?: readonly string[] | undefined;
}

export interface MovementFilter extends Page {
  status?: string | undefined;
  userId?: string | undefined;
  /** created at or after, epoch ms */
  from?: number | undefined;
  /** created before, epoch ms */
  to?: number | undefined;
}

export interface AuditFilter extends Page {
  actor?: string | undefined;
  action?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

export class SettlementStore {
  constructor(private readonly db: Kysely<Database>) {}

  async listObligations(filter: ObligationFilter): Promise<ObligationRow[]> {
    let q = this.db.selectFrom('obligations').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.currency) q = q.where('currency', '=', filter.currency);
    if (filter.batchId) q = q.where('batch_id', '=', filter.batchId);
    if (filter.ids) q = filter.ids.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('id', 'in', filter.ids);
    if (filter.cursor) {
      // newest first: after the cursor's (created_at, id), the order of the page
      const at = (await this.db.selectFrom('obligations').select('created_at').where('id', '=', filter.cursor).executeTakeFirst())?.created_at;
      if (at === undefined) return [];
      const cursor = filter.cursor;
      q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', cursor)])]));
    }
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  }

  async getObligation(id: string): Promise<ObligationRow | undefined> {
    return this.db.selectFrom('obligations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async obligationOfMovement(movementId: string): Promise<ObligationRow | undefined> {
    return this.db.selectFrom('obligations').selectAll().where('movement_id', '=', movementId).executeTakeFirst();
  }

  async countProcessedWithoutObligation(): Promise<number> {
    const row = await this.db
      .selectFrom('movements')
      .leftJoin('obligations', 'obligations.movement_id', 'movements.id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('movements.status', '=', 'processed')
      .where('obligations.id', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * A new batch of due obligations: every named one must still be due at the moment of the
   * update (compare-and-set), or nothing is written and the ids that were not are returned.
   */
  async createBatch(batch: BatchRow, obligationIds: readonly string[], audit: AuditDraft, now: number): Promise<{ ok: true } | { ok: false; notDue: string[] }> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('batches').values(batch).execute();
        const updated = await trx
          .updateTable('obligations')
          .set({ state: 'batched', batch_id: batch.id, updated_at: now })
          .where('id', 'in', obligationIds)
          .where('state', '=', 'due')
          .returning('id')
          .execute();
        if (updated.length !== obligationIds.length) {
          const taken = new Set(updated.map((r) => r.id));
          throw new NotDue(obligationIds.filter((id) => !taken.has(id)));
        }
        await insertAudit(trx, audit, now);
      });
      return { ok: true };
    } catch (error) {
      if (error instanceof NotDue) return { ok: false, notDue: error.ids };
      throw error;
    }
  }

  async getBatch(id: string): Promise<BatchRow | undefined> {
    return this.db.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async batchObligations(batchId: string): Promise<ObligationRow[]> {
    return this.db.selectFrom('obligations').selectAll().where('batch_id', '=', batchId).orderBy('id').execute();
  }

  /** Marks a batch and its batched obligations paid, once; false when it was paid already. */
  async markBatchPaid(batchId: string, paidBy: string, bankReference: string, audit: AuditDraft, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('batches')
        .set({ paid_by: paidBy, paid_at: now, bank_reference: bankReference })
        .where('id', '=', batchId)
        .where('paid_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await trx
        .updateTable('obligations')
        .set({ state: 'paid', bank_reference: bankReference, paid_at: now, updated_at: now })
        .where('batch_id', '=', batchId)
        .where('state', '=', 'batched')
        .execute();
      await insertAudit(trx, audit, now);
      return true;
    });
  }

  /** batched or paid → returned, once; false when it was not in one of those states. */
  async markObligationReturned(id: string, reason: string, audit: AuditDraft, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('obligations')
        .set({ state: 'returned', returned_reason: reason, returned_at: now, updated_at: now })
        .where('id', '=', id)
        .where('state', 'in', ['batched', 'paid'])
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await insertAudit(trx, audit, now);
      return true;
    });
  }

  /** Stores a day's report (a re-run replaces it; the audit log keeps every run). */
  async saveReconciliationReport(report: ReconciliationReportRow, audit: AuditDraft): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('reconciliation_reports')
        .values(report)
        .onConflict((oc) => oc.column('date').doUpdateSet({ ran_at: report.ran_at, ran_by: report.ran_by, counts_json: report.counts_json, items_json: report.items_json }))
        .execute();
      await insertAudit(trx, audit, report.ran_at);
    });
  }

  async getReconciliationReport(date: string): Promise<ReconciliationReportRow | undefined> {
    return this.db.selectFrom('reconciliation_reports').selectAll().where('date', '=', date).executeTakeFirst();
  }

  async latestReconciliationReport(): Promise<ReconciliationReportRow | undefined> {
    return this.db.selectFrom('reconciliation_reports').selectAll().orderBy('date', 'desc').limit(1).executeTakeFirst();
  }

  async appendAudit(audit: AuditDraft, now: number): Promise<void> {
    await insertAudit(this.db, audit, now);
  }

  async listAudit(filter: AuditFilter): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (filter.actor) q = q.where('actor', '=', filter.actor);
    if (filter.action) q = q.where('action', '=', filter.action);
    if (filter.from !== undefined) q = q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('at', '<', filter.to);
    if (filter.cursor) q = q.where('seq', '<', Number(filter.cursor));
    return q.orderBy('seq', 'desc').limit(filter.limit).execute();
  }

  async movementHistory(movementId: string): Promise<MovementEventRow[]> {
    return this.db.selectFrom('movement_events').selectAll().where('movement_id', '=', movementId).orderBy('seq').execute();
  }

  async listMovements(filter: MovementFilter): Promise<Movement[]> {
    let q = this.db.selectFrom('movements').selectAll();
    if (filter.status) q = q.where('status', '=', filter.status as Movement['status']);
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    if (filter.from !== undefined) q = q.where('created_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('created_at', '<', filter.to);
    if (filter.cursor) {
      const at = (await this.db.selectFrom('movements').select('created_at').where('id', '=', filter.cursor).executeTakeFirst())?.created_at;
      if (at === undefined) return [];
      const cursor = filter.cursor;
      q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', cursor)])]));
    }
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  }

  /** Every movement created in [from, to), oldest first (a reconciliation day). */
  async movementsCreatedBetween(from: number, to: number): Promise<Movement[]> {
    return this.db.selectFrom('movements').selectAll().where('created_at', '>=', from).where('created_at', '<', to).orderBy('created_at').execute();
  }

  /** Movements with their obligation ids, for the operator API. */
  async obligationIdsOf(movementIds: readonly string[]): Promise<Map<string, string>> {
    if (movementIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('obligations').select(['id', 'movement_id']).where('movement_id', 'in', movementIds).execute();
    return new Map(rows.map((r) => [r.movement_id, r.id]));
  }

  /** Open obligations per currency and state (the dashboard). */
  async openObligationTotals(): Promise<{ currency: string; state: string; count: number; amount_minor: number }[]> {
    const rows = await this.db
      .selectFrom('obligations')
      .select((eb) => ['currency', 'state', eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('amount_minor').as('amount_minor')])
      .where('state', 'in', ['due', 'batched'])
      .groupBy(['currency', 'state'])
      .orderBy('currency')
      .orderBy('state')
      .execute();
    return rows.map((r) => ({ currency: r.currency, state: r.state, count: Number(r.count), amount_minor: Number(r.amount_minor) }));
  }
}

class NotDue extends Error {
  constructor(readonly ids: string[]) {
    super('not due');
  }
}
