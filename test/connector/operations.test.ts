/**
 * The ten Kasisto operations end to end: connector → Verify client → embedded sandbox.
 * Every answer is also checked against spec/kasisto/1.0.yaml.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';
import { createDatabase, postgresRequired, testPostgresUrl } from '../helpers/postgres.js';
import { checkedCalls } from '../helpers/kasisto-contract.js';

const stores = [
  { name: 'SQLite', database: async () => undefined },
  ...(testPostgresUrl() || postgresRequired ? [{ name: 'PostgreSQL', database: createDatabase }] : []),
];

describe.each(stores)('on $name', ({ database }) => {
let c: TestConnector;
let dropDatabase: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const db = await database();
  dropDatabase = db?.drop;
  c = await startTestConnector(db ? { DATABASE_URL: db.url } : {});
});
afterAll(async () => {
  await c?.close();
  await dropDatabase?.();
});

const { call, accountsOf } = checkedCalls(() => c);



describe('secret and token', () => {
  it('answers 401 for a wrong or missing secret before anything else', async () => {
    const wrong = await c.app.inject({ method: 'POST', url: '/api/transfer', headers: { secret: 'nope', 'content-type': 'application/json' }, payload: '{broken' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'unauthorized' });
    const missing = await c.app.inject({ method: 'POST', url: '/api/no_such_operation' });
    expect(missing.statusCode).toBe(401);
  });

  it('answers 403 for a missing, unknown or foreign token', async () => {
    const { userId, token } = await c.signIn('test');
    expect((await call('customer', { user_id: userId })).statusCode).toBe(403);
    expect((await call('customer', { user_id: userId }, { token: 'x'.repeat(43) })).statusCode).toBe(403);
    const other = await c.signIn('test_transfer_failure');
    const res = await call('customer', { user_id: other.userId }, { token });
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toMatch(/user_id/);
  });

  it('refuses bad bank credentials with 403 and names missing fields with 400', async () => {
    expect((await call('token', { username: 'failure', password: 'test_pass' })).statusCode).toBe(403);
    expect((await call('token', { username: 'test', password: 'wrong' })).statusCode).toBe(403);
    const missing = await call('token', { password: 'test_pass' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toMatch(/^username/);
  });

  it('gives the same pseudonymous user_id at every sign-in, never the username', async () => {
    const a = await c.signIn('test');
    const b = await c.signIn('test');
    expect(a.userId).toBe(b.userId);
    expect(a.token).not.toBe(b.token);
    expect(a.userId).not.toContain('test');
  });
});

describe('customer, accounts, directory', () => {
  it('lists the three accounts with stable ids, masked numbers and exact balances', async () => {
    const first = await c.signIn('test');
    const accounts = await accountsOf(first.token, first.userId);
    expect(accounts).toHaveLength(3);
    for (const a of accounts) {
      expect(a.account_number).toMatch(/^\*+\d{4}$/);
      expect(a.account_id).toMatch(/^acct_[0-9a-f]{16}$/);
    }
    const aed = accounts.find((a) => a.currency_code === 'AED')!;
    expect(aed.account_type).toBe('checking');
    const second = await c.signIn('test');
    const again = await accountsOf(second.token, second.userId);
    expect(again.map((a) => a.account_id).sort()).toEqual(accounts.map((a) => a.account_id).sort());
    const filtered = await call('accounts', { user_id: first.userId, account_id: aed.account_id }, { token: first.token });
    expect(filtered.json()).toHaveLength(1);
  });

  it('answers customer, categories, payees and merchants', async () => {
    const { userId, token } = await c.signIn('test');
    const customer = await call('customer', { user_id: userId }, { token });
    expect(customer.json()).toMatchObject({ user_id: userId, meta: [] });
    const categories = (await call('categories', { user_id: userId }, { token })).json();
    expect(categories.map((x: { category_id: string }) => x.category_id)).toContain('transfers');
    const payees = (await call('payees', { user_id: userId }, { token })).json();
    expect(payees.map((x: { payee_id: string }) => x.payee_id)).toContain('payee_dewa');
    const merchants = await call('merchants', { user_id: userId }, { token });
    expect(merchants.statusCode).toBe(200);
  });

  it('answers 404 with the error body for an unknown operation', async () => {
    const res = await c.app.inject({ method: 'POST', url: '/api/balance', headers: { secret: TEST_SECRET } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not_found' });
  });
});

describe('transfers and payments', () => {
  it('refuses bad input with a 400 naming the field and records nothing', async () => {
    const { userId, token } = await c.signIn('test');
    const accounts = await accountsOf(token, userId);
    const aed = accounts.find((a) => a.currency_code === 'AED')!;
    const usd = accounts.find((a) => a.currency_code === 'USD')!;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ source_account_id: 'acct_nope', dest_account_id: usd.account_id, amount: 1 }, /^source_account_id/],
      [{ source_account_id: aed.account_id, dest_account_id: aed.account_id, amount: 1 }, /^dest_account_id/],
      [{ source_account_id: aed.account_id, dest_account_id: 'nobody', amount: 1 }, /^dest_account_id/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0 }, /^amount/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: -5 }, /^amount/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0.001 }, /^amount/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: '1' }, /^amount/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1, currency_code: 'USD' }, /^currency_code/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1, date: '2999-01-01' }, /^date/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1, date: '2024-02-30' }, /^date/],
      [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1, date: '2020-01-15' }, /^date: must not be in the past/],
      [{ dest_account_id: usd.account_id, amount: 1 }, /^source_account_id/],
    ];
    for (const [body, field] of cases) {
      const res = await call('transfer', { user_id: userId, ...body }, { token });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message, JSON.stringify(body)).toMatch(field);
    }
    const ledger = await call('transactions', { user_id: userId }, { token });
    expect(ledger.json()).toEqual([]);
  });

  it('moves money once, with exact minor units, and shows it in accounts and transactions', async () => {
    const { userId, token } = await c.signIn('test');
    const before = await accountsOf(token, userId);
    const bhd = before.find((a) => a.currency_code === 'BHD')!;
    const aed = before.find((a) => a.currency_code === 'AED')!;
    const res = await call('transfer', { user_id: userId, source_account_id: bhd.account_id, dest_account_id: aed.account_id, amount: 0.125 }, { token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'processed' });
    const after = await accountsOf(token, userId);
    expect(after.find((a) => a.account_id === bhd.account_id)!.available_balance).toBe(0.875);
    const entries = (await call('transactions', { user_id: userId, account_ids: [bhd.account_id] }, { token })).json();
    expect(entries[0]).toMatchObject({ account_id: bhd.account_id, amount: 0.125, transaction_type: 'debit', currency_code: 'BHD', status: 'posted' });
  });

  it('answers 200 failed when the bank declines the transfer', async () => {
    const { userId, token } = await c.signIn('test_transfer_failure');
    const [src, dst] = await accountsOf(token, userId);
    const res = await call('transfer', { user_id: userId, source_account_id: src!.account_id, dest_account_id: dst!.account_id, amount: 1 }, { token });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('failed');
  });

  it('runs the OTP flow: 450 → validate_otp → the platform retry returns the same transfer, once', async () => {
    const { userId, token } = await c.signIn('test_transfer_otp');
    const before = await accountsOf(token, userId);
    const aed = before.find((a) => a.currency_code === 'AED')!;
    const usd = before.find((a) => a.currency_code === 'USD')!;
    const body = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 2.5 };
    const first = await call('transfer', body, { token });
    expect(first.statusCode).toBe(450);
    expect(first.json().otp_details).toMatchObject({ type: 'sms' });
    const otp = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
    expect(otp.statusCode, otp.body).toBe(200);
    const newToken = otp.json().token as string;
    expect(newToken).not.toBe(token);
    const retry = await call('transfer', body, { token: newToken });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().status).toBe('processed');
    const again = await call('transfer', body, { token: newToken });
    expect(again.json().transfer_id).toBe(retry.json().transfer_id);
    const after = await accountsOf(newToken, userId);
    expect(after.find((a) => a.account_id === aed.account_id)!.available_balance).toBe(7.5);
    // the predecessor token still works during the grace period
    expect((await call('customer', { user_id: userId }, { token })).statusCode).toBe(200);
  });

  it('chains verifications: 12345 then the two questions', async () => {
    const { userId, token } = await c.signIn('test_transfer_otp');
    const [aed] = (await accountsOf(token, userId)).filter((a) => a.currency_code === 'AED');
    const body = { user_id: userId, payee_id: 'payee_dewa', source_account_id: aed!.account_id, amount: 1 };
    expect((await call('payment', body, { token })).statusCode).toBe(450);
    const first = await call('validate_otp', { user_id: userId, otp: '12345' }, { token });
    expect(first.statusCode).toBe(200);
    const t2 = first.json().token as string;
    const questions = await call('payment', body, { token: t2 });
    expect(questions.statusCode).toBe(450);
    expect(questions.json().otp_details).toMatchObject({ type: 'questions' });
    expect(questions.json().otp_details.questions).toHaveLength(2);
    const second = await call('validate_otp', { user_id: userId, otp: 'ruby\nvim' }, { token: t2 });
    expect(second.statusCode, second.body).toBe(200);
    const done = await call('payment', body, { token: second.json().token });
    expect(done.json()).toMatchObject({ status: 'processed' });
  });

  it('counts wrong OTPs: 451, 451, then 453 and the transfer is cancelled', async () => {
    const { userId, token } = await c.signIn('test_transfer_otp');
    const [aed] = (await accountsOf(token, userId)).filter((a) => a.currency_code === 'AED');
    const balanceBefore = aed!.available_balance;
    const body = { user_id: userId, payee_id: 'payee_salik', source_account_id: aed!.account_id, amount: 0.5 };
    expect((await call('payment', body, { token })).statusCode).toBe(450);
    expect((await call('validate_otp', { user_id: userId, otp: '0000' }, { token })).statusCode).toBe(451);
    expect((await call('validate_otp', { user_id: userId, otp: '0000' }, { token })).statusCode).toBe(451);
    expect((await call('validate_otp', { user_id: userId, otp: '0000' }, { token })).statusCode).toBe(453);
    const after = await accountsOf(token, userId);
    expect(after.find((a) => a.account_id === aed!.account_id)!.available_balance).toBe(balanceBefore);
    // the cancelled payment is gone: a new identical request starts afresh with a new challenge
    expect((await call('payment', body, { token })).statusCode).toBe(450);
  });

  it('asks for the sign-in OTP before data operations (test_otp)', async () => {
    const { userId, token } = await c.signIn('test_otp');
    const gated = await call('accounts', { user_id: userId }, { token });
    expect(gated.statusCode).toBe(450);
    const ok = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
    expect(ok.statusCode).toBe(200);
    expect((await accountsOf(ok.json().token, userId))).toHaveLength(3);
  });

  it('honours Idempotency-Key: the same key returns the same payment', async () => {
    const { userId, token } = await c.signIn('test');
    const [aed] = (await accountsOf(token, userId)).filter((a) => a.currency_code === 'AED');
    const body = { user_id: userId, payee_id: 'payee_du', source_account_id: aed!.account_id, amount: 1 };
    const key = { token, 'idempotency-key': 'k-123' };
    const a = await call('payment', body, key);
    const b = await call('payment', body, key);
    expect(a.json().payment_id).toBe(b.json().payment_id);
    const changed = await call('payment', { ...body, amount: 2 }, key);
    expect(changed.statusCode).toBe(400);
    expect(changed.json().message).toMatch(/^Idempotency-Key/);
  });
});
});
