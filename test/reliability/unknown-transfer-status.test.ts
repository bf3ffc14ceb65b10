/**
 * Verify adds a transfer status the connector's spec does not list (issue 12). The answer is
 * drift, not failure: the movement stays pending (transfer_requested; Kasisto is told
 * `pending`), the circuit stays closed, and reconciliation settles it once Verify gives a
 * known outcome: processed, debited once.
 *
 * The sandbox only sends spec statuses, so an onSend hook rewrites every transfer it answers
 * to `processing` while `processing` is on (the bank has already acted: the test customer's
 * transfers succeed at once).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reconcile } from '../../src/domain/movements/reconcile.js';
import { buildSandbox, type Sandbox } from '../../src/sandbox/app.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';
import { kasistoResponseCheck } from '../helpers/kasisto-contract.js';

const checked = kasistoResponseCheck();
let sandbox: Sandbox;
let c: TestConnector;
let dir: string;
let processing = false;

beforeAll(async () => {
  sandbox = await buildSandbox();
  sandbox.app.addHook('onSend', async (_request, reply, payload) => {
    if (!processing || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    const body = JSON.parse(payload) as unknown;
    const rewrite = (t: unknown) =>
      t && typeof t === 'object' && (t as { object?: unknown }).object === 'transfer' ? { ...t, status: 'processing' } : t;
    return JSON.stringify(Array.isArray(body) ? body.map(rewrite) : rewrite(body));
  });
  const url = await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'unknown-status-'));
  c = await startTestConnector({
    DATABASE_URL: `sqlite:${join(dir, 'c.db')}`,
    VERIFY_BASE_URL: url,
    VERIFY_SECRET_KEY: 'sk_test_unknown_status',
    VERIFY_PUBLIC_KEY: 'pk_test_unknown_status',
    // one contract failure would open it: drift must not count as one
    CIRCUIT_FAILURE_THRESHOLD: '1',
  });
});
afterAll(async () => {
  await c?.close();
  await sandbox?.app.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The bank's balances of the test customer, from the sandbox's own state. */
function balances(): Record<string, number> {
  const session = sandbox.state.createSession({ currency: 'AED', amount: 1 });
  sandbox.state.login(session.id, { bank_id: 'test_bank', credentials: { login: 'test', password: 'test_pass' } });
  return Object.fromEntries(sandbox.state.listBankAccounts(session.id).map((a) => [a.currency, a.balance]));
}

async function driftCount(): Promise<number> {
  const { body } = await c.metrics.render();
  const m = body.match(/^verify_contract_drift_total\{operation="createTransfer",kind="unknown_enum"\} (\d+)$/m);
  return m ? Number(m[1]) : 0;
}

it('a transfer status Verify added leaves the movement pending and the circuit closed; reconciliation settles it once', async () => {
  const { userId, token } = await c.signIn('test');
  const listed = await c.call('accounts', { user_id: userId }, { token });
  expect(listed.statusCode, listed.body).toBe(200);
  const accounts = listed.json() as Array<{ account_id: string; currency_code: string }>;
  const source = accounts.find((a) => a.currency_code === 'AED')!;
  const dest = accounts.find((a) => a.currency_code === 'USD')!;
  const body = { user_id: userId, source_account_id: source.account_id, dest_account_id: dest.account_id, amount: 0.37 };
  const before = balances();

  processing = true;
  const first = await c.call('transfer', body, { token });
  checked('transfer', first);
  expect(first.statusCode, first.body).toBe(200);
  expect(first.json()).toMatchObject({ status: 'pending' });
  expect(c.circuit.state).toBe('closed');
  expect(await driftCount()).toBe(1);
  const [row] = await c.ctx.store.db.selectFrom('movements').selectAll().where('amount_minor', '=', 37).execute();
  expect(row).toMatchObject({ status: 'transfer_requested', verify_status: 'processing' });
  expect(row!.verify_transfer_id).toMatch(/^tr_/);

  // Verify still says `processing`: reconciliation asks, and leaves it as it is
  await reconcile(c.ctx);
  expect(await c.ctx.store.getMovement(row!.id)).toMatchObject({ status: 'transfer_requested' });
  expect(c.circuit.state).toBe('closed');

  // Verify now answers the outcome: processed, and the platform's retry answers the same transfer
  processing = false;
  await reconcile(c.ctx);
  expect(await c.ctx.store.getMovement(row!.id)).toMatchObject({ status: 'processed', verify_status: 'succeeded', verify_transfer_id: row!.verify_transfer_id });
  const retry = await c.call('transfer', body, { token });
  checked('transfer', retry);
  expect(retry.statusCode, retry.body).toBe(200);
  expect(retry.json()).toMatchObject({ status: 'processed', transfer_id: first.json().transfer_id });
  expect(before.AED! - balances().AED!, 'debited exactly once').toBe(37);
  expect(sandbox.stats.calls.createTransfer, 'createTransfer sent once').toBe(1);
  expect(c.circuit.state).toBe('closed');
});
