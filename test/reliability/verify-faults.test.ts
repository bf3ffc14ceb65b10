/**
 * Verify misbehaving, one operation at a time, for every Verify operation the connector
 * uses: slow beyond VERIFY_TIMEOUT_MS, 500, 503, dropped connections, bodies that break
 * the spec, and replies lost AFTER Verify did the work. A real connector against its
 * embedded sandbox (real HTTP, real timeouts); faults are the sandbox's own injection.
 *
 * For each: the Kasisto call answers 502/503/504 with `{code, message}` within the Verify
 * budget of the faulted calls plus a margin; nothing is half-written (no grant on a failed
 * /token; a movement is resumable); once the fault is cleared the same call succeeds and
 * money has moved exactly once. Then the circuit breaker: opens after
 * CIRCUIT_FAILURE_THRESHOLD failures, answers 503 fast without reaching Verify, recovers.
 *
 * The time bound is explicit (see docs/reliability.md): the Verify client gives a call
 * that is sent once (createSession, loginSession, createTransfer) one attempt of T =
 * VERIFY_TIMEOUT_MS, and a call it retries (GETs, verification PUTs) at most 2 × T in all,
 * retries and backoff included. A Kasisto call's budget is the sum over the faulted
 * Verify calls on its path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { reconcile } from '../../src/domain/movements/reconcile.js';
import type { Fault } from '../../src/sandbox/faults.js';
import type { OperationId } from '../../src/sandbox/types.js';
import { kasistoResponseCheck } from '../helpers/kasisto-contract.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';
import { Figures, sleep } from './support.js';

const T = 400; // VERIFY_TIMEOUT_MS
const RETRIES = 2; // VERIFY_RETRIES (the default)
const MARGIN_MS = 1000; // scheduling on a loaded 2-core machine; measured overshoot is reported
const SENT_ONCE = new Set<OperationId>(['createSession', 'loginSession', 'createTransfer']);
/** What the Verify client allows one call of `op` (its documented deadline). */
const budgetOf = (op: OperationId) => (SENT_ONCE.has(op) ? T : 2 * T);

const KINDS: { name: string; fault: Fault; status: number }[] = [
  { name: `slow (${3 * T} ms > timeout)`, fault: { latencyMs: 3 * T }, status: 504 },
  { name: '500', fault: { status: 500 }, status: 502 },
  { name: '503', fault: { status: 503 }, status: 502 },
  { name: 'dropped connection', fault: { drop: true }, status: 503 },
  { name: 'body breaks the spec', fault: { malformed: true }, status: 502 },
];
const LOST_REPLIES: { name: string; fault: Fault }[] = [
  { name: 'reply dropped after the work', fault: { drop: true, afterHandler: true } },
  { name: 'reply corrupted after the work', fault: { malformed: true, afterHandler: true } },
];

const figures = new Figures('verify-faults', {
  VERIFY_TIMEOUT_MS: T,
  VERIFY_RETRIES: RETRIES,
  marginMs: MARGIN_MS,
  CIRCUIT_FAILURE_THRESHOLD: 3,
  CIRCUIT_OPEN_SECONDS: 1,
});
const checked = kasistoResponseCheck();
let c: TestConnector;

beforeAll(async () => {
  // breaker out of the way here; it has its own connector below
  c = await startTestConnector({ VERIFY_TIMEOUT_MS: String(T), VERIFY_RETRIES: String(RETRIES), CIRCUIT_FAILURE_THRESHOLD: '100000' });
});
afterAll(async () => {
  await c?.close();
  figures.write();
});

async function call(operation: string, body: unknown, headers: Record<string, string> = {}, on: TestConnector = c) {
  const started = performance.now();
  const res = await on.call(operation, body, headers);
  const elapsedMs = Math.round(performance.now() - started);
  checked(operation, res);
  return Object.assign(res, { elapsedMs });
}

