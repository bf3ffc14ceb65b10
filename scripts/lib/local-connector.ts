/**
 * Starts a real connector in this process (tests, benchmarks, demos): its own SQLite file (or the PostgreSQL database the
 * CI set up), the embedded Verify sandbox on loopback, a known secret. Calls go through
 * `app.inject` unless a test listens for real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { startConnector, type Connector, type StartOptions } from '../../src/runtime.js';

export const TEST_SECRET = 'test-secret-0123456789abcdef';
export const TEST_CREDENTIALS_KEY = '0f'.repeat(32);

export interface TestConnector extends Connector {
  call(operation: string, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  signIn(username?: string): Promise<{ userId: string; token: string }>;
  close(): Promise<void>;
}

export async function startTestConnector(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestConnector> {
  const dir = mkdtempSync(join(tmpdir(), 'connector-test-'));
  const config = loadConfig({
    KASISTO_SECRET: TEST_SECRET,
    CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
    DATABASE_URL: `sqlite:${join(dir, 'connector.db')}`,
    LOG_LEVEL: 'silent',
    VERIFY_TIMEOUT_MS: '1500',
    // Suites sign the sandbox's few test customers in hundreds of times a minute, and some on
    // purpose with wrong passwords or codes; the per-customer limits have suites of their own.
    SIGNIN_ATTEMPTS_PER_WINDOW: '10000',
    CUSTOMER_MAX_FAILURES: '100',
    ...env,
  });
  const connector = await startConnector(config, { reconcileEveryMs: 0, ...options });
  const call = (operation: string, body: unknown, headers: Record<string, string> = {}) =>
    connector.app.inject({
      method: 'POST',
      url: `${config.basePath}/${operation}`,
      headers: { 'content-type': 'application/json', secret: TEST_SECRET, ...headers },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    ...connector,
    call,
    async signIn(username = 'test') {
      const res = await call('token', { username, password: 'test_pass' });
      if (res.statusCode !== 200) throw new Error(`sign-in of ${username} answered ${res.statusCode}: ${res.body}`);
      const body = res.json() as { user_id: string; token: string };
      return { userId: body.user_id, token: body.token };
    },
    async close() {
      await connector.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
