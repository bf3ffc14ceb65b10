/**
 * VERIFY_BUDGET_MS: all the Verify calls of one Kasisto request share one budget, so a slow
 * Verify answers 504 in time for Kasisto's 3 s turn, and the work done so far resumes on retry.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';

let c: TestConnector;
beforeAll(async () => {
  c = await startTestConnector({ VERIFY_TIMEOUT_MS: '2000', VERIFY_BUDGET_MS: '700' });
});
afterAll(async () => {
  await c?.close();
});

it('answers 504 once the budget is spent, though each Verify call alone is within its timeout', async () => {
  c.sandbox!.faults.set('createSession', { latencyMs: 450 });
  c.sandbox!.faults.set('loginSession', { latencyMs: 450 });
  const started = performance.now();
  const res = await c.call('token', { username: 'test', password: 'test_pass' });
  const elapsed = performance.now() - started;
  expect(res.statusCode).toBe(504);
  expect(res.json()).toMatchObject({ code: 'upstream_timeout' });
  expect(elapsed).toBeLessThan(700 + 500);
  c.sandbox!.faults.clear();
});

it('leaves a movement resumable: the retry finishes it and money moves once', async () => {
  const { userId, token } = await c.signIn('test');
  const accounts = (await c.call('accounts', { user_id: userId }, { token })).json() as { account_id: string; currency_code: string; available_balance: number }[];
  const aed = accounts.find((a) => a.currency_code === 'AED')!;
  const usd = accounts.find((a) => a.currency_code === 'USD')!;
  const body = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1 };
  c.sandbox!.faults.set('loginSession', { latencyMs: 900 });
  const slow = await c.call('transfer', body, { token });
  expect(slow.statusCode).toBe(504);
  c.sandbox!.faults.clear();
  const before = c.sandbox!.stats.calls.createTransfer ?? 0;
  const retry = await c.call('transfer', body, { token });
  expect(retry.statusCode, retry.body).toBe(200);
  expect(retry.json().status).toBe('processed');
  expect((c.sandbox!.stats.calls.createTransfer ?? 0) - before).toBe(1);
  const after = (await c.call('accounts', { user_id: userId }, { token })).json() as typeof accounts;
  expect(after.find((a) => a.account_id === aed.account_id)!.available_balance).toBe(aed.available_balance - 1);
});