/** A Verify failure as Kasisto sees it: 502/503/504, exactly {code, message}. */
function expectUpstreamError(res: LightMyRequestResponse, status?: number) {
  expect([502, 503, 504], res.body).toContain(res.statusCode);
  if (status !== undefined) expect(res.statusCode, res.body).toBe(status);
  const body = res.json() as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'message']);
  expect(typeof body.code).toBe('string');
  expect(typeof body.message).toBe('string');
}

/** Balances as Verify holds them, read through a fresh session of the sandbox (no HTTP, no stats). */
function balances(connector: TestConnector, login: string): Record<string, number> {
  const state = connector.sandbox!.state;
  const session = state.createSession({ currency: 'AED', amount: 1 });
  state.login(session.id, { bank_id: 'test_bank', credentials: { login, password: 'test_pass' } });
  return Object.fromEntries(state.listBankAccounts(session.id).map((a) => [a.currency, a.balance]));
}

const calls = (op: OperationId, on: TestConnector = c) => on.sandbox!.stats.calls[op];
const countRows = async (table: 'grants' | 'tokens') =>
  Number((await c.ctx.store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const movementOf = (id: string) => c.ctx.store.getMovement(id);

let amountSeq = 0;
interface Account {
  account_id: string;
  currency_code: string;
}

/** A fresh login with its accounts listed (so a /transfer reaches Verify only for the movement itself). */
async function customer(login = 'test') {
  const { userId, token } = await c.signIn(login);
  const res = await call('accounts', { user_id: userId }, { token });
  expect(res.statusCode, res.body).toBe(200);
  const accounts = res.json() as Account[];
  return { userId, token, accounts };
}

/** A transfer body of a small amount no other trial uses (AED and USD in turn, so no balance runs dry). */
function transferBody(who: { userId: string; accounts: Account[] }) {
  amountSeq += 1;
  const [from, to] = amountSeq % 2 ? ['AED', 'USD'] : ['USD', 'AED'];
  const source = who.accounts.find((a) => a.currency_code === from)!;
  const dest = who.accounts.find((a) => a.currency_code === to)!;
  const minor = amountSeq;
  return { body: { user_id: who.userId, source_account_id: source.account_id, dest_account_id: dest.account_id, amount: minor / 100 }, currency: from, minor };
}

async function movementByAmount(currency: string, minor: number, since: number) {
  return c.ctx.store.db
    .selectFrom('movements')
    .selectAll()
    .where('currency', '=', currency)
    .where('amount_minor', '=', minor)
    .where('created_at', '>=', since)
    .execute();
}

/** After the fault: the same call again, twice, answers the same processed transfer; Verify debited once. */
async function expectRecoveredTransfer(token: string, t: ReturnType<typeof transferBody>, before: Record<string, number>, login = 'test') {
  const retry = await call('transfer', t.body, { token });
  expect(retry.statusCode, retry.body).toBe(200);
  expect(retry.json()).toMatchObject({ status: 'processed' });
  const again = await call('transfer', t.body, { token });
  expect(again.json().transfer_id).toBe(retry.json().transfer_id);
  const after = balances(c, login);
  expect(before[t.currency]! - after[t.currency]!, 'debited exactly once').toBe(t.minor);
  return retry.json().transfer_id as string;
}

describe('each Verify operation failing, each way', () => {
  for (const kind of KINDS) {
    describe(kind.name, () => {
      it('createSession and loginSession at /token: an error answer, no grant, then sign-in works', async () => {
        for (const op of ['createSession', 'loginSession'] as const) {
          const grants = await countRows('grants');
          const tokens = await countRows('tokens');
          const sent = calls(op);
          c.sandbox!.faults.set(op, kind.fault);
          const res = await call('token', { username: 'test', password: 'test_pass' });
          c.sandbox!.faults.clear();
          expectUpstreamError(res, kind.status);
          expect(res.elapsedMs).toBeLessThanOrEqual(budgetOf(op) + MARGIN_MS);
          expect(calls(op) - sent, `${op} is sent once`).toBe(1);
          expect(await countRows('grants'), 'no grant created').toBe(grants);
          expect(await countRows('tokens')).toBe(tokens);
          const ok = await call('token', { username: 'test', password: 'test_pass' });
          expect(ok.statusCode, ok.body).toBe(200);
          figures.add({ name: `${op}: ${kind.name}`, kind: 'fault', fault: kind.name, operation: op, call: '/token', status: res.statusCode, elapsedMs: res.elapsedMs, boundMs: budgetOf(op) + MARGIN_MS, attempts: calls(op) - sent, outcome: 'no grant; sign-in 200 after recovery' });
        }
      });

      it('listBankAccounts at /accounts: an error answer, then the accounts', async () => {
        const { userId, token } = await c.signIn('test');
        const sent = calls('listBankAccounts');
        c.sandbox!.faults.set('listBankAccounts', kind.fault);
        const res = await call('accounts', { user_id: userId }, { token });
        c.sandbox!.faults.clear();
        expectUpstreamError(res, kind.status);
        const attempts = calls('listBankAccounts') - sent;
        expect(attempts).toBeLessThanOrEqual(RETRIES + 1);
        expect(res.elapsedMs).toBeLessThanOrEqual(budgetOf('listBankAccounts') + MARGIN_MS);
        const ok = await call('accounts', { user_id: userId }, { token });
        expect(ok.statusCode, ok.body).toBe(200);
        expect(ok.json()).toHaveLength(3);
        figures.add({ name: `listBankAccounts: ${kind.name}`, kind: 'fault', fault: kind.name, operation: 'listBankAccounts', call: '/accounts', status: res.statusCode, elapsedMs: res.elapsedMs, boundMs: budgetOf('listBankAccounts') + MARGIN_MS, attempts, outcome: 'accounts 200 after recovery' });
      });

      const transferSteps: { op: OperationId; leaves: string }[] = [
        { op: 'createSession', leaves: 'recorded' },
        { op: 'loginSession', leaves: 'session_created' },
        { op: 'listBankAccounts', leaves: 'logged_in' },
        { op: 'createTransfer', leaves: 'transfer_requested' },
      ];
      for (const { op, leaves } of transferSteps) {
        it(`${op} during /transfer: an error answer, a resumable movement (${leaves}), then the retry moves money once`, async () => {
          const who = await customer();
          const t = transferBody(who);
          const before = balances(c, 'test');
          const since = Date.now();
          const sent = calls(op);
          c.sandbox!.faults.set(op, kind.fault);
          const res = await call('transfer', t.body, { token: who.token });
          c.sandbox!.faults.clear();
          const attempts = calls(op) - sent;
          expectUpstreamError(res, kind.status);
          expect(res.elapsedMs).toBeLessThanOrEqual(budgetOf(op) + MARGIN_MS);
          if (SENT_ONCE.has(op)) expect(calls(op) - sent, `${op} is sent once`).toBe(1);
          const rows = await movementByAmount(t.currency, t.minor, since);
          expect(rows).toHaveLength(1);
          expect(rows[0]!.status).toBe(leaves);
          expect(rows[0]!.lease_owner, 'lease released').toBeNull();
          expect(balances(c, 'test')[t.currency], 'nothing debited yet').toBe(before[t.currency]);
          const id = await expectRecoveredTransfer(who.token, t, before);
          expect(id).toBe(rows[0]!.id);
          figures.add({ name: `${op}: ${kind.name}`, kind: 'fault', fault: kind.name, operation: op, call: '/transfer', status: res.statusCode, elapsedMs: res.elapsedMs, boundMs: budgetOf(op) + MARGIN_MS, attempts, outcome: `left ${leaves}; retry 200 processed, debited once` });
        });
      }

      it('listSessionTransfers after a lost createTransfer reply: an error answer, then the retry finds the transfer (debited once)', async () => {
        const who = await customer();
        const t = transferBody(who);
        const before = balances(c, 'test');
        const since = Date.now();
        const created = calls('createTransfer');
        c.sandbox!.faults.set('createTransfer', { drop: true, afterHandler: true });
        c.sandbox!.faults.set('listSessionTransfers', kind.fault);
        const res = await call('transfer', t.body, { token: who.token });
        c.sandbox!.faults.clear();
        expectUpstreamError(res);
        const bound = budgetOf('createTransfer') + budgetOf('listSessionTransfers') + MARGIN_MS;
        expect(res.elapsedMs).toBeLessThanOrEqual(bound);
        const [row] = await movementByAmount(t.currency, t.minor, since);
        expect(row!.status).toBe('transfer_requested');
        expect(before[t.currency]! - balances(c, 'test')[t.currency]!, 'Verify made the transfer').toBe(t.minor);
        await expectRecoveredTransfer(who.token, t, before);
        expect(calls('createTransfer') - created, 'never sent again: found instead').toBe(1);
        figures.add({ name: `listSessionTransfers: ${kind.name} (after a lost createTransfer reply)`, kind: 'fault', fault: kind.name, operation: 'listSessionTransfers', call: '/transfer', status: res.statusCode, elapsedMs: res.elapsedMs, boundMs: bound, outcome: 'transfer_requested; retry found it: 200 processed, debited once, createTransfer sent once' });
      });

      it('submitSessionVerification at /validate_otp: an error answer, the attempt not counted, then the OTP works', async () => {
        const { userId, token } = await c.signIn('test_otp');
        c.sandbox!.faults.set('submitSessionVerification', kind.fault);
        const res = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
        c.sandbox!.faults.clear();
        expectUpstreamError(res, kind.status);
        expect(res.elapsedMs).toBeLessThanOrEqual(budgetOf('submitSessionVerification') + MARGIN_MS);
        const grant = (await c.ctx.store.db.selectFrom('grants').selectAll().where('user_id', '=', userId).where('status', '=', 'pending_otp').orderBy('created_at', 'desc').executeTakeFirstOrThrow());
        expect(grant.otp_attempts, 'no verdict, no attempt used').toBe(0);
        const ok = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
        expect(ok.statusCode, ok.body).toBe(200);
        expect((await call('accounts', { user_id: userId }, { token: ok.json().token })).statusCode).toBe(200);
        figures.add({ name: `submitSessionVerification: ${kind.name}`, kind: 'fault', fault: kind.name, operation: 'submitSessionVerification', call: '/validate_otp', status: res.statusCode, elapsedMs: res.elapsedMs, boundMs: budgetOf('submitSessionVerification') + MARGIN_MS, outcome: 'sign-in still pending, attempt refunded; OTP 200 after recovery' });
      });

      it('submitTransferVerification at /validate_otp: an error answer, the transfer still awaits its OTP, then it completes once', async () => {
        const who = await customer('test_transfer_otp');
        const t = transferBody(who);
        const before = balances(c, 'test_transfer_otp');
        const since = Date.now();
        expect((await call('transfer', t.body, { token: who.token })).statusCode).toBe(450);
        c.sandbox!.faults.set('submitTransferVerification', kind.fault);
        const res = await call('validate_otp', { user_id: who.userId, otp: '1234' }, { token: who.token });
        c.sandbox!.faults.clear();
        expectUpstreamError(res, kind.status);
        expect(res.elapsedMs).toBeLessThanOrEqual(budgetOf('submitTransferVerification') + MARGIN_MS);
        const [row] = await movementByAmount(t.currency, t.minor, since);
        expect(row).toMatchObject({ status: 'awaiting_transfer_otp', otp_attempts: 0 });
        const ok = await call('validate_otp', { user_id: who.userId, otp: '1234' }, { token: who.token });
        expect(ok.statusCode, ok.body).toBe(200);
        await expectRecoveredTransfer(ok.json().token, t, before, 'test_transfer_otp');
        figures.add({ name: `submitTransferVerification: ${kind.name}`, kind: 'fault', fault: kind.name, operation: 'submitTransferVerification', call: '/validate_otp', status: res.statusCode, elapsedMs: res.elapsedMs, boundMs: budgetOf('submitTransferVerification') + MARGIN_MS, outcome: 'still awaiting OTP, attempt refunded; OTP 200, retry processed, debited once' });
      });

      it('getTransfer during reconciliation of an expired OTP wait: deferred, then the transfer Verify made is adopted', async () => {
        const who = await customer('test_transfer_otp');
        const t = transferBody(who);
        const before = balances(c, 'test_transfer_otp');
        const since = Date.now();
        expect((await call('transfer', t.body, { token: who.token })).statusCode).toBe(450);
        // the OTP reaches Verify but its reply is lost: Verify moved the money, the connector never heard
        c.sandbox!.faults.set('submitTransferVerification', { drop: true, afterHandler: true });
        expectUpstreamError(await call('validate_otp', { user_id: who.userId, otp: '1234' }, { token: who.token }));
        c.sandbox!.faults.clear();
        const [row] = await movementByAmount(t.currency, t.minor, since);
        const realNow = c.ctx.now;
        c.ctx.now = () => realNow() + (c.ctx.config.otpWindowSeconds + 5) * 1000; // past the OTP window
        try {
          c.sandbox!.faults.set('getTransfer', kind.fault);
          const started = performance.now();
          const deferred = await reconcile(c.ctx);
          const elapsedMs = Math.round(performance.now() - started);
          c.sandbox!.faults.clear();
          expect(deferred.skipped).toBeGreaterThanOrEqual(1);
          // not cancelled while Verify cannot say: the outcome is unknown (shown as pending) until Verify answers
          expect((await movementOf(row!.id))!.status, 'not cancelled while Verify cannot say').toBe('transfer_requested');
          const done = await reconcile(c.ctx);
          expect(done.adopted).toBeGreaterThanOrEqual(1);
          expect(await movementOf(row!.id)).toMatchObject({ status: 'processed', lease_owner: null });
          expect(before[t.currency]! - balances(c, 'test_transfer_otp')[t.currency]!).toBe(t.minor);
          figures.add({ name: `getTransfer: ${kind.name}`, kind: 'fault', fault: kind.name, operation: 'getTransfer', call: 'reconciliation', status: 'deferred', elapsedMs, boundMs: budgetOf('getTransfer') + MARGIN_MS, outcome: 'outcome unknown kept (pending); next run adopted it: processed, debited once' });
          expect(elapsedMs).toBeLessThanOrEqual(budgetOf('getTransfer') + MARGIN_MS);
        } finally {
          c.ctx.now = realNow;
        }
      });
    });
  }
});

describe('replies lost after Verify did the work', () => {
  for (const lost of LOST_REPLIES) {
    it(`createTransfer, ${lost.name}: the transfer is found, not sent again; 200 at once`, async () => {
      const who = await customer();
      const t = transferBody(who);
      const before = balances(c, 'test');
      const created = calls('createTransfer');
      c.sandbox!.faults.set('createTransfer', lost.fault);
      const res = await call('transfer', t.body, { token: who.token });
      c.sandbox!.faults.clear();
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ status: 'processed' });
      await expectRecoveredTransfer(who.token, t, before);
      expect(calls('createTransfer') - created).toBe(1);
      figures.add({ name: `createTransfer: ${lost.name}`, kind: 'lost-reply', fault: lost.name, operation: 'createTransfer', call: '/transfer', status: res.statusCode, elapsedMs: res.elapsedMs, outcome: 'found via listSessionTransfers: 200 processed, createTransfer sent once, debited once' });
    });

    it(`loginSession, ${lost.name}: /token gives no grant; a /transfer starts over with a fresh session and moves money once`, async () => {
      const grants = await countRows('grants');
      c.sandbox!.faults.set('loginSession', lost.fault);
      const signIn = await call('token', { username: 'test', password: 'test_pass' });
      c.sandbox!.faults.clear();
      expectUpstreamError(signIn);
      expect(await countRows('grants')).toBe(grants);

      const who = await customer();
      const t = transferBody(who);
      const before = balances(c, 'test');
      const since = Date.now();
      c.sandbox!.faults.set('loginSession', lost.fault);
      const res = await call('transfer', t.body, { token: who.token });
      c.sandbox!.faults.clear();
      expectUpstreamError(res);
      const [row] = await movementByAmount(t.currency, t.minor, since);
      expect(row!.status).toBe('session_created');
      // Verify refuses a second login on that session: the retry must not be stuck on it
      await expectRecoveredTransfer(who.token, t, before);
      expect((await movementOf(row!.id))!.verify_session_id).not.toBe(row!.verify_session_id);
      figures.add({ name: `loginSession: ${lost.name}`, kind: 'lost-reply', fault: lost.name, operation: 'loginSession', call: '/token, /transfer', status: res.statusCode, elapsedMs: res.elapsedMs, outcome: 'no grant; movement resumed with a fresh session: 200 processed, debited once' });
    });

    it(`createSession, ${lost.name}: an orphan session at Verify, the retry completes once`, async () => {
      const who = await customer();
      const t = transferBody(who);
      const before = balances(c, 'test');
      c.sandbox!.faults.set('createSession', lost.fault);
      const res = await call('transfer', t.body, { token: who.token });
      c.sandbox!.faults.clear();
      expectUpstreamError(res);
      await expectRecoveredTransfer(who.token, t, before);
      figures.add({ name: `createSession: ${lost.name}`, kind: 'lost-reply', fault: lost.name, operation: 'createSession', call: '/transfer', status: res.statusCode, elapsedMs: res.elapsedMs, outcome: 'retry 200 processed, debited once' });
    });

    it(`submitTransferVerification, ${lost.name}: Verify moved the money; the OTP retry and the transfer retry say processed, once`, async () => {
      const who = await customer('test_transfer_otp');
      const t = transferBody(who);
      const before = balances(c, 'test_transfer_otp');
      expect((await call('transfer', t.body, { token: who.token })).statusCode).toBe(450);
      c.sandbox!.faults.set('submitTransferVerification', lost.fault);
      const res = await call('validate_otp', { user_id: who.userId, otp: '1234' }, { token: who.token });
      c.sandbox!.faults.clear();
      expectUpstreamError(res);
      const ok = await call('validate_otp', { user_id: who.userId, otp: '1234' }, { token: who.token });
      expect(ok.statusCode, ok.body).toBe(200);
      await expectRecoveredTransfer(ok.json().token, t, before, 'test_transfer_otp');
      figures.add({ name: `submitTransferVerification: ${lost.name}`, kind: 'lost-reply', fault: lost.name, operation: 'submitTransferVerification', call: '/validate_otp', status: res.statusCode, elapsedMs: res.elapsedMs, outcome: 'OTP retry 200 (idempotent PUT), transfer retry processed, debited once' });
    });

    it(`submitSessionVerification, ${lost.name}: the OTP retry signs in`, async () => {
      const { userId, token } = await c.signIn('test_otp');
      c.sandbox!.faults.set('submitSessionVerification', lost.fault);
      const res = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
      c.sandbox!.faults.clear();
      expectUpstreamError(res);
      const ok = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
      expect(ok.statusCode, ok.body).toBe(200);
      figures.add({ name: `submitSessionVerification: ${lost.name}`, kind: 'lost-reply', fault: lost.name, operation: 'submitSessionVerification', call: '/validate_otp', status: res.statusCode, elapsedMs: res.elapsedMs, outcome: 'OTP retry 200' });
    });
  }
});

