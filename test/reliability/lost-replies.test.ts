/**
 * The class of "Verify acted, its reply was lost": a lost reply after every Verify call that
 * can move money or advance a verification, each followed by the platform's retry
 * (a) at once, (b) after the OTP window, (c) after the token expired and the customer signed
 * in again, (d) after a restart of the connector. In every case: at most one debit at the
 * bank, the ledger equal to the bank, and a true movement status — the connector never ends
 * a movement while Verify may have acted (issue: money moved twice after a late retry).
 *
 * Verify here is a standalone sandbox that outlives connector restarts; the connector's
 * clock is moved forward for (b) and (c).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/domain/movements/reconcile.js';
import { buildSandbox, type Sandbox } from '../../src/sandbox/app.js';
import type { OperationId } from '../../src/sandbox/types.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';
import { kasistoResponseCheck } from '../helpers/kasisto-contract.js';
import { testStores } from '../helpers/postgres.js';

const RETRIES = 2; // VERIFY_RETRIES: the verification PUTs and GETs are retried this often
const OTP_WINDOW_S = 300;
const IDLE_TTL_S = 900;
const checked = kasistoResponseCheck();

type Point = 'createTransfer' | 'submitTransferVerification' | 'submitSessionVerification (movement login)' | 'submitSessionVerification (sign-in)';
type Retry = 'at once' | 'after the OTP window' | 'after the token expired and a new sign-in' | 'after a restart';
const POINTS: Point[] = ['createTransfer', 'submitTransferVerification', 'submitSessionVerification (movement login)', 'submitSessionVerification (sign-in)'];
const RETRIES_AFTER: Retry[] = ['at once', 'after the OTP window', 'after the token expired and a new sign-in', 'after a restart'];
const LOGIN_OF: Record<Point, string> = {
  createTransfer: 'test',
  submitTransferVerification: 'test_transfer_otp',
  'submitSessionVerification (movement login)': 'test_otp',
  'submitSessionVerification (sign-in)': 'test_otp',
};

const stores = testStores('lost-replies');

let sandbox: Sandbox;
let verifyUrl: string;
beforeAll(async () => {
  sandbox = await buildSandbox();
  verifyUrl = await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await sandbox?.app.close();
});

/** The bank's balances of a test customer, read from the sandbox's own state (no HTTP, no stats). */
function balances(login: string): Record<string, number> {
  const session = sandbox.state.createSession({ currency: 'AED', amount: 1 });
  const loggedIn = sandbox.state.login(session.id, { bank_id: 'test_bank', credentials: { login, password: 'test_pass' } });
  if (loggedIn.verification) sandbox.state.submitSessionVerification(session.id, loggedIn.verification.id, { challenge_response: '1234' });
  return Object.fromEntries(sandbox.state.listBankAccounts(session.id).map((a) => [a.currency, a.balance]));
}

/** Every attempt of `op` (the client retries the idempotent ones) runs at Verify, then loses its reply. */
function loseReplies(op: OperationId, attempts: number) {
  sandbox.faults.set(op, { drop: true, afterHandler: true, times: attempts });
}

let amountSeq = 0;

