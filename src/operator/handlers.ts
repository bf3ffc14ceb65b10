/**
 * One handler per operationId of spec/operator.yaml: read the request, call the settlement
 * service (or the store for plain reads), shape the answer the spec describes (times as ISO
 * 8601 UTC, money in minor units). The caller (key name and role) was set by app.ts.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Movement } from '../adapters/store/store.js';
import type { DomainContext } from '../domain/context.js';
import { userIdFor } from '../domain/crypto.js';
import { SettlementError } from '../domain/settlement/errors.js';
import { MAX_PAGE, type Actor, type BatchView, type ReconciliationReport, type SettlementService } from '../domain/settlement/service.js';
import type { Obligation } from '../domain/settlement/types.js';
import type { operations } from '../../generated/operator.js';

export type OperationId = keyof operations;

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, unknown>; Body: Record<string, unknown> | undefined }>;
type Handler = (request: Req, reply: FastifyReply) => Promise<unknown>;

export interface OperatorDeps {
  ctx: DomainContext;
  service: SettlementService;
  /** Circuit breaker state in front of Verify (dashboard). */
  circuitState: () => 'closed' | 'half_open' | 'open';
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const actorOf = (request: FastifyRequest): Actor => request.operatorKey!;

function timeParam(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new SettlementError('invalid_request', `${field}: must be an ISO 8601 date-time`, field);
  return ms;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

export function obligationBody(o: Obligation) {
  return { ...o, paid_at: iso(o.paid_at), created_at: iso(o.created_at)! };
}

function batchBody(b: BatchView) {
  return { ...b, created_at: iso(b.created_at)!, paid_at: iso(b.paid_at) };
}

function reportBody(r: ReconciliationReport) {
  return { ...r, ran_at: iso(r.ran_at)! };
}

function movementBody(m: Movement, obligationId: string | null) {
  return {
    id: m.id,
    kind: m.kind,
    status: m.status,
    user_id: m.user_id,
    source_account_id: m.source_account_id,
    destination: { kind: m.dest_type === 'account' ? 'own_account' : 'payee', iban: m.dest_iban, reference: null, name: m.dest_name },
    amount_minor: Number(m.amount_minor),
    currency: m.currency,
    fx: m.fx_rate === null ? null : { rate: m.fx_rate, base: m.fx_base ?? '', quote: m.fx_quote ?? '', source_amount_minor: Number(m.amount_minor), source_currency: m.currency },
    verify_session_id: m.verify_session_id,
    verify_transfer_id: m.verify_transfer_id,
    verify_reference: m.verify_reference_id,
    failure_reason: m.failure_reason,
    obligation_id: obligationId,
    created_at: iso(m.created_at)!,
    updated_at: iso(m.updated_at)!,
    completed_at: iso(m.completed_at),
  };
}

function limitOf(query: Record<string, unknown>): number {
  const limit = num(query.limit) ?? 100;
  return Math.min(Math.max(1, limit), MAX_PAGE);
}

export function operatorHandlers({ ctx, service, circuitState }: OperatorDeps): Record<OperationId, Handler> {
  const store = ctx.store.settlement;
  return {
    async getSummary() {
      const now = ctx.now();
      const from = Math.floor(now / 86_400_000) * 86_400_000;
      const today = await store.movementsCreatedBetween(from, from + 86_400_000);
      const byStatus = { processed: 0, failed: 0, cancelled: 0, in_flight: 0 };
      for (const m of today) {
        if (m.status === 'processed' || m.status === 'failed' || m.status === 'cancelled') byStatus[m.status] += 1;
        else byStatus.in_flight += 1;
      }
      const last = await store.latestReconciliationReport();
      return {
        generated_at: iso(now),
        movements_today: { date: iso(from)!.slice(0, 10), by_status: byStatus },
        obligations_open: await store.openObligationTotals(),
        last_reconciliation: last ? { date: last.date, ran_at: iso(Number(last.ran_at)), unexplained: JSON.parse(last.counts_json).unexplained } : null,
        circuit: circuitState(),
      };
    },

    async getCustomerPseudonym(request) {
      // computed only: the username is neither stored nor logged (the access line has no query string)
      const bankId = str(request.query.bank_id) ?? ctx.config.verifyBankId;
      return { user_id: userIdFor(ctx.keys, bankId, String(request.query.username)), bank_id: bankId };
    },

    async listMovements(request) {
      const q = request.query;
      if (q.username !== undefined && q.user_id !== undefined) throw new SettlementError('invalid_request', 'username: give username or user_id, not both', 'username');
      const userId = q.username !== undefined ? userIdFor(ctx.keys, ctx.config.verifyBankId, String(q.username)) : str(q.user_id);
      const limit = limitOf(q);
      const rows = await store.listMovements({ status: str(q.status), userId, from: timeParam(q.from, 'from'), to: timeParam(q.to, 'to'), limit: limit + 1, cursor: str(q.cursor) });
      const items = rows.slice(0, limit);
      const obligations = await store.obligationIdsOf(items.map((m) => m.id));
      return { items: items.map((m) => movementBody(m, obligations.get(m.id) ?? null)), next_cursor: rows.length > limit ? items[items.length - 1]!.id : null };
    },

    async getMovement(request) {
      const m = await ctx.store.getMovement(request.params.movement_id!);
      if (!m) throw new SettlementError('not_found', `movement_id: no movement ${request.params.movement_id}`, 'movement_id');
      const obligation = await store.obligationOfMovement(m.id);
      const history = await service.movementHistory(m.id);
      return { movement: movementBody(m, obligation?.id ?? null), history: history.map((h) => ({ status: h.status, at: iso(Number(h.at)), reason: h.reason })) };
    },

    async listObligations(request) {
      const q = request.query;
      const page = await service.listObligations({
        ...(q.state !== undefined ? { state: q.state as Obligation['state'] } : {}),
        ...(q.currency !== undefined ? { currency: String(q.currency) } : {}),
        ...(q.batch_id !== undefined ? { batch_id: String(q.batch_id) } : {}),
        limit: limitOf(q),
        ...(q.cursor !== undefined ? { cursor: String(q.cursor) } : {}),
      });
      return { items: page.items.map(obligationBody), next_cursor: page.next_cursor };
    },

    async markObligationReturned(request) {
      return obligationBody(await service.markObligationReturned(actorOf(request), request.params.obligation_id!, String(request.body?.reason)));
    },

    async createBatch(request, reply) {
      const body = request.body ?? {};
      const batch = await service.createBatch(actorOf(request), {
        ...(body.currency !== undefined ? { currency: String(body.currency) } : {}),
        ...(body.obligation_ids !== undefined ? { obligation_ids: body.obligation_ids as string[] } : {}),
      });
      reply.code(201).header('location', `/operator/v1/batches/${batch.id}`);
      return batchBody(batch);
    },

    async getBatch(request) {
      return batchBody(await service.getBatch(request.params.batch_id!));
    },

    async getBatchCsv(request, reply) {
      return download(reply, 'text/csv', `${request.params.batch_id}.csv`, await service.batchCsv(request.params.batch_id!));
    },

    async getBatchPain001(request, reply) {
      return download(reply, 'application/xml', `${request.params.batch_id}.xml`, await service.batchPain001(request.params.batch_id!));
    },

    async markBatchPaid(request) {
      return batchBody(await service.markBatchPaid(actorOf(request), request.params.batch_id!, String(request.body?.bank_reference)));
    },

    async runReconciliation(request) {
      return reportBody(await service.reconcileDay(actorOf(request), String(request.body?.date)));
    },

    async getReconciliation(request) {
      return reportBody(await service.getReconciliation(request.params.date!));
    },

    async getReconciliationCsv(request, reply) {
      return download(reply, 'text/csv', `reconciliation-${request.params.date}.csv`, await service.reconciliationCsv(request.params.date!));
    },

    async listAudit(request) {
      const q = request.query;
      const page = await service.listAudit({
        ...(q.actor !== undefined ? { actor: String(q.actor) } : {}),
        ...(q.action !== undefined ? { action: String(q.action) } : {}),
        ...(q.from !== undefined ? { from: timeParam(q.from, 'from')! } : {}),
        ...(q.to !== undefined ? { to: timeParam(q.to, 'to')! } : {}),
        limit: limitOf(q),
        ...(q.cursor !== undefined ? { cursor: String(q.cursor) } : {}),
      });
      return { items: page.items.map((e) => ({ ...e, at: iso(e.at) })), next_cursor: page.next_cursor };
    },
  };
}

/** Operations that change money or its records: role settler. */
export const SETTLER_OPERATIONS: ReadonlySet<string> = new Set(['createBatch', 'markBatchPaid', 'markObligationReturned', 'runReconciliation']);

/** A file to save (CSV, pain.001): its media type and the name the browser saves it under. */
function download(reply: FastifyReply, mediaType: string, filename: string, body: string): string {
  reply.type(`${mediaType}; charset=utf-8`).header('content-disposition', `attachment; filename="${filename}"`);
  return body;
}
