/**
 * A whole conversation in every Kasisto revision (KASISTO_API_REVISION), on SQLite and
 * PostgreSQL: every answer is validated against THAT revision's contract made strict (no
 * property the revision does not define). docs/kasisto-revisions.md is the reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';
import { createDatabase, postgresRequired, testPostgresUrl } from '../helpers/postgres.js';
import { KASISTO_API_REVISIONS, type KasistoRevision } from '../../src/config.js';
import { KASISTO_REVISIONS } from '../helpers/spec.js';
import { strictCalls, strictKasistoSpec } from '../helpers/kasisto-contract.js';

const stores = [
  { name: 'SQLite', database: async () => undefined },
  ...(testPostgresUrl() || postgresRequired ? [{ name: 'PostgreSQL', database: createDatabase }] : []),
];
const REVISIONS = KASISTO_API_REVISIONS;
type Revision = KasistoRevision;

/** What changes between the revisions, as the tests need it. */
const metaCredentials = (r: Revision) => r === '1.2' || r === '1.3';
const requiredHeaders = (r: Revision) => r === '1.2' || r === '1.3';
const dateTimes = (r: Revision) => r !== '1.0';

type Json = Record<string, any>;

it('serves every revision that has a spec (a spec without runtime support fails here)', () => {
  expect([...KASISTO_API_REVISIONS].sort()).toEqual([...KASISTO_REVISIONS]);
});

it('the strict contract refuses a property the revision does not define', () => {
  const account = { account_id: 'acct_1', account_number: '****1234', current_balance: 1 };
  expect(strictKasistoSpec('1.3').validateSchema('account', account).valid).toBe(true);
  expect(strictKasistoSpec('1.3').validateSchema('account', { ...account, currency_code: 'AED' }).valid).toBe(false);
  expect(strictKasistoSpec('1.2').validateSchema('error_response', { code: 'otp_required', message: 'x', otp_details: 'text' }).valid).toBe(false);
  expect(strictKasistoSpec('1.3').validateSchema('error_response', { code: 'otp_required', message: 'x', otp_details: 'text' }).valid).toBe(true);
});

