/**
 * Graceful shutdown of the real server process: on SIGTERM it stops accepting connections,
 * finishes the request in flight (made slow by a latency fault in a standalone Verify
 * sandbox, driven through its control endpoint), closes the store and exits 0.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send, startProcess, stopAll, tempDir, TEST_CREDENTIALS_KEY, TEST_SECRET, type Running } from '../helpers/processes.js';

const temp = tempDir('hardening-shutdown-');
const VERIFY_LATENCY_MS = 2_500;
let sandboxUrl = '';
let server: Running;
let base = '';

beforeAll(async () => {
  const sandbox = startProcess('src/sandbox/main.ts', { SANDBOX_PORT: '0', SANDBOX_CONTROL: 'true', LOG_LEVEL: 'warn' });
  sandboxUrl = (await sandbox.waitFor(/Verify sandbox listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  server = startProcess('src/server.ts', {
    PORT: '0',
    DATABASE_URL: `sqlite:${join(temp.dir, 'connector.db')}`,
    KASISTO_SECRET: TEST_SECRET,
    CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
    VERIFY_BASE_URL: sandboxUrl,
    VERIFY_SECRET_KEY: 'sk_test_shutdown',
    VERIFY_PUBLIC_KEY: 'pk_test_shutdown',
    VERIFY_TIMEOUT_MS: '10000',
    VERIFY_BUDGET_MS: '20000', // the in-flight request is slow on purpose
    ACCOUNTS_CACHE_SECONDS: '0',
    LOG_LEVEL: 'info',
  });
  base = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
});
afterAll(async () => {
  await stopAll();
  temp.remove();
});

/** 'refused' once nothing listens on the port any more. */
function tryConnect(port: number): Promise<'connected' | 'refused' | 'other'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'other'));
  });
}

it('finishes the request in flight, refuses new connections and exits 0 on SIGTERM', async () => {
  const signIn = await send(`${base}/api/token`, { method: 'POST', headers: { secret: TEST_SECRET }, body: JSON.stringify({ username: 'test', password: 'test_pass' }) });
  expect(signIn.status, signIn.body).toBe(200);
  const { user_id: userId, token } = JSON.parse(signIn.body) as { user_id: string; token: string };

  const fault = await send(`${sandboxUrl}/__sandbox/faults/listBankAccounts`, { method: 'PUT', body: JSON.stringify({ latencyMs: VERIFY_LATENCY_MS }) });
  expect(fault.status, fault.body).toBe(200);

  const started = Date.now();
  let answeredAt = 0;
  const slow = send(`${base}/api/accounts`, { method: 'POST', headers: { secret: TEST_SECRET, token }, body: JSON.stringify({ user_id: userId }), timeoutMs: 30_000 }).then((res) => {
    answeredAt = Date.now();
    return res;
  });
  // in flight: the connector has received it (and is waiting on the slow Verify)
  await server.waitFor(/"url":"\/api\/accounts".*"msg":"incoming request"/, 10_000);
  server.child.kill('SIGTERM');
  await server.waitFor(/shutting down/, 10_000);

  const port = Number(new URL(base).port);
  let refusedAt = 0;
  while (Date.now() - started < 20_000) {
    const outcome = await tryConnect(port);
    if (outcome === 'refused') {
      refusedAt = Date.now();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(refusedAt, 'new connections were never refused').toBeGreaterThan(0);

  const res = await slow;
  expect(res.status, res.body).toBe(200);
  expect(JSON.parse(res.body)).toHaveLength(3);
  expect(answeredAt - started).toBeGreaterThanOrEqual(VERIFY_LATENCY_MS - 100);
  // refused while the slow request was still being served
  expect(refusedAt).toBeLessThan(answeredAt);

  const { code } = await server.exited;
  expect(code).toBe(0);
  expect(server.stdout()).toMatch(/"msg":"stopped"/);
  expect(server.stderr()).toBe('');
});
