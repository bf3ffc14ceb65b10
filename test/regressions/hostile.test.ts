/**
 * Regressions from the adversarial review: what a hostile (or merely unlucky) Kasisto
 * client found against a running connector. Each block names the bug it pins down.
 * Every answer is also checked against spec/kasisto/1.0.yaml.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startConnector, type Connector } from '../../src/runtime.js';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';
import { createDatabase, postgresRequired, testPostgresUrl } from '../helpers/postgres.js';
import { checkedCalls, kasistoResponseCheck, type Account } from '../helpers/kasisto-contract.js';

const checked = kasistoResponseCheck();
let c: TestConnector;

beforeAll(async () => {
  c = await startTestConnector();
});
afterAll(async () => {
  await c?.close();
});

const { call, accountsOf } = checkedCalls(() => c);



async function aedAndUsd(token: string, userId: string) {
  const accounts = await accountsOf(token, userId);
  return { aed: accounts.find((a) => a.currency_code === 'AED')!, usd: accounts.find((a) => a.currency_code === 'USD')! };
}

const TOKEN_OPERATIONS = ['validate_otp', 'customer', 'accounts', 'transactions', 'merchants', 'categories', 'transfer', 'payment', 'payees'];

describe('the token is checked before the body is validated', () => {
  // Bug: the token was checked in preHandler, after schema validation, so /transfer and
  // /payment answered an unauthenticated `{}` with 400 "source_account_id: is required".
  it.each(TOKEN_OPERATIONS)('%s: no token, or an unknown one, is 403 whatever the body', async (operation) => {
    for (const headers of [{}, { token: 'not-a-token' }] as Record<string, string>[]) {
      for (const body of [{}, { amount: 'x', user_id: 5 }]) {
        const res = await call(operation, body, headers);
        expect(res.statusCode, `${operation} ${JSON.stringify(headers)} ${JSON.stringify(body)}: ${res.body}`).toBe(403);
        expect(res.json().code).toBe('forbidden');
      }
    }
  });

  it('a valid token with an invalid body is still 400 naming the field', async () => {
    const { userId, token } = await c.signIn('test');
    const res = await call('transfer', { user_id: userId }, { token });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^source_account_id: /);
  });
});

describe('only JSON bodies', () => {
  // Bug: Fastify's default text/plain parser handed handlers an unvalidated string body, and
  // the user_id check (which reads body.user_id) was skipped: another user's user_id passed.
  it.each([...TOKEN_OPERATIONS, 'token'])('%s: a text/plain body is 400 naming the Content-Type', async (operation) => {
    const { token } = await c.signIn('test');
    const other = await c.signIn('test_transfer_failure');
    const res = await call(operation, undefined, { token, 'content-type': 'text/plain' });
    const withBody = await c.app.inject({
      method: 'POST',
      url: `/api/${operation}`,
      headers: { secret: TEST_SECRET, token, 'content-type': 'text/plain' },
      payload: JSON.stringify({ user_id: other.userId, username: 'test', password: 'test_pass' }),
    });
    checked(operation, withBody);
    expect(withBody.statusCode, withBody.body).toBe(400);
    expect(withBody.json().message).toMatch(/Content-Type/);
    // no body at all stays fine where the contract allows it
    expect([200, 400, 403]).toContain(res.statusCode);
  });
});

describe('token rotation survives answers that are not 200', () => {
  // Bug: a token older than a third of the idle lifetime was rotated while authenticating,
  // before the answer was known; only a 200 carries the successor, so after a 400 (or 450,
  // 502…) the platform never saw it while the old token was retired, and 30 s later (the
  // rotation grace) every call answered 403: the customer was signed out.
  it('a 400 at rotation time neither retires the token nor hides its successor', async () => {
    const { userId, token } = await c.signIn('test');
    const { aed, usd } = await aedAndUsd(token, userId);
    const realNow = c.ctx.now;
    const idleMs = c.ctx.config.tokenIdleTtlSeconds * 1000;
    const graceMs = c.ctx.config.tokenRotationGraceSeconds * 1000;
    let offset = Math.ceil(idleMs / 3) + 1_000;
    c.ctx.now = () => realNow() + offset;
    try {
      const refused = await call('transfer', { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0.001 }, { token });
      expect(refused.statusCode).toBe(400);
      expect(refused.headers['token']).toBeUndefined();

      offset += graceMs + 1_000; // past the grace a retired token would have
      const later = await call('accounts', { user_id: userId }, { token });
      expect(later.statusCode, later.body).toBe(200);
      const successor = later.headers['token'];
      expect(typeof successor).toBe('string');
      expect(successor).not.toBe(token);
      expect((await call('customer', { user_id: userId }, { token: successor as string })).statusCode).toBe(200);
    } finally {
      c.ctx.now = realNow;
    }
  });
});

describe('Idempotency-Key', () => {
  // Bug: keys were scoped per operation, so the key of a /transfer reused on a /payment
  // moved money a second time.
  it('a key used on /transfer and reused on /payment is 400, and money moves once', async () => {
    const { userId, token } = await c.signIn('test');
    const { aed, usd } = await aedAndUsd(token, userId);
    const key = { token, 'idempotency-key': 'review-cross-operation' };
    const transfer = await call('transfer', { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0.5 }, key);
    expect(transfer.json()).toMatchObject({ status: 'processed' });
    const payment = await call('payment', { user_id: userId, source_account_id: aed.account_id, payee_id: 'payee_du', amount: 0.5 }, key);
    expect(payment.statusCode).toBe(400);
    expect(payment.json().message).toMatch(/^Idempotency-Key/);
    const after = await aedAndUsd(token, userId);
    expect(after.aed.available_balance).toBeCloseTo(aed.available_balance - 0.5, 6);
    // the same key belongs to each customer separately
    const other = await c.signIn('test_transfer_failure');
    const theirs = await aedAndUsd(other.token, other.userId);
    const foreign = await call('payment', { user_id: other.userId, source_account_id: theirs.aed.account_id, payee_id: 'payee_du', amount: 0.5 }, { token: other.token, 'idempotency-key': 'review-cross-operation' });
    expect(foreign.statusCode).toBe(200);
  });
});

describe('a movement waiting for its OTP, retried under a new sign-in', () => {
  // Bug: the retry matched the first movement and answered 450, but /validate_otp looks for
  // the movement of the caller's own login, so the new token got 403 "No one-time password
  // is pending" and the customer was stuck until the OTP window ran out.
  it('the new sign-in can answer the OTP, and Verify makes one transfer', async () => {
    const first = await c.signIn('test_transfer_otp');
    const { aed, usd } = await aedAndUsd(first.token, first.userId);
    const body = { source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0.25 };
    expect((await call('transfer', { user_id: first.userId, ...body }, { token: first.token })).statusCode).toBe(450);
    const transfersBefore = c.sandbox!.stats.calls.createTransfer ?? 0;

    const second = await c.signIn('test_transfer_otp');
    expect(second.userId).toBe(first.userId);
    // another login of the same customer cannot answer it before it retried the movement
    expect((await call('validate_otp', { user_id: second.userId, otp: '1234' }, { token: second.token })).statusCode).toBe(403);
    expect((await call('transfer', { user_id: second.userId, ...body }, { token: second.token })).statusCode).toBe(450);
    const otp = await call('validate_otp', { user_id: second.userId, otp: '1234' }, { token: second.token });
    expect(otp.statusCode, otp.body).toBe(200);
    const done = await call('transfer', { user_id: second.userId, ...body }, { token: otp.json().token });
    expect(done.json()).toMatchObject({ status: 'processed' });
    expect(c.sandbox!.stats.calls.createTransfer ?? 0).toBe(transfersBefore);
    const after = await aedAndUsd(otp.json().token, second.userId);
    expect(after.aed.available_balance).toBeCloseTo(aed.available_balance - 0.25, 6);
  });
});

describe('a new CREDENTIALS_KEY', () => {
  // Bug: tokens were stored as plain hashes, so after the key changed they still worked,
  // but every call that needed the sealed credentials (a transfer, accounts once the cached
  // listing was stale) failed with 500; README says a new key logs everyone out.
  it('makes earlier tokens unknown (403), never a 500', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'review-key-'));
    const env = { KASISTO_SECRET: TEST_SECRET, DATABASE_URL: `sqlite:${join(dir, 'connector.db')}`, LOG_LEVEL: 'silent', VERIFY_TIMEOUT_MS: '1500' };
    const inject = (connector: Connector, operation: string, body: unknown, token: string) =>
      connector.app.inject({ method: 'POST', url: `/api/${operation}`, headers: { 'content-type': 'application/json', secret: TEST_SECRET, token }, payload: JSON.stringify(body) });
    let first: Connector | undefined;
    let second: Connector | undefined;
    try {
      first = await startConnector(loadConfig({ ...env, CREDENTIALS_KEY: '0f'.repeat(32) }), { reconcileEveryMs: 0 });
      const signIn = await first.app.inject({ method: 'POST', url: '/api/token', headers: { 'content-type': 'application/json', secret: TEST_SECRET }, payload: { username: 'test', password: 'test_pass' } });
      const { user_id: userId, token } = signIn.json() as { user_id: string; token: string };
      const [aed, usd] = (await inject(first, 'accounts', { user_id: userId }, token)).json() as Account[];
      await first.stop();
      first = undefined;

      second = await startConnector(loadConfig({ ...env, CREDENTIALS_KEY: '1f'.repeat(32) }), { reconcileEveryMs: 0 });
      const transfer = { user_id: userId, source_account_id: aed!.account_id, dest_account_id: usd!.account_id, amount: 0.1 };
      for (const [operation, body] of [['accounts', { user_id: userId }], ['customer', { user_id: userId }], ['transfer', transfer]] as const) {
        const res = await inject(second, operation, body, token);
        checked(operation, res);
        expect(res.statusCode, `${operation}: ${res.body}`).toBe(403);
      }
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the SQLite file', () => {
  // It holds full IBANs and sealed credentials: readable by its owner only, as dev-secrets.json.
  it('is readable by its owner only, with its WAL files', async () => {
    const { statSync, existsSync } = await import('node:fs');
    await c.signIn('test'); // something written, so the WAL exists
    const path = c.config.databaseUrl.replace(/^sqlite:/, '');
    for (const file of [path, `${path}-wal`, `${path}-shm`].filter((f) => existsSync(f))) {
      expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
    }
  });
});

describe.runIf(testPostgresUrl() || postgresRequired)('Idempotency-Key on PostgreSQL', () => {
  // The cross-operation check relies on the per-user lock of recordMovement: same test there.
  let pgc: TestConnector | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await createDatabase();
    drop = db.drop;
    pgc = await startTestConnector({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await pgc?.close();
    await drop?.();
  });

  it('a key reused across /transfer and /payment, even at once, moves money once', async () => {
    const { userId, token } = await pgc!.signIn('test');
    const accounts = (await pgc!.call('accounts', { user_id: userId }, { token })).json() as Account[];
    const aed = accounts.find((a) => a.currency_code === 'AED')!;
    const usd = accounts.find((a) => a.currency_code === 'USD')!;
    const key = { token, 'idempotency-key': 'review-pg' };
    const answers = await Promise.all([
      pgc!.call('transfer', { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0.5 }, key),
      pgc!.call('payment', { user_id: userId, source_account_id: aed.account_id, payee_id: 'payee_du', amount: 0.5 }, key),
    ]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 400]);
    const after = (await pgc!.call('accounts', { user_id: userId }, { token })).json() as Account[];
    expect(after.find((a) => a.currency_code === 'AED')!.available_balance).toBeCloseTo(aed.available_balance - 0.5, 6);
  });
});