describe('what an outage leaves behind', () => {
  it('an outage during the OTP step does not use up the customer\'s attempts', async () => {
    const { userId, token } = await c.signIn('test_otp');
    c.sandbox!.faults.set('submitSessionVerification', { status: 503 });
    for (let i = 0; i < c.ctx.config.otpMaxAttempts + 1; i += 1) {
      expectUpstreamError(await call('validate_otp', { user_id: userId, otp: '1234' }, { token }));
    }
    c.sandbox!.faults.clear();
    const ok = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
    expect(ok.statusCode, ok.body).toBe(200);
    figures.add({ name: `submitSessionVerification: ${c.ctx.config.otpMaxAttempts + 1} × 503 in a row`, kind: 'outage', fault: '503, repeatedly', operation: 'submitSessionVerification', call: '/validate_otp', status: 502, outcome: 'no lock-out (no 453); OTP 200 after recovery' });
  });

  it('a transfer Verify has not got stays on its own session: reconciliation never gives it a new one, the retry re-sends under it', async () => {
    const who = await customer();
    const t = transferBody(who);
    const before = balances(c, 'test');
    const since = Date.now();
    c.sandbox!.faults.set('createTransfer', { status: 500 });
    expectUpstreamError(await call('transfer', t.body, { token: who.token }));
    c.sandbox!.faults.clear();
    const [row] = await movementByAmount(t.currency, t.minor, since);
    expect(row!.status).toBe('transfer_requested');
    const report = await reconcile(c.ctx);
    expect(report.unresolved).toBeGreaterThanOrEqual(1);
    expect(await movementOf(row!.id)).toMatchObject({ status: 'transfer_requested', verify_session_id: row!.verify_session_id });
    const sessions = calls('createSession');
    await expectRecoveredTransfer(who.token, t, before);
    expect(calls('createSession'), 'no new session').toBe(sessions);
    expect((await movementOf(row!.id))!.verify_session_id).toBe(row!.verify_session_id);
    figures.add({ name: 'createTransfer 500, then reconciliation', kind: 'reconcile', operation: 'createTransfer', call: 'reconciliation, /transfer', outcome: 'left transfer_requested on its session (unresolved); retry re-sent under the same session: processed, debited once' });
  });

  it('a movement interrupted and never retried is cancelled once the retry window has passed', async () => {
    const who = await customer();
    const t = transferBody(who);
    const since = Date.now();
    c.sandbox!.faults.set('createSession', { status: 500 });
    expectUpstreamError(await call('transfer', t.body, { token: who.token }));
    c.sandbox!.faults.clear();
    const [row] = await movementByAmount(t.currency, t.minor, since);
    expect((await reconcile(c.ctx)).interrupted).toBeGreaterThanOrEqual(1);
    expect((await movementOf(row!.id))!.status).toBe('interrupted');
    const realNow = c.ctx.now;
    c.ctx.now = () => realNow() + (c.ctx.config.retryWindowSeconds + c.ctx.config.otpWindowSeconds + 5) * 1000;
    try {
      expect((await reconcile(c.ctx)).abandoned).toBeGreaterThanOrEqual(1);
    } finally {
      c.ctx.now = realNow;
    }
    expect(await movementOf(row!.id)).toMatchObject({ status: 'cancelled', lease_owner: null });
    figures.add({ name: 'createSession 500, never retried', kind: 'reconcile', operation: 'createSession', call: 'reconciliation', outcome: 'interrupted, then cancelled after the retry window' });
  });

  it('identical requests in parallel on one instance move money once', async () => {
    const who = await customer();
    const t = transferBody(who);
    const before = balances(c, 'test');
    const created = calls('createTransfer');
    c.sandbox!.faults.set('loginSession', { latencyMs: Math.round(T / 2) }); // keep the first one in flight
    const answers = await Promise.all(Array.from({ length: 8 }, () => call('transfer', t.body, { token: who.token })));
    c.sandbox!.faults.clear();
    for (const res of answers) expect(res.statusCode, res.body).toBe(200);
    expect(new Set(answers.map((r) => r.json().transfer_id)).size).toBe(1);
    expect(calls('createTransfer') - created).toBe(1);
    expect(before[t.currency]! - balances(c, 'test')[t.currency]!).toBe(t.minor);
    figures.add({ name: '8 identical /transfer at once, one instance', kind: 'concurrency', call: '/transfer', status: 200, outcome: 'one transfer_id, createTransfer sent once, debited once' });
  });
});

