/**
 * The embedded sandbox keeps its state beside the development database: after a restart the
 * balances still show yesterday's debits and reference numbers go on (issue: after a
 * restart /accounts showed 10 AED again beside the ledger's debits, and two entries had
 * the same reference). `npm run sandbox:reset` starts over.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';
import { ROOT } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
const env = { DATABASE_URL: `sqlite:${join(dir, 'connector.db')}` };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function transferOnce(c: TestConnector, amount: number) {
  const { userId, token } = await c.signIn('test');
  const accounts = (await c.call('accounts', { user_id: userId }, { token })).json() as { account_id: string; currency_code: string; available_balance: number }[];
  const aed = accounts.find((a) => a.currency_code === 'AED')!;
  const usd = accounts.find((a) => a.currency_code === 'USD')!;
  const res = await c.call('transfer', { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount }, { token });
  expect(res.statusCode, res.body).toBe(200);
  const after = (await c.call('accounts', { user_id: userId }, { token })).json() as typeof accounts;
  return { balanceBefore: aed.available_balance, balanceAfter: after.find((a) => a.currency_code === 'AED')!.available_balance, reference: res.json().reference_number as string };
}

describe('the embedded sandbox across restarts', () => {
  it('keeps balances and reference numbers consistent with the ledger, in a file only its owner reads', async () => {
    let c = await startTestConnector(env);
    // (different amounts: an identical transfer within the retry window would be the same one)
    const first = await transferOnce(c, 1.25);
    await c.close();
    const file = join(dir, 'sandbox-state.json');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    c = await startTestConnector(env);
    try {
      const second = await transferOnce(c, 1.5);
      expect(second.balanceBefore, 'the balance after the restart still shows the first debit').toBe(first.balanceAfter);
      expect(second.reference).not.toBe(first.reference);
    } finally {
      await c.close();
    }
  });

  it('npm run sandbox:reset starts it over', async () => {
    const reset = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/sandbox-reset.ts'], { cwd: ROOT, env: { ...process.env, ...env, ENV_FILE: '/dev/null' }, encoding: 'utf8' });
    expect(reset.status, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/Removed .*sandbox-state\.json/);
    const c = await startTestConnector(env);
    try {
      const fresh = await transferOnce(c, 2);
      expect(fresh.balanceBefore, 'refilled').toBe(10);
    } finally {
      await c.close();
    }
  });
});
