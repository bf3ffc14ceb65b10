/**
 * Issue 11's "done when": one scripted day of the operator, on SQLite and PostgreSQL, through
 * the real Kasisto app and the real operator API (connector → Verify client → embedded
 * sandbox). Several customers move money (own transfers across currencies, payments), Verify
 * declines one, one reply is lost, one payout comes back. The day ends with one obligation
 * per processed movement, one batch exported as CSV and pain.001 whose sums equal the
 * ledger, paid by a second key (refused for the first), the customers' credits posted, and
 * a reconciliation with zero unexplained mismatches.
 *
 * The sandbox's USD and BHD account IBANs are Verify's documented values, whose mod-97 check
 * digits are wrong: credits to those accounts cannot go in a pain.001. They stay due, and the
 * day shows them refused with a clear error (createBatch naming them answers 409).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ibanCheckDigits } from '../../src/domain/settlement/iban.js';
import { PAIN001_NAMESPACE } from '../../src/domain/settlement/pain001.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';
import { createDatabase, postgresRequired, testPostgresUrl } from '../helpers/postgres.js';
import { loadSpec } from '../helpers/spec.js';

const OPERATOR_SPEC = loadSpec('spec/operator.yaml');
import defaultDirectory from '../../src/domain/default-directory.json' with { type: 'json' };

const iban = (bban: string) => `AE${ibanCheckDigits('AE', bban)}${bban}`;
const DEWA_IBAN = iban('0260001015333439101');
const ETISALAT_IBAN = iban('0350000000123456789');
const DEBTOR_IBAN = iban('0330000010000000001');
const KEYS = { alice: 'alice-settler-key-0123456789', bob: 'bob-settler-key-0123456789ab', carol: 'carol-viewer-key-0123456789a' };

const databases = [
  { name: 'SQLite', database: async () => ({ env: {}, drop: async () => {} }) },
  ...(testPostgresUrl() || postgresRequired
    ? [{ name: 'PostgreSQL', database: async () => { const db = await createDatabase(); return { env: { DATABASE_URL: db.url }, drop: db.drop }; } }]
    : []),
];

type Account = { account_id: string; currency_code: string; available_balance: number };
type Entry = { transaction_id: string; account_id: string; amount: number; currency_code: string; status: string; transaction_type: string; meta: { name: string; value: string }[] };

describe.each(databases)('the scripted day on $name', ({ name, database }) => {
  let c: TestConnector;
  let drop: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scripted-day-'));
    const directory = structuredClone(defaultDirectory) as { payees: { payee_id: string; iban?: string }[] };
    for (const p of directory.payees) {
      if (p.payee_id === 'payee_dewa') p.iban = DEWA_IBAN;
      if (p.payee_id === 'payee_etisalat') p.iban = ETISALAT_IBAN;
    }
    writeFileSync(join(dir, 'directory.json'), JSON.stringify(directory));
    const db = await database();
    drop = db.drop;
    c = await startTestConnector(
      {
        ...db.env,
        DIRECTORY_FILE: join(dir, 'directory.json'),
        OPERATOR_PORT: '0',
        OPERATOR_API_KEYS: `alice:settler:${KEYS.alice},bob:settler:${KEYS.bob},carol:viewer:${KEYS.carol}`,
        OPERATOR_DEBTOR_NAME: 'Operator Bank LLC',
        OPERATOR_DEBTOR_IBAN: DEBTOR_IBAN,
      },
      { dailyReconcileCheckMs: 0 },
    );
  }, 60_000);

  afterAll(async () => {
    await c?.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  // every answer is checked against spec/operator.yaml (status documented, body its schema)
  const op = async (method: 'GET' | 'POST', path: string, key: keyof typeof KEYS, body?: unknown) => {
    const res = await c.operatorApp!.inject({
      method,
      url: `/operator/v1${path}`,
      headers: { authorization: `Bearer ${KEYS[key]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!;
    OPERATOR_SPEC.assertResponse(`/operator/v1${path.split('?')[0]}`, method, res.statusCode, type === 'application/json' ? res.json() : res.body, type);
    return res;
  };

  async function accountsOf(token: string, userId: string): Promise<Account[]> {
    const res = await c.call('accounts', { user_id: userId }, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Account[];
  }
  const ofCurrency = (accounts: Account[], currency: string) => accounts.find((a) => a.currency_code === currency)!;

  it('runs the day and closes it', async () => {
    const processed: string[] = [];
    const ledgerOf = new Map<string, { token: string; userId: string }>();

    // --- customer 1 (test): own transfers across currencies and a payment ----------------
    const one = await c.signIn('test');
    let accounts = await accountsOf(one.token, one.userId);
    const usdToAed = await c.call('transfer', { user_id: one.userId, source_account_id: ofCurrency(accounts, 'USD').account_id, dest_account_id: ofCurrency(accounts, 'AED').account_id, amount: 1 }, { token: one.token });
    expect(usdToAed.json(), usdToAed.body).toMatchObject({ status: 'processed', meta: [] });
    processed.push(usdToAed.json().transfer_id);
    const aedToUsd = await c.call('transfer', { user_id: one.userId, source_account_id: ofCurrency(accounts, 'AED').account_id, dest_account_id: ofCurrency(accounts, 'USD').account_id, amount: 1.5 }, { token: one.token });
    expect(aedToUsd.json()).toMatchObject({ status: 'processed' });
    processed.push(aedToUsd.json().transfer_id);
    const dewa = await c.call('payment', { user_id: one.userId, source_account_id: ofCurrency(accounts, 'AED').account_id, payee_id: 'payee_dewa', amount: 1.2 }, { token: one.token });
    expect(dewa.json()).toMatchObject({ status: 'processed' });
    processed.push(dewa.json().payment_id);

    // --- the lost reply: Verify makes the transfer, its answer never arrives ---------------
    c.sandbox!.faults.set('createTransfer', { drop: true, afterHandler: true, times: 1 });
    const lost = await c.call('payment', { user_id: one.userId, source_account_id: ofCurrency(accounts, 'AED').account_id, payee_id: 'payee_etisalat', amount: 0.45 }, { token: one.token });
    c.sandbox!.faults.clear('createTransfer');
    expect(lost.statusCode, lost.body).toBe(200);
    expect(lost.json()).toMatchObject({ status: 'processed' });
    processed.push(lost.json().payment_id);
    ledgerOf.set('test', one);

    // --- customer 2 (test_transfer_otp): BHD → AED after a one-time password ---------------
    const two = await c.signIn('test_transfer_otp');
    accounts = await accountsOf(two.token, two.userId);
    const otpBody = { user_id: two.userId, source_account_id: ofCurrency(accounts, 'BHD').account_id, dest_account_id: ofCurrency(accounts, 'AED').account_id, amount: 0.125 };
    expect((await c.call('transfer', otpBody, { token: two.token })).statusCode).toBe(450);
    const validated = await c.call('validate_otp', { user_id: two.userId, otp: '1234' }, { token: two.token });
    expect(validated.statusCode, validated.body).toBe(200);
    const twoToken = validated.json().token as string;
    const bhd = await c.call('transfer', otpBody, { token: twoToken });
    expect(bhd.json()).toMatchObject({ status: 'processed' });
    processed.push(bhd.json().transfer_id);
    ledgerOf.set('test_transfer_otp', { token: twoToken, userId: two.userId });

    // --- customer 3 (test_transfer_failure): Verify declines; the reason is said -----------
    const three = await c.signIn('test_transfer_failure');
    accounts = await accountsOf(three.token, three.userId);
    const failed = await c.call('transfer', { user_id: three.userId, source_account_id: ofCurrency(accounts, 'AED').account_id, dest_account_id: ofCurrency(accounts, 'USD').account_id, amount: 2 }, { token: three.token });
    expect(failed.json()).toMatchObject({ status: 'failed', meta: [{ name: 'reason', value: 'The bank declined the transfer' }] });

    // --- obligations = processed movements ---------------------------------------------------
    const obligations = (await op('GET', '/obligations?limit=500', 'carol')).json().items as { id: string; movement_id: string; amount_minor: number; currency: string; state: string; destination: { iban: string | null }; fx: unknown }[];
    expect(obligations.map((o) => o.movement_id).sort()).toEqual([...processed].sort());
    expect(await c.ctx.store.settlement.countProcessedWithoutObligation()).toBe(0);
    const byMovement = new Map(obligations.map((o) => [o.movement_id, o]));
    // FX: 1.00 USD → 3.6725 AED → 3.67 AED (367 fils); 1.50 AED → 0.408… USD → 0.41 USD; 0.125 BHD → 1.22 AED
    expect(byMovement.get(usdToAed.json().transfer_id)).toMatchObject({ amount_minor: 367, currency: 'AED', fx: { rate: '3.6725', base: 'USD', quote: 'AED', source_amount_minor: 100, source_currency: 'USD' } });
    expect(byMovement.get(aedToUsd.json().transfer_id)).toMatchObject({ amount_minor: 41, currency: 'USD' });
    expect(byMovement.get(bhd.json().transfer_id)).toMatchObject({ amount_minor: 122, currency: 'AED' });

    // the USD credit's IBAN (Verify's documented sandbox value) fails mod-97: refused by name
    const usdObligation = byMovement.get(aedToUsd.json().transfer_id)!;
    const refused = await op('POST', '/batches', 'alice', { obligation_ids: [usdObligation.id] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'nothing_to_batch' });

    // --- one batch: a viewer may not, alice creates it ---------------------------------------
    expect((await op('POST', '/batches', 'carol', {})).statusCode).toBe(403);
    const created = await op('POST', '/batches', 'alice', { currency: 'AED' });
    expect(created.statusCode, created.body).toBe(201);
    const batch = created.json() as { id: string; totals: { currency: string; count: number; amount_minor: number }[]; obligation_ids: string[]; skipped: unknown[] };
    const batchedMovements = [usdToAed.json().transfer_id, dewa.json().payment_id, lost.json().payment_id, bhd.json().transfer_id];
    expect(batch.obligation_ids.sort()).toEqual(batchedMovements.map((m) => byMovement.get(m)!.id).sort());

    // sums equal to the ledger: the customers' AED entries for those movements
    const entries = new Map<string, Entry[]>();
    const readLedger = async () => {
      for (const [who, { token, userId }] of ledgerOf) {
        const res = await c.call('transactions', { user_id: userId, limit: 100 }, { token });
        expect(res.statusCode, res.body).toBe(200);
        entries.set(who, res.json() as Entry[]);
      }
      return [...entries.values()].flat();
    };
    let all = await readLedger();
    const ledgerSide = (movementId: string) =>
      all.find((e) => e.transaction_id === `${movementId}-credit`) ?? all.find((e) => e.transaction_id === `${movementId}-debit`)!;
    const ledgerAedMinor = batchedMovements.reduce((sum, m) => sum + Math.round(ledgerSide(m).amount * 100), 0);
    expect(batch.totals).toEqual([{ currency: 'AED', count: 4, amount_minor: ledgerAedMinor }]);
    // before payment the own-account credits are pending, in their account's currency
    expect(ledgerSide(usdToAed.json().transfer_id)).toMatchObject({ status: 'pending', currency_code: 'AED', amount: 3.67 });
    expect(all.find((e) => e.transaction_id === `${aedToUsd.json().transfer_id}-credit`)).toMatchObject({ currency_code: 'USD', amount: 0.41, status: 'pending' });

    const csv = await op('GET', `/batches/${batch.id}/csv`, 'carol');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = csv.body.trim().split('\r\n').slice(1).map((r) => r.split(','));
    expect(rows).toHaveLength(4);
    expect(rows.reduce((s, r) => s + Number(r[5]), 0)).toBe(ledgerAedMinor);

    const xml = await op('GET', `/batches/${batch.id}/pain001`, 'carol');
    expect(xml.statusCode, xml.body).toBe(200);
    expect(xml.body).toContain(`xmlns="${PAIN001_NAMESPACE}"`);
    expect(xml.body).toContain(`<MsgId>${batch.id}</MsgId>`);
    expect(xml.body).toContain(`<IBAN>${DEBTOR_IBAN}</IBAN>`);
    const ctrlSum = /<GrpHdr>[\s\S]*?<NbOfTxs>(\d+)<\/NbOfTxs>\s*<CtrlSum>([\d.]+)<\/CtrlSum>/.exec(xml.body)!;
    expect(Number(ctrlSum[1])).toBe(4);
    expect(Math.round(Number(ctrlSum[2]) * 100)).toBe(ledgerAedMinor);
    for (const id of batch.obligation_ids) expect(xml.body).toContain(`<EndToEndId>${id}</EndToEndId>`);

    // --- paid by a second key; the first is refused ---------------------------------------
    const byAlice = await op('POST', `/batches/${batch.id}/paid`, 'alice', { bank_reference: 'FT2633400123' });
    expect(byAlice.statusCode).toBe(403);
    expect(byAlice.json()).toMatchObject({ code: 'four_eyes' });
    const byBob = await op('POST', `/batches/${batch.id}/paid`, 'bob', { bank_reference: 'FT2633400123' });
    expect(byBob.statusCode, byBob.body).toBe(200);
    expect(byBob.json()).toMatchObject({ state: 'paid', paid_by: 'bob', created_by: 'alice', bank_reference: 'FT2633400123' });

    // --- one payout comes back: cancelled credit... here a payment: its refund entry --------
    const dewaObligation = byMovement.get(dewa.json().payment_id)!;
    const returned = await op('POST', `/obligations/${dewaObligation.id}/returned`, 'bob', { reason: 'AC04: account closed' });
    expect(returned.statusCode, returned.body).toBe(200);
    expect(returned.json()).toMatchObject({ state: 'returned', returned_reason: 'AC04: account closed' });

    all = await readLedger();
    // the customers' credits are posted once paid, in their account's currency
    expect(ledgerSide(usdToAed.json().transfer_id)).toMatchObject({ status: 'posted', currency_code: 'AED', amount: 3.67 });
    expect(ledgerSide(bhd.json().transfer_id)).toMatchObject({ status: 'posted', currency_code: 'AED', amount: 1.22 });
    expect(all.find((e) => e.transaction_id === `${dewa.json().payment_id}-refund`)).toMatchObject({ status: 'posted', transaction_type: 'credit', amount: 1.2, currency_code: 'AED' });
    // every credit is in its own account's currency
    const accountsByCustomer = await Promise.all([...ledgerOf.values()].map(({ token, userId }) => accountsOf(token, userId)));
    const currencyOf = new Map(accountsByCustomer.flat().map((a) => [a.account_id, a.currency_code]));
    for (const e of all.filter((x) => x.transaction_type === 'credit')) expect(e.currency_code).toBe(currencyOf.get(e.account_id));

    // --- the day's reconciliation -------------------------------------------------------
    const today = new Date().toISOString().slice(0, 10);
    const report = await op('POST', '/reconciliations', 'alice', { date: today });
    expect(report.statusCode, report.body).toBe(200);
    const r = report.json() as { counts: Record<string, number>; items: { kind: string }[] };
    expect(r.counts).toMatchObject({ total: 6, matched: 6, unexplained: 0 });
    expect((await op('GET', `/reconciliations/${today}`, 'carol')).json()).toEqual(report.json());
    const reportCsv = await op('GET', `/reconciliations/${today}/csv`, 'carol');
    expect(reportCsv.body.trim().split('\r\n')).toHaveLength(7);
    expect(await c.metrics.render().then((m) => m.body)).toMatch(/^connector_reconciliation_unexplained_mismatches 0$/m);

    // --- the audit log: who did what -----------------------------------------------------
    const audit = (await op('GET', '/audit', 'carol')).json().items as { actor: string; action: string }[];
    expect(audit.map((a) => `${a.actor}:${a.action}`)).toEqual(['alice:reconciliation_run', 'bob:obligation_returned', 'bob:batch_paid', 'alice:batch_created']);

    // --- history of a movement --------------------------------------------------------------
    const detail = (await op('GET', `/movements/${bhd.json().transfer_id}`, 'carol')).json();
    expect(detail.history.map((h: { status: string }) => h.status)).toEqual(['recorded', 'session_created', 'logged_in', 'transfer_requested', 'awaiting_transfer_otp', 'processed']);
    expect(detail.movement).toMatchObject({ obligation_id: byMovement.get(bhd.json().transfer_id)!.id, fx: { rate: '9.76728723' } });

    // for the closing note
    console.log(
      `[scripted day on ${name}] reconciliation ${today}: ${JSON.stringify(r.counts)}\n` +
        `[scripted day on ${name}] batch ${batch.id}: ${JSON.stringify(batch.totals)} (pain.001 NbOfTxs ${ctrlSum[1]}, CtrlSum ${ctrlSum[2]}), ` +
        `paid by bob (created by alice), ${batch.skipped.length} skipped; still due: ${obligations.filter((o) => !batch.obligation_ids.includes(o.id)).map((o) => `${o.amount_minor} ${o.currency}`).join(', ')}\n` +
        reportCsv.body,
    );
  }, 120_000);
});