describe.each(stores)('on $name', ({ database }) => {
  describe.each(REVISIONS)('Kasisto %s', (revision) => {
    let c: TestConnector;
    let dropDatabase: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const db = await database();
      dropDatabase = db?.drop;
      c = await startTestConnector({ KASISTO_API_REVISION: revision, ...(db ? { DATABASE_URL: db.url } : {}) });
    });
    afterAll(async () => {
      await c?.close();
      await dropDatabase?.();
    });

    let requestCount = 0;
    const headers = (): Record<string, string> => (requiredHeaders(revision) ? { date: new Date().toUTCString(), request_id: `req-${revision}-${++requestCount}` } : {});
    const call = strictCalls(() => c, revision, headers);

    const credentials = (username: string, password = 'test_pass') =>
      metaCredentials(revision) ? { meta: [{ name: 'username', value: username }, { name: 'password', value: password }] } : { username, password };
    const signIn = async (username: string) => {
      const res = await call('token', credentials(username));
      expect(res.statusCode, res.body).toBe(200);
      return { userId: res.json().user_id as string, token: res.json().token as string };
    };
    /** The currency an account holds: currency_code, or in 1.3 fcy_currency_code else the default (AED). */
    const currencyOf = (a: Json) => (revision === '1.3' ? (a.fcy_currency_code ?? 'AED') : a.currency_code);
    const accountsOf = async (token: string, userId: string): Promise<Json[]> => {
      const res = await call('accounts', { user_id: userId }, { token });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    /** Today as the revision types the `date` of a transfer or payment (1.0-final's payment `date` stays a date). */
    const today = (kind: 'transfer' | 'payment' = 'transfer') =>
      dateTimes(revision) && !(revision === '1.0-final' && kind === 'payment') ? new Date().toISOString() : new Date().toISOString().slice(0, 10);

    it('signs in (credentials as this revision sends them) and refuses bad ones', async () => {
      const { userId, token } = await signIn('test');
      expect(userId).toMatch(/^usr_/);
      expect(token.length).toBeGreaterThan(20);
      const refused = await call('token', credentials('test', 'wrong'));
      expect(refused.statusCode).toBe(revision === '1.3' ? 401 : 403);
      if (metaCredentials(revision)) {
        const missing = await call('token', { meta: [{ name: 'login', value: 'test' }] });
        expect(missing.statusCode).toBe(400);
        expect(missing.json().message).toBe('meta: password is required');
        expect(missing.body).not.toContain('test_pass');
      }
    });

    it('answers a missing token with 401 in 1.3, 403 before', async () => {
      const { userId } = await signIn('test');
      const res = await call('customer', revision === '1.3' ? { meta: [] } : { user_id: userId });
      expect(res.statusCode).toBe(revision === '1.3' ? 401 : 403);
      const unknown = await call('customer', { user_id: userId }, { token: 'x'.repeat(43) });
      expect(unknown.statusCode).toBe(403);
    });

    it.runIf(requiredHeaders(revision))('requires Date and request_id, naming the one missing', async () => {
      for (const [name, omit] of [['Date', 'date'], ['request_id', 'request_id']] as const) {
        const sent = headers();
        delete sent[omit];
        const res = await c.app.inject({
          method: 'POST',
          url: '/api/token',
          headers: { 'content-type': 'application/json', secret: TEST_SECRET, ...sent },
          payload: JSON.stringify(credentials('test')),
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ code: 'invalid_request', message: `${name}: header is required`, display_message_id: 'invalid_request' });
      }
    });

    it('lists accounts in this revision\'s shape', async () => {
      const { userId, token } = await signIn('test');
      const accounts = await accountsOf(token, userId);
      expect(accounts.map(currencyOf).sort()).toEqual(['AED', 'BHD', 'USD']);
      const byCurrency = Object.fromEntries(accounts.map((a) => [currencyOf(a), a]));
      if (revision === '1.3') {
        for (const a of accounts) expect(a).not.toHaveProperty('currency_code');
        expect(byCurrency.AED).toMatchObject({ current_balance: 10, available_balance: 10, account_status: 'active', can_transfer_from: true });
        expect(byCurrency.AED).not.toHaveProperty('fcy_currency_code');
        // the operator's table (development pegs): 10 USD × 3.6725 = 36.725 → 36.73 (half up, the
        // rule own transfers use); 1 BHD × 9.76728723 (the BHD/AED cross) → 9.77
        expect(byCurrency.USD).toMatchObject({ current_balance: 36.73, available_balance: 36.73, fcy_currency_code: 'USD', fcy_current_balance: 10, fcy_available_balance: 10 });
        expect(byCurrency.BHD).toMatchObject({ current_balance: 9.77, fcy_currency_code: 'BHD', fcy_current_balance: 1 });
      } else {
        expect(byCurrency.AED).toMatchObject({ current_balance: 10, currency_code: 'AED', account_type: 'checking' });
        if (revision !== '1.0') expect(byCurrency.AED).toMatchObject({ can_transfer_to: true, can_transfer_from: true });
        else expect(byCurrency.AED).not.toHaveProperty('can_transfer_to');
      }
    });

    it('runs a transfer through the one-time password: 450 → validate_otp → retry → processed; then transactions', async () => {
      const { userId, token } = await signIn('test_transfer_otp');
      const accounts = await accountsOf(token, userId);
      const aed = accounts.find((a) => currencyOf(a) === 'AED')!;
      const usd = accounts.find((a) => currencyOf(a) === 'USD')!;
      const body = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 2.5, date: today() };
      const first = await call('transfer', body, { token });
      expect(first.statusCode).toBe(450);
      const challenge = first.json();
      expect(challenge.code).toBe('otp_required');
      if (revision === '1.0') {
        expect(challenge.otp_details).toMatchObject({ type: 'sms' });
      } else {
        const meta = Object.fromEntries((challenge.meta as { name: string; value: string }[]).map((p) => [p.name, p.value]));
        expect(meta.otp_type).toBe('sms');
        expect(challenge.display_message_id).toBe('otp_required');
        if (revision === '1.3') {
          expect(typeof challenge.otp_details).toBe('string');
          expect(challenge.otp_details.length).toBeGreaterThan(0);
        } else {
          expect(challenge).not.toHaveProperty('otp_details');
          expect(meta.challenge_text?.length).toBeGreaterThan(0);
        }
      }
      const wrong = await call('validate_otp', { user_id: userId, otp: '0000' }, { token });
      expect(wrong.statusCode).toBe(451);
      const otp = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
      expect(otp.statusCode, otp.body).toBe(200);
      if (revision === '1.3') expect(otp.json().meta).toEqual([]);
      const newToken = otp.json().token as string;
      const retry = await call('transfer', body, { token: newToken });
      expect(retry.statusCode, retry.body).toBe(200);
      expect(retry.json()).toMatchObject({ status: 'processed', meta: [] });

      const all = await call('transactions', { user_id: userId }, { token: newToken });
      expect(all.statusCode, all.body).toBe(200);
      const entries = all.json() as Json[];
      expect(entries).toHaveLength(2);
      const debit = entries.find((e) => e.transaction_type === 'debit')!;
      expect(debit).toMatchObject({ account_id: aed.account_id, amount: 2.5, currency_code: 'AED', status: 'posted' });
      if (revision === '1.0') {
        expect(debit.category).toBe('transfers');
        expect(debit.transaction_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      } else {
        expect(debit).not.toHaveProperty('category');
        expect(debit.categories).toEqual(['transfers']);
        expect(debit.title).toBe('Own transfer');
        expect(debit.transaction_date).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00Z$/);
      }
      if (revision === '1.3') {
        const filtered = await call('transactions', { user_id: userId, transaction_ids: [debit.transaction_id] }, { token: newToken });
        expect(filtered.json()).toEqual([debit]);
        const none = await call('transactions', { user_id: userId, transaction_ids: ['mv_nothing-debit'] }, { token: newToken });
        expect(none.json()).toEqual([]);
        const after = await accountsOf(newToken, userId);
        const source = after.find((a) => a.account_id === aed.account_id)!;
        expect(source.current_balance).toBe(aed.current_balance - 2.5);
        expect(after.find((a) => a.account_id === usd.account_id)).toHaveProperty('fcy_currency_code', 'USD');
      }
      if (dateTimes(revision)) {
        // 1.0-final's start_date is a date (Kasisto's format), from 1.2 on a date-time
        const ranged = await call('transactions', { user_id: userId, start_date: revision === '1.0-final' ? today().slice(0, 10) : today() }, { token: newToken });
        expect(ranged.statusCode, ranged.body).toBe(200);
        expect(ranged.json()).toHaveLength(2);
      }
      if (revision === '1.2' || revision === '1.3') {
        // Kasisto's own samples write the offset without a colon
        const sample = await call('transactions', { user_id: userId, start_date: '2016-01-30T00:00:00.000+0000' }, { token: newToken });
        expect(sample.statusCode, sample.body).toBe(200);
        expect(sample.json()).toHaveLength(2);
        const future = await call('transactions', { user_id: userId, start_date: '2999-01-30T00:00:00Z' }, { token: newToken });
        expect(future.json()).toEqual([]);
      }
    });

    it.runIf(revision !== '1.0')('chains verifications: the questions challenge as question_1, question_2 in meta', async () => {
      const { userId, token } = await signIn('test_transfer_otp');
      const [aed] = (await accountsOf(token, userId)).filter((a) => currencyOf(a) === 'AED');
      const body = { user_id: userId, payee_id: 'payee_dewa', source_account_id: aed!.account_id, amount: 1, date: today('payment') };
      expect((await call('payment', body, { token })).statusCode).toBe(450);
      const first = await call('validate_otp', { user_id: userId, otp: '12345' }, { token });
      expect(first.statusCode, first.body).toBe(200);
      const t2 = first.json().token as string;
      const questions = await call('payment', body, { token: t2 });
      expect(questions.statusCode).toBe(450);
      const meta = questions.json().meta as { name: string; value: string }[];
      expect(meta[0]).toEqual({ name: 'otp_type', value: 'questions' });
      expect(meta.filter((p) => /^question_\d$/.test(p.name)).map((p) => p.name)).toEqual(['question_1', 'question_2']);
      const second = await call('validate_otp', { user_id: userId, otp: 'ruby\nvim' }, { token: t2 });
      expect(second.statusCode, second.body).toBe(200);
      const done = await call('payment', body, { token: second.json().token });
      expect(done.json()).toMatchObject({ status: 'processed' });
    });

    it.runIf(revision === '1.2' || revision === '1.3')('checks a transfer\'s user_id against the token', async () => {
      const { userId, token } = await signIn('test');
      const other = await signIn('test_transfer_failure');
      const [a, b] = await accountsOf(token, userId);
      const res = await call('transfer', { user_id: other.userId, source_account_id: a!.account_id, dest_account_id: b!.account_id, amount: 1 }, { token });
      expect(res.statusCode).toBe(403);
    });

    it('refuses an unknown source account as a functional error', async () => {
      const { userId, token } = await signIn('test');
      const [a] = await accountsOf(token, userId);
      const res = await call('transfer', { user_id: userId, source_account_id: 'acct_nope', dest_account_id: a!.account_id, amount: 1 }, { token });
      expect(res.statusCode).toBe(400);
      if (revision === '1.0') expect(res.json()).not.toHaveProperty('display_message_id');
      else expect(res.json().display_message_id).toBe('account_not_found');
    });

    it('refuses bad input with a 400 naming the field and records nothing', async () => {
      const { userId, token } = await signIn('test');
      const accounts = await accountsOf(token, userId);
      const aed = accounts.find((a) => currencyOf(a) === 'AED')!;
      const usd = accounts.find((a) => currencyOf(a) === 'USD')!;
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ source_account_id: aed.account_id, dest_account_id: aed.account_id, amount: 1 }, /^dest_account_id/],
        [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0 }, /^amount/],
        [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0.001 }, /^amount/],
        [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: '1' }, /^amount/],
        [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1, currency_code: 'USD' }, /^currency_code/],
        [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1, date: dateTimes(revision) ? '2999-01-01T00:00:00Z' : '2999-01-01' }, /^date/],
        [{ source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1, date: dateTimes(revision) ? '2020-01-15' : '2020-01-15T00:00:00Z' }, /^date/],
        [{ dest_account_id: usd.account_id, amount: 1 }, /^source_account_id/],
      ];
      for (const [body, field] of cases) {
        const res = await call('transfer', { user_id: userId, ...body }, { token });
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().message, JSON.stringify(body)).toMatch(field);
      }
      expect((await call('transactions', { user_id: userId }, { token })).json()).toEqual([]);
    });

    it('answers 200 failed when the bank declines the transfer', async () => {
      const { userId, token } = await signIn('test_transfer_failure');
      const [src, dst] = await accountsOf(token, userId);
      const res = await call('transfer', { user_id: userId, source_account_id: src!.account_id, dest_account_id: dst!.account_id, amount: 1 }, { token });
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('failed');
    });

    it('counts wrong one-time passwords: 451, 451, then 453 and the payment is cancelled', async () => {
      const { userId, token } = await signIn('test_transfer_otp');
      const [aed] = (await accountsOf(token, userId)).filter((a) => currencyOf(a) === 'AED');
      const body = { user_id: userId, payee_id: 'payee_salik', source_account_id: aed!.account_id, amount: 0.5 };
      expect((await call('payment', body, { token })).statusCode).toBe(450);
      expect((await call('validate_otp', { user_id: userId, otp: '0000' }, { token })).statusCode).toBe(451);
      expect((await call('validate_otp', { user_id: userId, otp: '0000' }, { token })).statusCode).toBe(451);
      const last = await call('validate_otp', { user_id: userId, otp: '0000' }, { token });
      expect(last.statusCode).toBe(453);
      if (revision !== '1.0') expect(last.json().display_message_id).toBe('otp_too_many_failures');
      const after = await accountsOf(token, userId);
      expect(after.find((a) => a.account_id === aed!.account_id)!.current_balance).toBe(aed!.current_balance);
    });

    it('asks for the sign-in one-time password before data operations (test_otp)', async () => {
      const { userId, token } = await signIn('test_otp');
      const gated = await call('accounts', { user_id: userId }, { token });
      expect(gated.statusCode).toBe(450);
      const ok = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(await accountsOf(ok.json().token, userId)).toHaveLength(3);
    });

    it('honours Idempotency-Key: the same key returns the same payment', async () => {
      const { userId, token } = await signIn('test');
      const [aed] = (await accountsOf(token, userId)).filter((a) => currencyOf(a) === 'AED');
      const body = { user_id: userId, payee_id: 'payee_du', source_account_id: aed!.account_id, amount: 1 };
      const key = { token, 'idempotency-key': `k-${revision}` };
      const a = await call('payment', body, key);
      const b = await call('payment', body, key);
      expect(a.json().payment_id).toBe(b.json().payment_id);
      const changed = await call('payment', { ...body, amount: 2 }, key);
      expect(changed.statusCode).toBe(400);
      expect(changed.json().message).toMatch(/^Idempotency-Key/);
    });

    it('answers customer, payees, merchants and categories', async () => {
      const { userId, token } = await signIn('test');
      const customer = await call('customer', revision === '1.3' ? { meta: [] } : { user_id: userId }, { token });
      expect(customer.json()).toMatchObject({ user_id: userId });
      const payees = (await call('payees', { user_id: userId }, { token })).json() as Json[];
      const dewa = payees.find((p) => p.payee_id === 'payee_dewa')!;
      if (revision === '1.3') expect(dewa.category).toBe('biller');
      if (revision !== '1.0') expect(dewa.meta).toEqual([]);
      const categories = (await call('categories', { user_id: userId }, { token })).json() as Json[];
      expect(categories.map((x) => x.category_id)).toContain('transfers');
      expect((await call('merchants', { user_id: userId }, { token })).statusCode).toBe(200);
      const payment = await call('payment', { user_id: userId, payee_id: 'payee_dewa', source_account_id: (await accountsOf(token, userId))[0]!.account_id, amount: 1 }, { token });
      expect(payment.statusCode, payment.body).toBe(200);
      expect(payment.json()).toMatchObject({ status: 'processed' });
    });

    const unavailable = revision === '1.3' ? ['bank_locations', 'offers', 'customer_action', 'interaction'] : revision === '1.0' ? [] : ['bank_locations'];
    it.runIf(unavailable.length > 0)('answers 501 for the operations Verify cannot fulfil, after authentication', async () => {
      const { userId, token } = await signIn('test');
      const bodies: Record<string, unknown> = { customer_action: { user_id: userId, action: 'credit_card_activate', parameters: [] } };
      for (const operation of unavailable) {
        const res = await call(operation, bodies[operation] ?? {}, { token });
        expect(res.statusCode, `${operation} ${res.body}`).toBe(501);
        expect(res.json()).toMatchObject({ code: 'not_implemented', display_message_id: 'not_implemented' });
        const noSecret = await c.app.inject({ method: 'POST', url: `/api/${operation}`, headers: { 'content-type': 'application/json', ...headers() }, payload: '{}' });
        expect(noSecret.statusCode).toBe(401);
      }
    });

    it.runIf(revision === '1.3')('takes /bank_locations without a token, checks one when sent, and /interaction with none', async () => {
      expect((await call('bank_locations', {})).statusCode).toBe(501);
      expect((await call('bank_locations', {}, { token: 'x'.repeat(43) })).statusCode).toBe(403);
      expect((await call('interaction', { interaction_type: 'USER_INPUT', request_text: 'hi' })).statusCode).toBe(501);
    });
  });
});
