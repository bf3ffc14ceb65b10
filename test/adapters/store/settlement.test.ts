/**
 * The settlement tables on SQLite and PostgreSQL: exactly one obligation per processed
 * movement (whoever finishes it, however often), state history written by the database, an
 * audit log that refuses updates and deletes, and batching as a compare-and-set: two Stores
 * (two instances) batching the same due obligations at once never batch one twice.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../src/adapters/store/store.js';
import type { NewMovement } from '../../../src/adapters/store/schema.js';
import { newBatchId } from '../../../src/domain/settlement/ids.js';
import { testStores } from '../../helpers/postgres.js';

const stores = testStores('store-settlement');

let seq = 0;
function movement(overrides: Partial<NewMovement> = {}): NewMovement {
  seq += 1;
  const now = Date.now();
  return {
    id: `mv_settle_${seq}_${Math.random().toString(16).slice(2, 8)}`,
    user_id: 'usr_settle',
    grant_id: 'gr_settle',
    kind: 'transfer',
    idempotency_key: null,
    fingerprint: `fp_${seq}_${Math.random()}`,
    source_account_id: 'acct_src',
    source_iban: 'AE070331234567890123456',
    dest_type: 'payee',
    dest_id: 'payee_1',
    dest_name: 'Dubai Electricity',
    dest_iban: 'AE460260001015333439101',
    amount_minor: 150,
    currency: 'AED',
    description: 'Payment',
    requested_date: null,
    category: 'payments',
    status: 'recorded',
    verify_session_id: 'ses_1',
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
    ...overrides,
  };
}

const audit = { actor: 'test', role: 'system' as const, action: 'batch_created' as const, target: null, details: {} };

describe.each(stores)('settlement tables on $name', ({ name, database }) => {
  let drop: () => Promise<void>;
  let a: Store;
  let b: Store;

  beforeAll(async () => {
    const db = await database();
    drop = db.drop;
    a = await Store.open(db.url);
    // Two instances share PostgreSQL. SQLite is one process's database (README's limits):
    // two connections of one thread would only wait on each other, so there the races run
    // through one Store, concurrently all the same.
    b = name === 'PostgreSQL' ? await Store.open(db.url) : a;
  });
  afterAll(async () => {
    if (b !== a) await b?.close();
    await a?.close();
    await drop?.();
  });

  async function processed(overrides: Partial<NewMovement> = {}): Promise<string> {
    const m = movement(overrides);
    await a.recordMovement(m, 0, 0);
    await a.updateMovement(m.id, { status: 'processed', verify_transfer_id: `tr_${m.id}`, completed_at: Date.now() }, Date.now());
    return m.id;
  }

  it('a processed movement gets exactly one obligation, however often and by whichever instance it is finished', async () => {
    const m = movement({ dest_type: 'account', dest_id: 'acct_usd', dest_currency: 'USD', dest_amount_minor: 41, fx_rate: '3.6725', fx_base: 'USD', fx_quote: 'AED' });
    await a.recordMovement(m, 0, 0);
    const patch = { status: 'processed' as const, verify_transfer_id: 'tr_once', verify_reference_id: 'REF1' };
    await Promise.all([a.updateMovement(m.id, patch, Date.now()), b.updateMovement(m.id, patch, Date.now()), a.updateMovement(m.id, patch, Date.now())]);
    const rows = await a.db.selectFrom('obligations').selectAll().where('movement_id', '=', m.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'due', amount_minor: 41, currency: 'USD', source_amount_minor: 150, source_currency: 'AED', fx_rate: '3.6725', dest_kind: 'own_account', verify_transfer_id: 'tr_once', verify_reference: 'REF1' });
    // the database itself refuses a second one
    await expect(a.db.insertInto('obligations').values({ ...rows[0]!, id: 'ob-second' }).execute()).rejects.toThrow();
  });

  it('a movement that fails leaves no obligation', async () => {
    const m = movement();
    await a.recordMovement(m, 0, 0);
    await a.updateMovement(m.id, { status: 'failed', failure_reason: 'the bank declined the transfer' }, Date.now());
    expect(await a.settlement.obligationOfMovement(m.id)).toBeUndefined();
  });

  it('records every status change of a movement as its history, with the reason', async () => {
    const m = movement();
    await a.recordMovement(m, 0, 0);
    await a.updateMovement(m.id, { status: 'session_created' }, Date.now());
    await a.updateMovement(m.id, { verify_session_id: 'ses_2' }, Date.now()); // no status change: no event
    await a.updateMovement(m.id, { status: 'failed', failure_reason: 'the bank refused the sign-in' }, Date.now());
    const history = await a.settlement.movementHistory(m.id);
    expect(history.map((h) => h.status)).toEqual(['recorded', 'session_created', 'failed']);
    expect(history[2]!.reason).toBe('the bank refused the sign-in');
  });

  it('the audit log is append-only in the database', async () => {
    await a.settlement.appendAudit({ ...audit, action: 'fx_rates_reloaded' }, Date.now());
    await expect(sql`update audit_log set actor = 'mallory'`.execute(a.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(a.db)).rejects.toThrow(/append-only/);
    expect((await a.settlement.listAudit({ limit: 10 })).length).toBeGreaterThan(0);
  });

  it('two instances batching the same due obligations at once never batch one twice', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await a.settlement.obligationOfMovement(await processed()))!.id);
    for (let round = 0; round < 5; round++) {
      const [x, y] = await Promise.all(
        [a, b].map((store) =>
          store.settlement.createBatch({ id: newBatchId(), created_by: 'k', created_at: Date.now(), paid_by: null, paid_at: null, bank_reference: null }, ids, audit, Date.now()),
        ),
      );
      if (round === 0) expect([x!.ok, y!.ok].filter(Boolean)).toHaveLength(1);
      else expect([x!.ok, y!.ok]).toEqual([false, false]);
    }
    const rows = await a.settlement.listObligations({ ids, limit: 100 });
    expect(new Set(rows.map((r) => r.batch_id)).size).toBe(1);
    expect(rows.every((r) => r.state === 'batched')).toBe(true);
    const batches = await a.db.selectFrom('batches').select('id').where('id', '=', rows[0]!.batch_id!).execute();
    expect(batches).toHaveLength(1);
  });

  it('paid and returned are compare-and-set: a second attempt changes nothing', async () => {
    const ob = (await a.settlement.obligationOfMovement(await processed()))!;
    const batchId = newBatchId();
    expect((await a.settlement.createBatch({ id: batchId, created_by: 'alice', created_at: Date.now(), paid_by: null, paid_at: null, bank_reference: null }, [ob.id], audit, Date.now())).ok).toBe(true);
    const paid = await Promise.all([a, b].map((s) => s.settlement.markBatchPaid(batchId, 'bob', 'FT1', { ...audit, action: 'batch_paid' }, Date.now())));
    expect(paid.filter(Boolean)).toHaveLength(1);
    expect((await a.settlement.getObligation(ob.id))!.state).toBe('paid');
    const returned = await Promise.all([a, b].map((s) => s.settlement.markObligationReturned(ob.id, 'AC04', { ...audit, action: 'obligation_returned' }, Date.now())));
    expect(returned.filter(Boolean)).toHaveLength(1);
    expect((await a.settlement.getObligation(ob.id))!).toMatchObject({ state: 'returned', returned_reason: 'AC04' });
  });

  it('lists obligations and movements newest first, page after page', async () => {
    const movementIds: string[] = [];
    for (let i = 0; i < 5; i++) movementIds.push(await processed({ user_id: 'usr_pages', created_at: Date.now() + 1_000_000 + i }));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await a.settlement.listMovements({ userId: 'usr_pages', limit: 2, cursor });
      seen.push(...page.map((m) => m.id));
      if (page.length < 2) break;
      cursor = page[page.length - 1]!.id;
    }
    expect(seen).toEqual([...movementIds].reverse());
    const obligations = await a.settlement.listObligations({ limit: 1000 });
    const times = obligations.map((o) => Number(o.created_at));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const first = await a.settlement.listObligations({ limit: 3 });
    const next = await a.settlement.listObligations({ limit: 3, cursor: first[2]!.id });
    expect(next[0]!.id).toBe(obligations[3]!.id);
  });

  it('the ledger sees obligation changes at once (its version moves)', async () => {
    const id = await processed({ user_id: 'usr_ledger_v' });
    const before = await a.ledgerVersion('usr_ledger_v');
    const rows = await a.listLedger({ userId: 'usr_ledger_v', limit: 10 });
    expect(rows.find((r) => r.id === id)?.obligation_state).toBe('due');
    const ob = (await a.settlement.obligationOfMovement(id))!;
    await a.settlement.createBatch({ id: newBatchId(), created_by: 'k', created_at: Date.now(), paid_by: null, paid_at: null, bank_reference: null }, [ob.id], audit, Date.now());
    expect(await a.ledgerVersion('usr_ledger_v')).toBeGreaterThan(before);
    expect((await a.listLedger({ userId: 'usr_ledger_v', limit: 10 })).find((r) => r.id === id)?.obligation_state).toBe('batched');
  });
});
