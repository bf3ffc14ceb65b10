/**
 * Issue 11 as a Kasisto client sees it: an own transfer across currencies needs the
 * operator's rate (a missing pair is a 400 naming it, before any money moves), and a
 * cancelled movement answers its reason in plain words in `meta`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';

describe('exchange rates and reasons on /transfer and /payment', () => {
  let c: TestConnector;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fx-'));
    // the operator trades USD/AED only
    writeFileSync(join(dir, 'rates.json'), JSON.stringify([{ base: 'USD', quote: 'AED', rate: '3.6725', valid_from: '2020-01-01T00:00:00Z' }]));
    c = await startTestConnector({ FX_RATES_FILE: join(dir, 'rates.json') }, { dailyReconcileCheckMs: 0 });
  }, 60_000);
  afterAll(async () => {
    await c?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const accountsOf = async (token: string, userId: string) => (await c.call('accounts', { user_id: userId }, { token })).json() as { account_id: string; currency_code: string }[];

  it('a pair without a rate is a 400 naming it, and nothing reaches Verify', async () => {
    const { userId, token } = await c.signIn('test');
    const accounts = await accountsOf(token, userId);
    const calls = c.sandbox!.stats.calls.createSession ?? 0;
    const res = await c.call('transfer', { user_id: userId, source_account_id: accounts.find((a) => a.currency_code === 'AED')!.account_id, dest_account_id: accounts.find((a) => a.currency_code === 'BHD')!.account_id, amount: 1 }, { token });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^dest_account_id: no exchange rate for AED\/BHD/);
    expect(c.sandbox!.stats.calls.createSession ?? 0).toBe(calls);
    // the pair it has, inverted: 1.00 AED → 0.27 USD (1 / 3.6725 = 0.2723, half up)
    const ok = await c.call('transfer', { user_id: userId, source_account_id: accounts.find((a) => a.currency_code === 'AED')!.account_id, dest_account_id: accounts.find((a) => a.currency_code === 'USD')!.account_id, amount: 1 }, { token });
    expect(ok.json()).toMatchObject({ status: 'processed', meta: [] });
    const ob = await c.ctx.store.settlement.obligationOfMovement(ok.json().transfer_id);
    expect(ob).toMatchObject({ amount_minor: 27, currency: 'USD', source_amount_minor: 100, source_currency: 'AED', fx_rate: '3.6725', fx_base: 'USD', fx_quote: 'AED' });
  });

  it('SIGHUP re-reads FX_RATES_FILE (audited); a bad file keeps the rates in force', async () => {
    const { userId, token } = await c.signIn('test');
    const accounts = await accountsOf(token, userId);
    const body = { user_id: userId, source_account_id: accounts.find((a) => a.currency_code === 'AED')!.account_id, dest_account_id: accounts.find((a) => a.currency_code === 'BHD')!.account_id, amount: 0.3 };
    expect((await c.call('transfer', body, { token })).statusCode).toBe(400);
    writeFileSync(join(dir, 'rates.json'), JSON.stringify([
      { base: 'USD', quote: 'AED', rate: '3.6725', valid_from: '2020-01-01T00:00:00Z' },
      { base: 'BHD', quote: 'AED', rate: '9.76728723', valid_from: '2020-01-01T00:00:00Z' },
    ]));
    expect(await c.reloadFxRates('test')).toBe(2);
    expect((await c.call('transfer', body, { token })).json()).toMatchObject({ status: 'processed' });
    const audit = await c.ctx.store.settlement.listAudit({ action: 'fx_rates_reloaded', limit: 5 });
    expect(audit[0]).toMatchObject({ actor: 'test', action: 'fx_rates_reloaded' });
    writeFileSync(join(dir, 'rates.json'), '[{"base":"USD","quote":"AED","rate":3.6725}]');
    await expect(c.reloadFxRates('test')).rejects.toThrow(/rate must be a string/);
    expect(c.ctx.fx!.list()).toHaveLength(2);
  });

  it('a cancelled payment answers why, in words the assistant can say', async () => {
    const { userId, token } = await c.signIn('test_transfer_otp');
    const [aed] = (await accountsOf(token, userId)).filter((a) => a.currency_code === 'AED');
    const body = { user_id: userId, payee_id: 'payee_salik', source_account_id: aed!.account_id, amount: 0.5 };
    const key = { token, 'idempotency-key': 'cancel-me-1' };
    expect((await c.call('payment', body, key)).statusCode).toBe(450);
    for (const expected of [451, 451, 453]) expect((await c.call('validate_otp', { user_id: userId, otp: '0000' }, { token })).statusCode).toBe(expected);
    const retried = await c.call('payment', body, key);
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ status: 'cancelled', meta: [{ name: 'reason', value: 'The bank did not accept the one-time password' }] });
  });
});
