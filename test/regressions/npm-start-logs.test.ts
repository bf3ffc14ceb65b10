/**
 * Log inspection of what `npm start` runs (src/server.ts) with no configuration but a
 * temporary SQLite file: a hostile conversation over real HTTP, then the whole captured
 * output is read. Apart from the development banner (which prints the dev secret, as
 * README and DESIGN promise), every line is JSON, request lines carry request_id, and no
 * secret, token, password, OTP, answer, Verify key, credentials key, username or full
 * IBAN / account number appears anywhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send, startProcess, stopAll, tempDir, type Running } from '../helpers/processes.js';

const temp = tempDir('review-npm-start-');
let server: Running;
let base = '';
let secret = '';
const tokens: string[] = [];
const WRONG_OTP = '918273';
const BANNER = [/^Kasisto connector listening on /, /^Verify: embedded sandbox at /, /^Development secret \(send it as the 'secret' header\): /, /^settings: /];

async function call(operation: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await send(`${base}/api/${operation}`, { method: 'POST', headers: { secret, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const json = res.body ? (JSON.parse(res.body) as Record<string, unknown>) : undefined;
  if (typeof json?.['token'] === 'string') tokens.push(json['token']);
  if (typeof res.headers['token'] === 'string') tokens.push(res.headers['token']);
  return { ...res, json };
}

beforeAll(async () => {
  server = startProcess('src/server.ts', { PORT: '0', DATABASE_URL: `sqlite:${join(temp.dir, 'connector.db')}` });
  base = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  secret = (await server.waitFor(/Development secret \(send it as the 'secret' header\): (\S+)/))[1]!;

  const signIn = await call('token', { username: 'test_transfer_otp', password: 'test_pass' }, { request_id: 'review-req-1' });
  expect(signIn.status).toBe(200);
  const userId = signIn.json!['user_id'] as string;
  const token = signIn.json!['token'] as string;
  const accounts = (await call('accounts', { user_id: userId }, { token })).json as unknown as { account_id: string; currency_code: string }[];
  const aed = accounts.find((a) => a.currency_code === 'AED')!;
  const usd = accounts.find((a) => a.currency_code === 'USD')!;
  const transfer = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1.25 };
  expect((await call('transfer', transfer, { token })).status).toBe(450);
  expect((await call('validate_otp', { user_id: userId, otp: WRONG_OTP }, { token })).status).toBe(451);
  const otp = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
  expect(otp.status).toBe(200);
  expect((await call('transfer', transfer, { token: otp.json!['token'] as string })).status).toBe(200);
  // hostile odds and ends
  expect((await call('transfer', { ...transfer, amount: 0.001 }, { token })).status).toBe(400);
  expect((await call('accounts', { user_id: userId }, { token, 'content-type': 'text/plain' })).status).toBe(400);
  expect((await call('accounts', { user_id: 'usr_someone_else' }, { token })).status).toBe(403);
  expect((await call('token', { username: 'test', password: 'wrong-password' })).status).toBe(403);
  expect((await call('token', '{"username":', {})).status).toBe(400);
  expect((await call('accounts', { user_id: userId }, { secret: 'wrong', token })).status).toBe(401);
  const questions = await call('token', { username: 'test_questions', password: 'test_pass' });
  expect((await call('validate_otp', { user_id: questions.json!['user_id'], otp: 'ruby|vim' }, { token: questions.json!['token'] as string })).status).toBe(200);

  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});
afterAll(async () => {
  await stopAll();
  temp.remove();
});

it('writes JSON lines only, besides the development banner', () => {
  const lines = server.stdout().split('\n').filter(Boolean);
  const other = lines.filter((line) => !line.startsWith('{'));
  expect(other.every((line) => BANNER.some((pattern) => pattern.test(line))), other.join('\n')).toBe(true);
  for (const line of lines.filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line), line).not.toThrow();
  expect(server.stderr()).toBe('');
});

it('puts request_id on every line about a request', () => {
  const json = server
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const requestLines = json.filter((l) => l['req'] || l['res'] || l['user_id'] || l['movement']);
  expect(requestLines.length).toBeGreaterThan(20);
  for (const line of requestLines) expect(line['request_id'], JSON.stringify(line)).toBeTruthy();
  expect(json.some((l) => l['request_id'] === 'review-req-1')).toBe(true);
});

it('leaves no secret or personal data in the output', () => {
  const devSecrets = JSON.parse(readFileSync(join(temp.dir, 'dev-secrets.json'), 'utf8')) as { kasistoSecret: string; credentialsKey: string };
  expect(devSecrets.kasistoSecret).toBe(secret);
  // the banner prints the dev secret once by design; nothing else may carry it
  const output = (server.stdout() + server.stderr())
    .split('\n')
    .filter((line) => !BANNER[2]!.test(line))
    .join('\n');
  const forbidden = [
    secret,
    devSecrets.credentialsKey,
    ...tokens,
    'test_pass',
    'wrong-password',
    WRONG_OTP,
    'ruby|vim',
    'sk_test_',
    'pk_test_',
    'test_transfer_otp',
    'test_questions',
    'AE070331234567890123456', // the sandbox's AED IBAN
    '1234567890123456', // its account number
  ];
  expect(tokens.length).toBeGreaterThan(2);
  for (const value of forbidden) expect(output.includes(value), `output contains ${value.slice(0, 12)}…`).toBe(false);
});