describe.each(stores)('a lost Verify reply, then the retry, on $name', ({ database }) => {
  describe.each(POINTS)('after %s', (point) => {
    it.each(RETRIES_AFTER)('retried %s: at most one debit, the ledger equals the bank, a true status', async (retry) => {
      const db = await database();
      const env = {
        DATABASE_URL: db.url,
        VERIFY_BASE_URL: verifyUrl,
        VERIFY_SECRET_KEY: 'sk_test_lost_replies',
        VERIFY_PUBLIC_KEY: 'pk_test_lost_replies',
        VERIFY_RETRIES: String(RETRIES),
        OTP_WINDOW_SECONDS: String(OTP_WINDOW_S),
        TOKEN_IDLE_TTL_SECONDS: String(IDLE_TTL_S),
      };
      let c: TestConnector = await startTestConnector(env);
      let offsetMs = 0;
      const clock = () => {
        const real = Date.now;
        c.ctx.now = () => real() + offsetMs;
      };
      clock();
      const call = async (operation: string, body: unknown, token: string) => {
        const res = await c.call(operation, body, { token });
        checked(operation, res);
        return res;
      };
      const login = LOGIN_OF[point];
      /** signs in, answering the sign-in OTP when the bank asks for one */
      const signIn = async () => {
        const s = await c.signIn(login);
        if (login !== 'test_otp') return s;
        const ok = await call('validate_otp', { user_id: s.userId, otp: '1234' }, s.token);
        expect(ok.statusCode, ok.body).toBe(200);
        return { userId: s.userId, token: ok.json().token as string };
      };
      try {
        const before = balances(login);
        sandbox.faults.clear();

        if (point === 'submitSessionVerification (sign-in)') {
          const s = await c.signIn(login);
          loseReplies('submitSessionVerification', RETRIES + 1);
          const lost = await call('validate_otp', { user_id: s.userId, otp: '1234' }, s.token);
          expect([502, 503, 504], lost.body).toContain(lost.statusCode);
          sandbox.faults.clear();
          let token = s.token;
          if (retry === 'after the OTP window') offsetMs += (OTP_WINDOW_S + 5) * 1000;
          if (retry === 'after the token expired and a new sign-in') offsetMs += (IDLE_TTL_S + 5) * 1000;
          if (retry === 'after a restart') {
            await c.close();
            c = await startTestConnector(env);
            clock();
          }
          const again = await call('validate_otp', { user_id: s.userId, otp: '1234' }, token);
          if (retry === 'at once' || retry === 'after a restart') {
            expect(again.statusCode, again.body).toBe(200);
            token = again.json().token;
          } else {
            // too late for this sign-in (452, or its token expired: 403); a new one works
            expect([403, 452], again.body).toContain(again.statusCode);
            token = (await signIn()).token;
          }
          const accounts = await call('accounts', { user_id: s.userId }, token);
          expect(accounts.statusCode, accounts.body).toBe(200);
          expect(balances(login), 'no money moves at a sign-in').toEqual(before);
          return;
        }

        let who = await signIn();
        const accounts = (await call('accounts', { user_id: who.userId }, who.token)).json() as { account_id: string; currency_code: string }[];
        amountSeq += 1;
        const [from, to] = amountSeq % 2 ? ['AED', 'USD'] : ['USD', 'AED'];
        const minor = amountSeq;
        const body = () => ({
          user_id: who.userId,
          source_account_id: accounts.find((a) => a.currency_code === from)!.account_id,
          dest_account_id: accounts.find((a) => a.currency_code === to)!.account_id,
          amount: minor / 100,
        });

        // 1. the call whose reply is lost
        if (point === 'createTransfer') {
          loseReplies('createTransfer', 1);
          // the lookup by session that would find it is down too
          sandbox.faults.set('listSessionTransfers', { drop: true, times: RETRIES + 1 });
          const lost = await call('transfer', body(), who.token);
          expect([502, 503, 504], lost.body).toContain(lost.statusCode);
        } else {
          const first = await call('transfer', body(), who.token);
          expect(first.statusCode, first.body).toBe(450);
          loseReplies(point === 'submitTransferVerification' ? 'submitTransferVerification' : 'submitSessionVerification', RETRIES + 1);
          const lost = await call('validate_otp', { user_id: who.userId, otp: '1234' }, who.token);
          expect([502, 503, 504], lost.body).toContain(lost.statusCode);
        }
        sandbox.faults.clear();

        // 2. time passes, or the customer signs in again, or the connector restarts
        if (retry === 'after the OTP window') offsetMs += (OTP_WINDOW_S + 5) * 1000;
        if (retry === 'after the token expired and a new sign-in') {
          offsetMs += (IDLE_TTL_S + 5) * 1000;
          who = { ...(await signIn()), userId: who.userId };
        }
        if (retry === 'after a restart') {
          await c.close(); // its start-up reconciliation runs in the new one
          c = await startTestConnector(env);
          clock();
        }

        // 3. the platform's retry: /validate_otp again where an OTP was being answered, then /transfer
        if (point !== 'createTransfer' && retry !== 'after the token expired and a new sign-in') {
          const again = await call('validate_otp', { user_id: who.userId, otp: '1234' }, who.token);
          expect([200, 452], again.body).toContain(again.statusCode);
          if (again.statusCode === 200) who.token = again.json().token;
        }
        let result = await call('transfer', body(), who.token);
        // a movement cancelled before Verify had a transfer starts afresh and asks for its code
        for (let i = 0; i < 3 && result.statusCode === 450; i += 1) {
          const otp = await call('validate_otp', { user_id: who.userId, otp: '1234' }, who.token);
          expect(otp.statusCode, otp.body).toBe(200);
          who.token = otp.json().token;
          result = await call('transfer', body(), who.token);
        }
        expect(result.statusCode, result.body).toBe(200);
        expect(result.json().status, result.body).toBe('processed');

        // the customer's statement shows the one debit
        const statement = await call('transactions', { user_id: who.userId }, who.token);
        expect(statement.statusCode, statement.body).toBe(200);
        const debits = (statement.json() as { transaction_id: string; transaction_type: string; status: string }[]).filter(
          (e) => e.transaction_id === `${result.json().transfer_id}-debit`,
        );
        expect(debits).toMatchObject([{ transaction_type: 'debit', status: 'posted' }]);

        // 4. whatever reconciliation finds later changes nothing
        await reconcile(c.ctx);
        offsetMs += (OTP_WINDOW_S + IDLE_TTL_S) * 1000;
        await reconcile(c.ctx);

        const after = balances(login);
        expect(before[from]! - after[from]!, 'the bank debited exactly once').toBe(minor);
        const rows = await c.ctx.store.db.selectFrom('movements').selectAll().where('amount_minor', '=', minor).where('currency', '=', from).execute();
        const processed = rows.filter((r) => r.status === 'processed');
        expect(processed, JSON.stringify(rows.map((r) => [r.status, r.failure_reason]))).toHaveLength(1);
        // every other movement of this intent ended without a transfer at Verify
        for (const other of rows.filter((r) => r.status !== 'processed')) {
          expect(['cancelled', 'failed'], other.status).toContain(other.status);
          if (other.verify_transfer_id) expect(other.verify_status).not.toBe('succeeded');
        }
      } finally {
        sandbox.faults.clear();
        await c.close();
        await db.drop();
      }
    }, 60_000);
  });
});
