/**
 * The operator API's edge: Bearer keys (constant-time, all keys compared), roles, `{code,
 * message}` errors, the username turned into its pseudonym and never logged, answers that
 * match spec/operator.yaml, and reconciliation correcting "Verify succeeded, ledger behind"
 * with the movement's obligation. Production refuses an operator listener without keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../../src/config.js';
import { userIdFor } from '../../src/domain/crypto.js';
import { matchKey } from '../../src/operator/app.js';
import { parseOperatorKeys } from '../../src/operator/config.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';

const KEYS = { settler: 'settler-key-0123456789abcdef', viewer: 'viewer-key-0123456789abcdefg' };

describe('operator API', () => {
  let c: TestConnector;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    c = await startTestConnector(
      { OPERATOR_PORT: '0', OPERATOR_API_KEYS: `ops:settler:${KEYS.settler},watch:viewer:${KEYS.viewer}` },
      { dailyReconcileCheckMs: 0, logger: { level: 'info', stream: sink } as never },
    );
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  const op = (method: string, url: string, key?: string, body?: unknown) =>
    c.operatorApp!.inject({
      method: method as 'GET',
      url,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  it('listens on its own port, never on the Kasisto app', async () => {
    expect(c.operatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${c.operatorUrl}/operator/v1/obligations`, { headers: { authorization: `Bearer ${KEYS.viewer}` } });
    expect(res.status).toBe(200);
    expect((await c.app.inject({ method: 'GET', url: '/operator/v1/obligations', headers: { authorization: `Bearer ${KEYS.viewer}` } })).statusCode).toBe(404);
  });

  it('answers 401 {code, message} without a key or with a wrong one, before reading the body', async () => {
    for (const auth of [undefined, 'nope', `${KEYS.viewer}x`]) {
      const res = await op('POST', '/operator/v1/batches', auth, '{broken');
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ code: 'unauthorized', message: expect.any(String) });
    }
    expect((await op('GET', '/operator/v1/nowhere')).statusCode).toBe(401);
    expect((await op('GET', '/operator/v1/nowhere', KEYS.viewer)).json()).toMatchObject({ code: 'not_found' });
  });

  it('a viewer reads, only a settler changes', async () => {
    expect((await op('GET', '/operator/v1/audit', KEYS.viewer)).statusCode).toBe(200);
    for (const [method, url, body] of [
      ['POST', '/operator/v1/batches', {}],
      ['POST', '/operator/v1/batches/bt-00/paid', { bank_reference: 'X' }],
      ['POST', '/operator/v1/obligations/ob-00/returned', { reason: 'x' }],
      ['POST', '/operator/v1/reconciliations', { date: '2026-01-01' }],
    ] as const) {
      const res = await op(method, url, KEYS.viewer, body);
      expect(res.statusCode, url).toBe(403);
      expect(res.json()).toMatchObject({ code: 'forbidden', message: expect.stringContaining('watch') });
    }
  });

  it('bad input answers 400 naming the field; unknown ids 404; nothing to batch 409', async () => {
    expect((await op('POST', '/operator/v1/reconciliations', KEYS.settler, { date: 'yesterday' })).json()).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^date/) });
    expect((await op('POST', '/operator/v1/batches/bt-00/paid', KEYS.settler, {})).json()).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/bank_reference/) });
    expect((await op('GET', '/operator/v1/obligations?limit=0', KEYS.viewer)).json()).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/limit/) });
    expect((await op('GET', '/operator/v1/batches/bt-nothere', KEYS.viewer)).statusCode).toBe(404);
    expect((await op('GET', '/operator/v1/reconciliations/2020-01-01', KEYS.viewer)).statusCode).toBe(404);
    expect((await op('GET', '/operator/v1/movements/mv_nothere', KEYS.viewer)).json()).toMatchObject({ code: 'not_found' });
    const empty = await op('POST', '/operator/v1/batches', KEYS.settler, {});
    expect(empty.statusCode).toBe(409);
    expect(empty.json()).toMatchObject({ code: 'nothing_to_batch' });
  });

  it('turns a username into its pseudonym and never logs it', async () => {
    const { userId, token } = await c.signIn('test');
    const expected = userIdFor(c.ctx.keys, c.config.verifyBankId, 'test');
    expect(userId).toBe(expected);
    const accounts = (await c.call('accounts', { user_id: userId }, { token })).json() as { account_id: string; currency_code: string }[];
    const res = await c.call('transfer', { user_id: userId, source_account_id: accounts.find((a) => a.currency_code === 'AED')!.account_id, dest_account_id: accounts.find((a) => a.currency_code === 'BHD')!.account_id, amount: 1 }, { token });
    expect(res.json()).toMatchObject({ status: 'processed' });
    const secretName = 'test';
    lines.length = 0;
    const listed = await op('GET', `/operator/v1/movements?username=${secretName}&status=processed`, KEYS.viewer);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items.map((m: { user_id: string }) => m.user_id)).toEqual([expected]);
    expect(listed.json().items[0]).toMatchObject({ currency: 'AED', amount_minor: 100, fx: { base: 'BHD', quote: 'AED', rate: '9.76728723' } });
    const pseudonym = await op('GET', `/operator/v1/customers/pseudonym?username=${secretName}`, KEYS.viewer);
    expect(pseudonym.json()).toEqual({ user_id: expected, bank_id: 'test_bank' });
    expect(lines.join('')).toContain('operator request');
    expect(lines.join('')).not.toContain('username=');
    expect((await op('GET', `/operator/v1/movements?username=a&user_id=b`, KEYS.viewer)).statusCode).toBe(400);
  });

  it('reconciliation corrects "Verify succeeded, ledger behind": the ledger follows Verify and the obligation is created', async () => {
    const { userId, token } = await c.signIn('test');
    const accounts = (await c.call('accounts', { user_id: userId }, { token })).json() as { account_id: string; currency_code: string }[];
    const res = await c.call('transfer', { user_id: userId, source_account_id: accounts.find((a) => a.currency_code === 'AED')!.account_id, dest_account_id: accounts.find((a) => a.currency_code === 'USD')!.account_id, amount: 0.5 }, { token });
    const id = res.json().transfer_id as string;
    // the ledger fell behind (as after a crash that lost the last step): failed, no obligation
    await c.ctx.store.db.updateTable('movements').set({ status: 'failed', failure_reason: 'the bank never received the transfer' }).where('id', '=', id).execute();
    await c.ctx.store.db.deleteFrom('obligations').where('movement_id', '=', id).execute();
    const today = new Date().toISOString().slice(0, 10);
    const report = await op('POST', '/operator/v1/reconciliations', KEYS.settler, { date: today });
    expect(report.statusCode, report.body).toBe(200);
    const item = report.json().items.find((i: { movement_id: string }) => i.movement_id === id);
    expect(item).toMatchObject({ kind: 'verify_succeeded_ledger_behind', corrected: true, ledger: { status: 'processed' } });
    expect(report.json().counts.unexplained).toBe(0);
    expect((await c.ctx.store.getMovement(id))!.status).toBe('processed');
    expect(await c.ctx.store.settlement.obligationOfMovement(id)).toMatchObject({ state: 'due', currency: 'USD', amount_minor: 14 });
    const audit = (await op('GET', '/operator/v1/audit?action=reconciliation_corrected', KEYS.viewer)).json();
    expect(audit.items[0]).toMatchObject({ actor: 'ops', action: 'reconciliation_corrected', target: id });
    // a second run finds it matched and adds no second obligation
    const again = (await op('POST', '/operator/v1/reconciliations', KEYS.settler, { date: today })).json();
    expect(again.items.find((i: { movement_id: string }) => i.movement_id === id)).toMatchObject({ kind: 'matched' });
    expect(await c.ctx.store.db.selectFrom('obligations').select('id').where('movement_id', '=', id).execute()).toHaveLength(1);
  });

  it('the daily run reconciles yesterday once, whichever instance asks first (a lease per day)', async () => {
    expect(await c.runDailyReconciliation()).toBe('ran');
    expect(await c.runDailyReconciliation()).toBe('taken');
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect((await op('GET', `/operator/v1/reconciliations/${yesterday}`, KEYS.viewer)).json()).toMatchObject({ date: yesterday, ran_by: 'scheduler', counts: { unexplained: 0 } });
  });

  it('the summary and the audit log answer', async () => {
    const summary = await op('GET', '/operator/v1/summary', KEYS.viewer);
    expect(summary.statusCode, summary.body).toBe(200);
    expect(summary.json()).toMatchObject({ circuit: 'closed', movements_today: { by_status: { processed: expect.any(Number) } } });
  });
});

describe('operator settings', () => {
  it('parses name:role:key and names bad entries without echoing keys', () => {
    const problems: string[] = [];
    const keys = parseOperatorKeys('a:viewer:0123456789abcdef0,b:boss:0123456789abcdef1,a:settler:short', problems);
    expect(keys.map((k) => k.name)).toEqual(['a']);
    expect(problems.join('\n')).toMatch(/entry 2: the role/);
    expect(problems.join('\n')).toMatch(/entry 3: the name a is used twice/);
    expect(problems.join('\n')).not.toContain('0123456789abcdef1');
    expect(matchKey('Bearer 0123456789abcdef0', keys)?.name).toBe('a');
    expect(matchKey('Bearer 0123456789abcdef', keys)).toBeUndefined();
    expect(matchKey('0123456789abcdef0', keys)).toBeUndefined();
  });

  it('production refuses an operator listener without keys', () => {
    const production = {
      NODE_ENV: 'production', KASISTO_SECRET: 'a'.repeat(20), VERIFY_BASE_URL: 'https://verify.example', VERIFY_SECRET_KEY: 'sk_live_x', VERIFY_PUBLIC_KEY: 'pk_live_x',
      CREDENTIALS_KEY: '0f'.repeat(32), METRICS_TOKEN: 'm'.repeat(16), TLS_TERMINATED_BY_PROXY: 'true',
    };
    expect(() => loadConfig({ ...production, OPERATOR_PORT: '9000' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...production, OPERATOR_PORT: '9000' })).toThrow(/OPERATOR_API_KEYS is required in production/);
    expect(loadConfig({ ...production, OPERATOR_PORT: '9000', OPERATOR_API_KEYS: 'ops:settler:0123456789abcdef' }).operator.keys).toHaveLength(1);
    expect(loadConfig(production).operator.port).toBeUndefined();
  });
});
