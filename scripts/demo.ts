/**
 * `npm run demo`: starts the connector with its embedded Verify sandbox (a throwaway SQLite
 * file) and plays the conversation Kasisto's platform would have with it, over real HTTP:
 * token → customer → accounts → a transfer that needs an OTP (450) → /validate_otp →
 * the platform's retry → transactions. Each call and answer is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startConnector } from '../src/runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'connector-demo-'));
const secret = 'demo-secret-do-not-use-in-production';
const config = loadConfig({
  ...process.env,
  KASISTO_SECRET: secret,
  CREDENTIALS_KEY: 'ab'.repeat(32),
  DATABASE_URL: `sqlite:${join(dir, 'demo.db')}`,
  LOG_LEVEL: 'warn',
  VERIFY_BASE_URL: '',
});
const connector = await startConnector(config, { reconcileEveryMs: 0 });
const base = await connector.app.listen({ host: '127.0.0.1', port: 0 });
const color = process.stdout.isTTY ? (code: number, text: string) => `\x1b[${code}m${text}\x1b[0m` : (_: number, text: string) => text;

let token = '';
async function call(operation: string, body: Record<string, unknown>, note: string) {
  process.stdout.write(`\n${color(1, `▶ ${note}`)}\n  POST /api/${operation} ${JSON.stringify(body)}\n`);
  const res = await fetch(`${base}/api/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', secret, ...(token ? { token } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const rotated = res.headers.get('token');
  const shown = text.replace(/"token":"[^"]+"/g, '"token":"…"');
  process.stdout.write(`  ${color(res.ok ? 32 : 33, String(res.status))} ${shown}\n`);
  if (rotated) {
    process.stdout.write('  (token header: a rotated token; the platform uses it from now on)\n');
    token = rotated;
  }
  return { status: res.status, body: JSON.parse(text) };
}

try {
  process.stdout.write(`Connector at ${base}/api, Verify sandbox at ${connector.sandboxUrl}\n`);
  const signIn = await call('token', { username: 'test_transfer_otp', password: 'test_pass' }, 'The customer signs in (a sandbox user whose transfers need an SMS code)');
  token = signIn.body.token;
  const userId = signIn.body.user_id as string;
  await call('customer', { user_id: userId }, 'Who is this customer?');
  const accounts = await call('accounts', { user_id: userId }, 'What are my balances?');
  const aed = accounts.body.find((a: { currency_code: string }) => a.currency_code === 'AED');
  const usd = accounts.body.find((a: { currency_code: string }) => a.currency_code === 'USD');
  const transfer = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 2.5, currency_code: 'AED' };
  const first = await call('transfer', transfer, 'Move 2.50 AED to my USD savings — the bank wants a one-time password (450)');
  if (first.status !== 450) throw new Error('expected 450');
  const otp = await call('validate_otp', { user_id: userId, otp: '1234' }, 'The customer types the SMS code 1234');
  token = otp.body.token;
  await call('transfer', transfer, "The platform retries the original call with the new token: the same transfer, not a second one");
  await call('transfer', transfer, 'A network retry of the same call returns the same transfer again');
  await call('accounts', { user_id: userId }, 'Balances right after the movement (7.50 AED left)');
  await call('transactions', { user_id: userId, limit: 10 }, 'Recent transactions');
  const calls = connector.sandbox?.stats;
  if (calls) process.stdout.write(`\nVerify calls made for this conversation: ${JSON.stringify(calls.total ?? calls)}\n`);
} finally {
  await connector.stop();
  rmSync(dir, { recursive: true, force: true });
}