describe('circuit breaker', () => {
  let cb: TestConnector;
  beforeAll(async () => {
    cb = await startTestConnector({ VERIFY_TIMEOUT_MS: String(T), CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_OPEN_SECONDS: '1' });
  });
  afterAll(async () => {
    await cb?.close();
  });

  async function trip() {
    cb.sandbox!.faults.set('*', { status: 503 });
    for (let i = 0; i < 3; i += 1) expectUpstreamError(await call('token', { username: 'test', password: 'test_pass' }, {}, cb), 502);
    expect(cb.circuit.state).toBe('open');
    return Date.now();
  }

  it('opens after CIRCUIT_FAILURE_THRESHOLD failures, answers 503 fast without calling Verify, then closes after CIRCUIT_OPEN_SECONDS', async () => {
    const { userId, token } = await cb.signIn('test');
    const openedAt = await trip();
    const total = cb.sandbox!.stats.total;
    const fast: number[] = [];
    for (const [op, body, headers] of [
      ['token', { username: 'test', password: 'test_pass' }, {}],
      ['accounts', { user_id: userId }, { token }],
    ] as const) {
      const res = await call(op, body, headers, cb);
      expectUpstreamError(res, 503);
      fast.push(res.elapsedMs);
    }
    expect(cb.sandbox!.stats.total, 'Verify not called while open').toBe(total);
    for (const ms of fast) expect(ms).toBeLessThan(100);
    cb.sandbox!.faults.clear();
    const wait = 1000 - (Date.now() - openedAt);
    if (wait > 0) await sleep(wait + 50);
    const ok = await call('token', { username: 'test', password: 'test_pass' }, {}, cb);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(cb.circuit.state).toBe('closed');
    figures.add({ name: 'circuit: 3 × 503 from Verify, then calls while open', kind: 'circuit', call: '/token, /accounts', status: 503, elapsedMs: Math.max(...fast), boundMs: 100, outcome: 'open: 503 without reaching Verify; closed again by the first call after 1 s' });
  });

  it('a failed trial call opens it again; a transfer refused while open completes once after recovery', async () => {
    const who = { ...(await cb.signIn('test')), accounts: [] as Account[] };
    who.accounts = (await call('accounts', { user_id: who.userId }, { token: who.token }, cb)).json();
    const t = transferBody(who);
    const before = balances(cb, 'test');
    await trip();
    const refused = await call('transfer', t.body, { token: who.token }, cb);
    expectUpstreamError(refused, 503);
    await sleep(1100);
    // half-open: one trial reaches Verify, still failing → open again at once
    const trial = await call('token', { username: 'test', password: 'test_pass' }, {}, cb);
    expectUpstreamError(trial, 502);
    expect(cb.circuit.state).toBe('open');
    const total = cb.sandbox!.stats.total;
    expectUpstreamError(await call('token', { username: 'test', password: 'test_pass' }, {}, cb), 503);
    expect(cb.sandbox!.stats.total).toBe(total);
    cb.sandbox!.faults.clear();
    await sleep(1100);
    const retry = await call('transfer', t.body, { token: who.token }, cb);
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json()).toMatchObject({ status: 'processed' });
    expect(before[t.currency]! - balances(cb, 'test')[t.currency]!).toBe(t.minor);
    expect(cb.circuit.state).toBe('closed');
    figures.add({ name: 'circuit: failed half-open trial, transfer while open', kind: 'circuit', call: '/token, /transfer', status: 503, outcome: 'trial failure re-opened it; transfer answered 503 while open, then 200 processed, debited once' });
  });
});
